"""The tap stream and its conversion to chunks: property tests of every format involved.

* every Engine.IO packet a tap reports, framed by :mod:`ioproto_tap.framing` for any
  transport, revision, base64 or JSONP setting, decodes back to that very packet in the
  real Engine.IO layer;
* the line splitter gives the same lines however the stream is cut, and never holds more
  than its limit;
* :func:`ioproto_tap.wire.loads` turns any bytes into a record or a ``BadRecord``, nothing
  else, and a record written by the tap's sender reads back as it was.
"""

from __future__ import annotations

import contextlib
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_engineio.decoder import EngineIOStream
from ioproto_engineio.records import EngineIOPacket
from ioproto_http.records import Chunk, ReportedEnd
from ioproto_tap import framing, wire
from ioproto_tap.chunks import TapChunker
from ioproto_tap.sender import as_record

from ioproto.components import DecodeContext
from ioproto.model import ErrorRecord
from ioproto.testing.strategies import chunked, mutated

TYPES = "123456"  # an open packet must hold a handshake: generated apart
# \x1e separates v4 polling packets: no Engine.IO packet can carry it on polling.
text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x1e"), max_size=40
)
handshake = '0{"sid":"s1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}'
text_packets = st.builds(lambda t, d: t + d, st.sampled_from(TYPES), text) | st.just(handshake)
packets = st.one_of(text_packets, st.binary(max_size=40))


def decoded(records: list[object]) -> list[tuple[str, object]]:
    out = []
    for record in records:
        assert not isinstance(record, ErrorRecord), record
        assert isinstance(record, EngineIOPacket)
        out.append((record.type, record.data))
    return out


def expected(packet: str | bytes) -> tuple[str, object]:
    if isinstance(packet, bytes):
        return ("message", packet)
    names = ["open", "close", "ping", "pong", "message", "upgrade", "noop"]
    if packet[0] == "0":
        return ("open", packet[1:])
    return (names[int(packet[0])], packet[1:])


def packet_record(packet: str, direction: str, transport: str, sid: str = "s1") -> dict[str, Any]:
    """A ``p`` record of session ``sid``."""
    return {"t": "p", "ts": 2.0, "sid": sid, "d": direction, "tr": transport, "p": packet}


def session(stream: EngineIOStream, chunker: TapChunker, revision: int, query: str, tr: str):
    chunker.feed(
        {
            "t": "open",
            "ts": 1.0,
            "sid": "s1",
            "tr": tr,
            "eio": revision,
            "req": {"m": "GET", "u": f"/socket.io/?EIO={revision}&transport={tr}{query}"},
            "rts": 0.5,
        },
        "test",
    )


@settings(max_examples=300)
@given(
    packet=packets,
    revision=st.sampled_from([3, 4]),
    transport=st.sampled_from(["polling", "websocket"]),
    direction=st.sampled_from(["c2s", "s2c"]),
    query=st.sampled_from(["", "&b64=1", "&j=3"]),
)
def test_a_framed_packet_decodes_back_to_itself(
    packet: str | bytes, revision: int, transport: str, direction: str, query: str
) -> None:
    chunker = TapChunker()
    session(EngineIOStream(DecodeContext()), chunker, revision, query, transport)
    record = {"t": "p", "ts": 2.0, "sid": "s1", "d": direction, "tr": transport, "p": packet}
    chunks = chunker.feed(record, "test")
    assert len(chunks) == 1 and isinstance(chunks[0], Chunk)
    chunk = chunks[0]
    assert chunk.sid is None  # the Engine.IO layer derives it from the URL
    assert chunk.http is not None
    assert chunk.http.query_value("sid") == "s1"
    assert chunk.http.query_value("transport") == transport
    assert chunk.http.query_value("EIO") == str(revision)
    assert chunk.tag("capture.via") == "tap"
    out = list(EngineIOStream(DecodeContext()).feed(chunk))
    assert decoded(out) == [expected(packet)]


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert framing.utf16_length("a\U0001f600") == 3
    assert framing.polling_body("4\U0001f600", 3, b64=False, jsonp=None) == "3:4😀".encode()


def test_the_handshake_response_carries_the_request_time() -> None:
    chunker = TapChunker()
    session(EngineIOStream(DecodeContext()), chunker, 4, "", "polling")
    first = chunker.feed(packet_record("0{}", "s2c", "polling"), "test")
    later = chunker.feed(packet_record("2", "s2c", "polling"), "test")
    assert first[0].http.request_ts == 0.5  # type: ignore[union-attr]
    assert later[0].http.request_ts is None  # type: ignore[union-attr]
    assert first[0].http.status is None  # only the wire knows it  # type: ignore[union-attr]


def test_the_session_table_stays_within_its_byte_budget() -> None:
    chunker = TapChunker(max_bytes=20_000)
    for index in range(200):
        chunker.feed(
            {
                "t": "open",
                "ts": 1.0,
                "sid": f"s{index}",
                "tr": "polling",
                "eio": 4,
                "req": {
                    "u": "/socket.io/?EIO=4&transport=polling",
                    "h": [("user-agent", "x" * 100)],
                },
                "rts": None,
            },
            "test",
        )
        assert chunker.session_bytes <= 20_000
    # a packet of a forgotten session still becomes a chunk, its URL facts only
    out = chunker.feed(packet_record("4x", "c2s", "websocket", sid="s0"), "test")
    assert isinstance(out[0], Chunk) and out[0].http is not None
    assert out[0].http.query_value("sid") == "s0" and out[0].http.headers == ()


