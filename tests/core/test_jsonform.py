"""The public JSON form of records."""

from __future__ import annotations

import json

from ioproto_http.records import Chunk, ChunkKind, HttpInfo

from ioproto import ErrorRecord, Packet, Tag, record_context
from ioproto.jsonform import dumps, dumps_line, from_jsonable, record_to_dict


def test_common_fields_come_first_and_bytes_are_base64() -> None:
    chunk = Chunk(ts=1.5, kind=ChunkKind.WS_BINARY, data=b"\x01\x02", connection="c")
    packet = Packet(
        **record_context(chunk), layer="engineio", type="message", data=b"\x01\x02", revision=4
    )
    obj = json.loads(dumps(packet))
    assert list(obj)[:7] == ["ts", "layer", "type", "direction", "sid", "transport", "connection"]
    assert obj["data"] == {"$bytes": "AQI="}
    assert obj["via"] == ["chunk"]
    assert "raw" not in obj
    assert from_jsonable(obj["data"]) == b"\x01\x02"


def test_tags_become_an_object() -> None:
    packet = Packet(ts=0.0, layer="x", type="y", tags=(Tag("a.b", 1), Tag("a.b", 2), Tag("c", "d")))
    assert record_to_dict(packet)["tags"] == {"a.b": 2, "c": "d"}


def test_error_records_keep_raw() -> None:
    error = ErrorRecord(ts=0.0, layer="engineio", rule="r", reason="bad", raw=b"\xff")
    obj = json.loads(dumps(error))
    assert obj["type"] == "error"
    assert obj["raw"] == {"$bytes": "/w=="}
    assert obj["rule"] == "r"


def test_lone_surrogates_do_not_break_the_line() -> None:
    packet = Packet(ts=0.0, layer="x", type="y", data="a\ud800b")
    line = dumps(packet)
    line.encode("utf-8")
    assert json.loads(line)["data"] == "a\ud800b"


def test_non_ascii_text_stays_readable() -> None:
    assert '"€"' in dumps(Packet(ts=0.0, layer="x", type="y", data="€"))


def test_http_info_is_an_object() -> None:
    chunk = Chunk(
        ts=0.0,
        kind=ChunkKind.HTTP_REQUEST,
        data=b"",
        http=HttpInfo(method="GET", path="/socket.io/", query=(("EIO", "4"),)),
    )
    obj = record_to_dict(chunk)
    assert obj["http"]["method"] == "GET"
    assert obj["http"]["query"] == [["EIO", "4"]]


def test_dumps_equals_the_documented_dict() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text() | st.binary(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )

    @given(json_values, st.lists(st.tuples(st.text(), json_values), max_size=3))
    def check(data: object, tags: list[tuple[str, object]]) -> None:
        packet = Packet(
            ts=1.0, layer="x", type="y", data=data, tags=tuple(Tag(n, v) for n, v in tags)
        )
        assert json.loads(dumps(packet)) == json.loads(json.dumps(record_to_dict(packet)))
        assert dumps_line(packet) == dumps(packet) + "\n"

    check()


def test_dumps_line_is_dumps_and_a_newline_on_every_path() -> None:
    for data in ("a\ud800b", 2**70, {1: "non-str key"}, b"\x00\xff", bytearray(b"ab"), "€"):
        packet = Packet(ts=0.0, layer="x", type="y", data=data)
        assert dumps_line(packet) == dumps(packet) + "\n"


def test_a_field_declared_when_set_is_written_only_when_set() -> None:
    """As ``notes``: a field added with ``WHEN_SET`` (the summary's ``resumed``) leaves the
    lines of the records without it as they were, here and in the text view."""
    from ioproto_classify.records import SessionSummary
    from ioproto_text.sink import format_record

    plain = SessionSummary(ts=1.0, sid="s")
    resumed = SessionSummary(ts=1.0, sid="s", resumed=True)
    assert "resumed" not in json.loads(dumps(plain))
    assert json.loads(dumps(resumed))["resumed"] is True
    assert list(json.loads(dumps(resumed)))[-1] == "resumed"
    assert dumps_line(resumed) == dumps(resumed) + "\n"
    assert "resumed" not in format_record(plain)
    assert "resumed=true" in format_record(resumed).lower()