def test_a_close_with_the_servers_reason_is_a_reported_end_on_the_latest_transport() -> None:
    chunker = TapChunker()
    session(EngineIOStream(DecodeContext()), chunker, 4, "", "polling")
    upgrade_request = {"m": "GET", "u": "/socket.io/?EIO=4&transport=websocket&sid=s1"}
    upgrade_request |= {"ra": "127.0.0.1:5001", "la": "127.0.0.1:3000"}
    upgrade = {"t": "upgrade", "ts": 1.5, "sid": "s1", "tr": "websocket", "req": upgrade_request}
    assert chunker.feed(upgrade, "test") == []
    (end,) = chunker.feed({"t": "close", "ts": 3.0, "sid": "s1", "reason": "ping timeout"}, "test")
    assert isinstance(end, ReportedEnd)
    assert (end.ts, end.reason) == (3.0, "ping timeout")
    assert end.connection == "127.0.0.1:5001-127.0.0.1:3000"
    assert end.http is not None and end.http.query_value("transport") == "websocket"
    assert end.http.query_value("sid") == "s1" and end.tag("capture.via") == "tap"
    # forgotten with it; a close without a reason (python-engineio before 4.11) says nothing
    assert chunker.session_bytes == 0
    assert chunker.feed({"t": "close", "ts": 3.0, "sid": "s2", "reason": None}, "test") == []


def test_a_close_of_a_session_the_tap_did_not_report_still_names_it() -> None:
    (end,) = TapChunker().feed({"t": "close", "ts": 3.0, "sid": "s9", "reason": "x"}, "test")
    assert isinstance(end, ReportedEnd) and end.connection == "tap:test"
    assert end.http is not None and end.http.query == (("sid", "s9"),)


lines = st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=12)


@given(lines=lines, data=st.data(), limit=st.integers(1, 40))
def test_the_line_splitter_gives_the_same_lines_however_the_stream_is_cut(
    lines: list[bytes], data: st.DataObject, limit: int
) -> None:
    stream = b"".join(line + b"\n" for line in lines)
    splitter = wire.LineSplitter(limit)
    got: list[bytes | None] = []
    for piece in data.draw(chunked(stream)):
        got.extend(splitter.feed(piece))
        assert splitter.pending <= limit
    assert got == [line if len(line) <= limit else None for line in lines]


record_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=6,
)
keys = st.sampled_from(["t", "ts", "sid", "d", "tr", "p", "v", "req", "eio", "n", "reason"])
kinds = st.sampled_from([*sorted(wire.KINDS), "nope"])
records = st.dictionaries(keys, record_values | kinds, max_size=8)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(value=records)
def test_any_json_value_is_a_record_or_a_bad_record(value: dict[str, object]) -> None:
    import orjson

    try:
        line = orjson.dumps(value)
    except TypeError:
        return
    try:
        checked = wire.loads(line)
    except wire.BadRecord as exc:
        assert exc.rule.startswith("collect.record.")
        return
    assert checked["t"] in wire.KINDS


@given(line=st.binary(max_size=200))
def test_any_bytes_are_a_record_or_a_bad_record(line: bytes) -> None:
    with contextlib.suppress(wire.BadRecord):
        wire.loads(line)


@given(packet=packets, sid=st.text(string.ascii_letters, min_size=1, max_size=20))
def test_what_the_sender_writes_reads_back_as_it_was(packet: str | bytes, sid: str) -> None:
    item = ("p", 12.5, sid, "s2c", "websocket", packet)
    line = wire.dumps(as_record(item, for_wire=True))
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert wire.loads(line[:-1]) == as_record(item, for_wire=False)


@given(data=st.data())
def test_a_mutated_record_never_escapes_as_an_exception(data: st.DataObject) -> None:
    item = ("p", 12.5, "abc", "c2s", "polling", data.draw(packets))
    line = wire.dumps(as_record(item, for_wire=True))[:-1]
    bad = data.draw(mutated(line))
    try:
        record = wire.loads(bad)
    except wire.BadRecord:
        return
    chunker = TapChunker()
    for produced in chunker.feed(record, "x"):
        assert isinstance(produced, Chunk | ErrorRecord)


@pytest.mark.parametrize("version", [0, 2, "1"])
def test_another_version_is_refused_by_the_collector_not_the_parser(version: object) -> None:
    import orjson

    line = orjson.dumps({"t": "hello", "v": version})
    if isinstance(version, int):
        assert wire.loads(line)["v"] == version
    else:
        with pytest.raises(wire.BadRecord):
            wire.loads(line)


def test_stats_say_http_errors_are_not_known_for_tap_sessions() -> None:
    from ioproto_stats.collector import StatsCollector
    from ioproto_stats.report import render_text

    from ioproto.pipeline import Pipeline

    chunker = TapChunker()
    session(EngineIOStream(DecodeContext()), chunker, 4, "", "polling")
    chunks = chunker.feed(packet_record(handshake, "s2c", "polling"), "test")
    pipeline = Pipeline.build(proto="socketio")
    stats = StatsCollector()
    for record in [*pipeline.feed(chunks[0]), *pipeline.close()]:
        stats.add(record)
    figures = stats.figures()
    assert figures["errors"]["http_unknown_sessions"] == 1
    assert "n/a" in render_text(figures)
