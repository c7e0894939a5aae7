"""The ``har`` source on a HAR that headless Chromium produced (tests/live/peers/record_har.py)
and on a hand-checked sample in Firefox's layout."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ioproto_engineio
import ioproto_engineio.decoder
import ioproto_har.number
import ioproto_har.ordering
import ioproto_har.source
import ioproto_har.spool
import ioproto_har.stream
import ioproto_har.text
import ioproto_socketio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_har.entry import NumberTooLong, TooLarge
from ioproto_har.longtext import Oversized
from ioproto_har.ordering import TimeOrder
from ioproto_har.source import HarSource
from ioproto_har.spool import Spool
from ioproto_http.records import Chunk, ChunkKind

import ioproto
from ioproto.components import Limits, SourceContext
from ioproto.errors import UsageError
from ioproto.model import ErrorRecord, InputSummary, Record
from ioproto.plugins import make_plugin_manager

DATA = Path(__file__).resolve().parents[1] / "data" / "har"
CHROMIUM_HAR = DATA / "chromium-socketio.har"
FIREFOX_HAR = DATA / "firefox-sample.har"


def read(path: Path, **options: str) -> list[Record]:
    """The HAR source's records, the Engine.IO layer saying which entries it wants."""
    wanted = ioproto_engineio.decoder.EngineIODecoder().accepts
    return but_the_end(HarSource().open(str(path), SourceContext(options=options, wanted=wanted)))


def but_the_end(records: Iterable[Record]) -> list[Record]:
    """``records`` less the last, the ``InputSummary`` that only marks the input's end (a
    HAR that gave records; one that gave none says why in its summary, which stays)."""
    given = list(records)
    last = given[-1]
    assert isinstance(last, InputSummary)
    if last.empty_reason is None:
        given.pop()
    return given


def test_a_har_that_gave_records_marks_its_end() -> None:
    records = list(HarSource().open(str(CHROMIUM_HAR), SourceContext()))
    end = records[-1]
    assert isinstance(end, InputSummary) and end.input == str(CHROMIUM_HAR)
    assert end.empty_reason is None and end.unreadable is None and end.counts["entries"] > 0
    assert end.ts == max(record.ts for record in records[:-1])
    assert not any(isinstance(record, InputSummary) for record in records[:-1])


def decode(records: list[Record]) -> list[Record]:
    pm = make_plugin_manager(load_entrypoints=False, plugins=[ioproto_engineio, ioproto_socketio])
    pipeline = ioproto.Pipeline.build(proto="socketio", plugin_manager=pm)
    out: list[Record] = []
    for record in records:
        out += pipeline.feed(record)
    return out + pipeline.close()


def test_probe() -> None:
    assert HarSource().probe(str(CHROMIUM_HAR)) > 1
    assert HarSource().probe("/nonexistent.har") < 0
    assert HarSource().probe("-") < 0


def test_chromium_har_chunks() -> None:
    records = read(CHROMIUM_HAR)
    chunks = [r for r in records if isinstance(r, Chunk)]
    assert not [r for r in records if isinstance(r, ErrorRecord)]
    assert [c.seq for c in chunks] == list(range(1, len(chunks) + 1))
    assert [c.ts for c in chunks] == sorted(c.ts for c in chunks)
    handshake = chunks[1]
    assert handshake.kind is ChunkKind.HTTP_RESPONSE and handshake.data.startswith(b'0{"sid"')
    assert all(c.http is not None and c.http.query_value("EIO") == "4" for c in chunks)
    engineio = [r for r in decode(records) if r.layer == "engineio"]
    sid = engineio[0].sid  # the Engine.IO layer learns it from `open`
    assert sid and all(r.sid == sid for r in engineio)
    kinds = {c.kind for c in chunks}
    assert {
        ChunkKind.HTTP_REQUEST,
        ChunkKind.HTTP_RESPONSE,
        ChunkKind.WS_TEXT,
        ChunkKind.WS_BINARY,
    } <= kinds
    binary = [c for c in chunks if c.kind is ChunkKind.WS_BINARY]
    assert [c.data for c in binary] == [b"\x01\x02\x03\xfa", b"\xfa\x03\x02\x01"]
    assert [c.direction for c in binary] == ["c2s", "s2c"]
    ws = [c for c in chunks if c.kind in (ChunkKind.WS_TEXT, ChunkKind.WS_BINARY)]
    assert ws[0].data == b"2probe" and ws[0].direction == "c2s"
    assert ws[0].http is not None and "HeadlessChrome" in (
        ws[0].http.request_header("user-agent") or ""
    )
    post = next(c for c in chunks if c.http is not None and c.http.method == "POST")
    assert post.direction == "c2s" and post.data == b"40"
    response = next(c for c in chunks if c.kind is ChunkKind.HTTP_RESPONSE)
    assert response.http is not None and response.http.status == 200
    assert response.ts >= (response.http.request_ts or 0)


def test_chromium_har_decodes_to_socketio() -> None:
    out = decode(read(CHROMIUM_HAR))
    assert not [r for r in out if isinstance(r, ErrorRecord)]
    events = [(r.direction, r.transport, r.data) for r in out if r.type == "EVENT"]
    assert ("c2s", "polling", ["echo", "over polling"]) in events
    assert ("c2s", "websocket", ["binary", b"\x01\x02\x03\xfa"]) in events
    assert any(r.type == "upgrade" for r in out)


def test_firefox_sample() -> None:
    records = read(FIREFOX_HAR)
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    assert [e.rule for e in errors] == ["har.websocket.no-messages"]
    chunks = [r for r in records if isinstance(r, Chunk)]
    ua = chunks[0].http.request_header("user-agent") if chunks[0].http else None
    assert ua is not None and "Firefox/128.0" in ua
    out = decode(records)
    # The Engine.IO layer tells the session, the upgrade without frames included.
    assert {r.sid for r in out} == {"q7yVhh3kHIN0Fk0AAAAB"}
    missing = next(r for r in out if isinstance(r, ErrorRecord))
    assert (missing.rule, missing.transport) == ("har.websocket.no-messages", "websocket")
    assert ("c2s", ["chat", "hi from firefox"]) in [
        (r.direction, r.data) for r in out if r.type == "EVENT"
    ]


NOT_A_HAR = [
    ("{}", 'it has no "log" object'),
    ("[]", 'it is a list; a HAR is an object with a "log" object'),
    ('"log"', 'it is a string; a HAR is an object with a "log" object'),
    ("null", 'it is null; a HAR is an object with a "log" object'),
    ('{"log": 3}', 'its "log" is a number, not an object'),
    ('{"log": [{"entries": []}]}', 'its "log" is a list, not an object'),
    ('{"log": {}}', 'its "log" object has no "entries" list'),
    ('{"log": {"entries": {}}}', 'its "log.entries" is an object, not a list'),
    ('{"log": {"entries": null}}', 'its "log.entries" is null, not a list'),
    ("", "the file is empty (0 bytes)"),
    ("<html>", "it is not JSON (expecting value at line 1, column 1)"),
    ('{"log": {}}\n{}', "it is not JSON (extra data at line 2, column 1)"),
    # (walked at any depth, as the entries are: a whole parse said 'nested too deep')
    ("[" * 100_000, "it is not JSON (expecting value at line 1, column 100001)"),
    ("[" * 100_000 + "]" * 100_000, 'it is a list; a HAR is an object with a "log" object'),
    ("   ", "it is not JSON (expecting value at line 1, column 4)"),
    (
        '{"log": 3, ',
        "it is not JSON (expecting property name enclosed in double quotes at line 1, column 12)",
    ),
    ('{"log": {"entries": []}} {', "it is not JSON (extra data at line 1, column 26)"),
    ('{"log": {"entries": [], "x": tru}}', "it is not JSON (expecting value at line 1, column 30)"),
    ('{"a": "\\q"}', "it is not JSON (invalid \\escape at line 1, column 8)"),
    ('\ufeff{"log": {}}', 'its "log" object has no "entries" list'),  # a BOM, as json reads it
]


@pytest.mark.parametrize(("content", "why"), NOT_A_HAR)
def test_a_file_that_is_no_har_says_what_is_wrong_in_words(
    tmp_path: Path, content: str, why: str
) -> None:
    path = tmp_path / "not.har"
    path.write_text(content)
    error, summary = read(path)
    assert isinstance(error, ErrorRecord) and error.rule == "har.file.invalid"
    assert error.reason == f"{path} is not a readable HAR: {why}"
    assert isinstance(summary, InputSummary)
    assert summary.unreadable == f"not a readable HAR: {why}"


def test_a_file_that_is_not_utf8_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "latin1.har"
    path.write_bytes('{"log": "caf\u00e9"}'.encode("latin-1"))
    _error, summary = read(path)
    assert isinstance(summary, InputSummary)
    assert summary.unreadable == "not a readable HAR: it is not JSON (its bytes are not UTF-8 text)"


def test_bad_input_becomes_error_records(tmp_path: Path) -> None:
    broken = tmp_path / "broken.har"
    broken.write_text("{not json")
    error, summary = read(broken)
    assert isinstance(error, ErrorRecord) and error.rule == "har.file.invalid"
    assert isinstance(summary, InputSummary)  # for the command's line on stderr, exit 1
    assert summary.unreadable is not None and summary.unreadable.startswith("not a readable HAR")
    with pytest.raises(UsageError, match="no such file"):
        read(tmp_path / "missing.har")
    odd = tmp_path / "odd.har"
    odd.write_text(
        json.dumps(
            {
                "log": {
                    "entries": [
                        "nope",
                        {"request": {"url": "http://h/socket.io/?EIO=4&transport=polling"}},
                        {
                            "startedDateTime": "2024-01-01T00:00:00Z",
                            "request": {
                                "url": "ws://h/socket.io/?EIO=4&transport=websocket",
                                "method": "GET",
                            },
                            "response": {"status": 101},
                            "_webSocketMessages": [
                                {
                                    "type": "receive",
                                    "time": 1704067200.5,
                                    "opcode": 2,
                                    "data": "!!!",
                                }
                            ],
                        },
                    ]
                }
            }
        )
    )
    rules = [r.rule for r in read(odd) if isinstance(r, ErrorRecord)]
    assert sorted(rules) == ["har.entry.invalid", "har.entry.invalid", "har.websocket.bad-base64"]


def test_a_revision_that_is_not_ascii_digits_is_unknown(tmp_path: Path) -> None:
    # "²" passes str.isdigit() but int() refuses it: it once crashed the HAR source.
    har = tmp_path / "odd-revision.har"
    url = "http://h/socket.io/?EIO=%C2%B2&transport=polling"
    entry = {
        "startedDateTime": "2024-01-01T00:00:00Z",
        "request": {"url": url, "method": "GET", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"text": '0{"sid":"s"}'}},
    }
    har.write_text(json.dumps({"log": {"entries": [entry]}}))
    out = decode(read(har))
    packets = [r for r in out if r.layer == "engineio" and not isinstance(r, ErrorRecord)]
    assert packets and all(r.revision == 4 for r in packets)  # the default


def test_a_bad_frame_costs_only_itself(tmp_path: Path) -> None:
    frames = [
        {"type": "receive", "time": 1704067200.5, "opcode": 1, "data": '0{"sid":"s"}'},
        {"type": "send", "time": "not a time", "opcode": 1, "data": "40"},
        {"type": "send", "time": 1704067200.7, "opcode": "x", "data": "40"},
        {"type": "send", "time": 1704067200.8, "opcode": 1, "data": '42["hi"]'},
    ]
    entry = {
        "startedDateTime": "2024-01-01T00:00:00Z",
        "request": {"url": "ws://h/socket.io/?EIO=4&transport=websocket", "method": "GET"},
        "response": {"status": 101},
        "_webSocketMessages": frames,
    }
    har = tmp_path / "bad-frame.har"
    har.write_text(json.dumps({"log": {"entries": [entry]}}))
    records = read(har)
    # a bad time costs only the time (the entry's start is used), a bad opcode the frame
    chunks = [(c.data, c.ts) for c in records if isinstance(c, Chunk)]
    assert chunks == [
        (b"40", 1704067200.0),
        (b'0{"sid":"s"}', 1704067200.5),
        (b'42["hi"]', 1704067200.8),
    ]
    bad = [r for r in records if isinstance(r, ErrorRecord)]
    assert [(r.rule, r.index) for r in bad] == [
        ("har.time.out-of-range", 1),
        ("har.websocket.bad-frame", 2),
    ]


def test_other_entries_skipped_unless_all() -> None:
    default = [r for r in read(CHROMIUM_HAR) if isinstance(r, Chunk)]
    everything = [r for r in read(CHROMIUM_HAR, all="true") if isinstance(r, Chunk)]
    assert len(everything) > len(default)
    assert all(c.http is not None and "/socket.io/" in (c.http.path or "") for c in default)


@pytest.mark.browser
@pytest.mark.node
@pytest.mark.slow
def test_record_har_with_real_chromium(tmp_path: Path) -> None:
    """Regenerate a HAR with headless Chromium and decode it (the committed one came so)."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        pytest.skip(
            f"no Chromium at {chromium}: `make install-test` installs Debian's chromium "
            "package, which needs root and apt"
        )
    import subprocess
    import sys

    out = tmp_path / "fresh.har"
    peers = Path(__file__).resolve().parent / "peers"
    done = subprocess.run(
        [sys.executable, "record_har.py", str(out)],
        cwd=peers,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    events = [r.data for r in decode(read(out)) if r.type == "EVENT"]
    assert ["binary", b"\x01\x02\x03\xfa"] in events


def _read_limited(har: Path, max_payload: int) -> list[Record]:
    """The HAR source's records under ``max_payload``."""
    wanted = ioproto_engineio.decoder.EngineIODecoder().accepts
    context = SourceContext(wanted=wanted, limits=Limits(max_payload=max_payload))
    return but_the_end(HarSource().open(str(har), context))


def _har(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    har = tmp_path / "limits.har"
    har.write_text(json.dumps({"log": {"entries": list(entries)}}))
    return har


def _websocket_entry(*texts: str) -> dict[str, Any]:
    frames = [
        {"type": "receive", "time": 1704067200.5 + n / 10, "opcode": 1, "data": text}
        for n, text in enumerate(texts)
    ]
    return {
        "startedDateTime": "2024-01-01T00:00:00Z",
        "request": {"url": "ws://h/socket.io/?EIO=4&transport=websocket", "method": "GET"},
        "response": {"status": 101},
        "_webSocketMessages": frames,
    }


def test_an_oversized_message_is_dropped_and_said_to_exceed_the_limit(tmp_path: Path) -> None:
    # It was cut to max_payload, then failed upstream as socketio.payload.bad-json.
    big = '42["big","' + "x" * 200 + '"]'
    har = _har(tmp_path, _websocket_entry('0{"sid":"s"}', "40", big, '42["after"]'))
    records = _read_limited(har, 64)
    assert [c.data for c in records if isinstance(c, Chunk)] == [
        b'0{"sid":"s"}',
        b"40",
        b'42["after"]',
    ]
    bad = [r for r in records if isinstance(r, ErrorRecord)]
    assert [(r.rule, r.index, r.direction) for r in bad] == [("har.websocket.too-large", 2, "s2c")]
    assert bad[0].reason == "frame 2: message of 212 bytes exceeds the limit of 64 bytes: dropped"
    out = decode(records)
    assert [r.rule for r in out if isinstance(r, ErrorRecord)] == ["har.websocket.too-large"]
    assert [r.event for r in out if r.layer == "socketio" and r.type == "EVENT"] == ["after"]


def test_an_oversized_body_is_dropped_and_said_to_exceed_the_limit(tmp_path: Path) -> None:
    big = '42["big","' + "x" * 200 + '"]'
    har = _har(tmp_path, _polling(1, big, "ok"), _polling(2, '42["after"]', big))
    records = _read_limited(har, 64)
    assert [c.data for c in records if isinstance(c, Chunk)] == [b"ok", b'42["after"]']
    bad = [r for r in records if isinstance(r, ErrorRecord)]
    assert [(r.rule, r.direction, r.reason) for r in bad] == [
        (
            "har.body.too-large",
            "c2s",
            "request body of 212 bytes exceeds the limit of 64 bytes: dropped",
        ),
        (
            "har.body.too-large",
            "s2c",
            "response body of 212 bytes exceeds the limit of 64 bytes: dropped",
        ),
    ]
    assert all(isinstance(r.parent, Chunk) and r.parent.data == b"" for r in bad)


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(0, 120), min_size=1, max_size=8), limit=st.integers(1, 100))
def test_a_message_is_never_cut(tmp_path_factory, sizes: list[int], limit: int) -> None:
    """Each message under the limit comes out whole, each over it as one error: none cut."""
    texts = ["4" + "m" * size for size in sizes]
    har = _har(tmp_path_factory.mktemp("cut"), _websocket_entry(*texts))
    records = _read_limited(har, limit)
    kept = [c.data.decode() for c in records if isinstance(c, Chunk)]
    dropped = [r.index for r in records if isinstance(r, ErrorRecord)]
    assert kept == [text for text in texts if len(text) <= limit]
    assert dropped == [n for n, text in enumerate(texts) if len(text) > limit]


def _har_of(entries: list[str], broken_after: int | None = None) -> str:
    """A HAR of the given entry texts, one a line; ``@@`` after entry ``broken_after``."""
    parts = list(entries)
    if broken_after is not None:
        parts[broken_after] += ",\n@@"
    return '{"log": {"version": "1.2", "entries": [\n' + ",\n".join(parts) + "\n]}}\n"


def test_json_that_breaks_after_some_entries_keeps_their_records(tmp_path: Path) -> None:
    """The file was parsed whole: one bad byte in the middle lost every entry. Read an entry
    at a time, the entries before the break give their records, then one error says where."""
    entries = [json.dumps(e) for e in json.loads(CHROMIUM_HAR.read_text())["log"]["entries"]]
    broken, first = tmp_path / "broken.har", tmp_path / "first.har"
    broken.write_text(_har_of(entries, broken_after=4))
    first.write_text(_har_of(entries[:5]))
    *records, error = read(broken)
    assert records == read(first) and records
    assert isinstance(error, ErrorRecord) and error.rule == "har.file.invalid"
    assert error.reason == (
        f"{broken} is not a readable HAR after its entry 4: it is not JSON (expecting value "
        "at line 7, column 1); the 5 entries before are read"
    )
    assert error.ts == max(record.ts for record in records)  # after them, at a time they have


def test_a_cut_file_says_where_it_stops(tmp_path: Path) -> None:
    text = CHROMIUM_HAR.read_text()
    cut = tmp_path / "cut.har"
    cut.write_text(text[: len(text) // 2])
    *records, error = read(cut)
    assert records and isinstance(error, ErrorRecord) and error.rule == "har.file.invalid"
    assert "it is not JSON (unterminated string starting at line" in error.reason


@pytest.mark.parametrize("size", [1, 2, 7, 64])
def test_what_is_wrong_is_said_alike_whatever_the_reads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, size: int
) -> None:
    """Values split across reads, and errors near a read's end, read as in one piece."""
    monkeypatch.setattr(ioproto_har.text, "_READ", size)
    for content, why in NOT_A_HAR:
        path = tmp_path / "not.har"
        path.write_text(content)
        error, _summary = read(path)
        assert isinstance(error, ErrorRecord)
        assert error.reason == f"{path} is not a readable HAR: {why}"
    assert read(CHROMIUM_HAR) == read_whole(CHROMIUM_HAR)


def read_whole(path: Path) -> list[Record]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ioproto_har.text, "_READ", 1 << 30)
        return read(path)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**120), max_value=10**120)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


#: Text with what a streamed string must get right: escapes, characters of 2, 3 and 4 UTF-8
#: bytes, halves of a surrogate pair (joined when escaped, as the decoder joins them), base64.
_STRINGS = st.text(
    st.sampled_from([*'aZ09+/="\\ \n\x01', "é", "€", "😀", "\ud83d", "\ude00"]), max_size=60
)
_BODY = st.fixed_dictionaries(
    {}, optional={"text": _STRINGS | _JSON, "encoding": st.just("base64")}
)
#: Members no decoder reads, left out as they are read.
_UNREAD = {"_initiator": _STRINGS | _JSON, "cookies": st.lists(_JSON, max_size=3)}
_MESSAGE = st.fixed_dictionaries(
    {"data": _STRINGS | _JSON}, optional={"opcode": st.just(2), "type": _STRINGS, **_UNREAD}
)
_HEADERS = st.lists(
    st.fixed_dictionaries({"name": _STRINGS, "value": _STRINGS}, optional=_UNREAD) | _JSON,
    max_size=5,
)
#: Entries whose members are those read as they come (in either order of keys).
_STREAMED = st.fixed_dictionaries(
    {},
    optional={
        "request": st.fixed_dictionaries(
            {"url": st.just("ws://h/") | _STRINGS},
            optional={"postData": _BODY, "headers": _HEADERS | _JSON, **_UNREAD},
        )
        | _JSON,
        "response": st.fixed_dictionaries({}, optional={"content": _BODY, "headers": _HEADERS})
        | _JSON,
        "_webSocketMessages": st.lists(_MESSAGE | _JSON, max_size=6) | _JSON,
        "startedDateTime": _STRINGS | _JSON,
        **_UNREAD,
    },
)
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


#: What the reading keeps of an entry: texts, messages, head values (or its start time).
_HEADER_SHAPE = ["head", {"name": "head", "value": "head"}]
_BODY_SHAPE = {"text": "text", "encoding": "head", "_encoding": "head"}
_ENTRY_SHAPE: dict[str, Any] = {
    **dict.fromkeys(("_resourceType", "connection", "serverIPAddress", "time"), "head"),
    "_webSocketMessages": "messages",
    "request": {"method": "head", "url": "head", "headers": _HEADER_SHAPE, "postData": _BODY_SHAPE},
    "response": {
        **{"status": "head", "statusText": "head", "headers": _HEADER_SHAPE},
        "content": _BODY_SHAPE,
    },
    "startedDateTime": "started",
    "timings": dict.fromkeys(("blocked", "dns", "connect", "send", "wait", "receive"), "head"),
}
_MESSAGE_SHAPE = {"data": "text", "type": "head", "time": "head", "opcode": "head"}


def _utf8(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _head_weight(value: Any) -> int:
    """64 bytes a value or key, and its strings' UTF-8 bytes."""
    if isinstance(value, str):
        return 64 + _utf8(value)
    if isinstance(value, list):
        return 64 + sum(map(_head_weight, value))
    if isinstance(value, dict):
        return 64 + sum(64 + _utf8(k) + _head_weight(v) for k, v in value.items())
    return 64


class _Long:
    """A number of ``size`` characters, longer than the reading parses, as :func:`_parsed`
    gives it."""

    def __init__(self, size: int) -> None:
        self.size = size


def _parsed(text: str, longest: int) -> Any:
    """``text`` as json.loads gives it (integers through the source's ``parse_int``), a
    number of more than ``longest`` characters as a :class:`_Long`."""

    def bounded(parse: Any) -> Any:
        return lambda number: _Long(len(number)) if len(number) > longest else parse(number)

    parse_int = bounded(ioproto_har.source._parse_int)
    return json.loads(text, parse_int=parse_int, parse_float=bounded(float))


def _until_long(value: Any) -> tuple[int, int | None]:
    """What the head value ``value`` weighs (:func:`_head_weight`) up to its first number
    too long to parse, that one included, and the number's length; its whole weight and
    ``None`` when it holds none."""
    if isinstance(value, _Long):
        return 64, value.size
    weight, items = 64, []
    if isinstance(value, str):
        return 64 + _utf8(value), None
    if isinstance(value, list):
        items = value
    elif isinstance(value, dict):
        for key, member in value.items():
            weight += 64 + _utf8(key)
            more, size = _until_long(member)
            weight += more
            if size is not None:
                return weight, size
        return weight, None
    for item in items:
        more, size = _until_long(item)
        weight += more
        if size is not None:
            return weight, size
    return weight, None


def _as_read(entry: Any, limit: int, head_limit: int) -> Any:
    """``entry`` as :func:`_parsed` gives it, with what the reading does applied: the members
    it does not read left out; the strings it reads past for ``limit`` as their sizes (more
    base64 than the limit, or over twice it in UTF-8); an entry (or message) whose other
    members weigh over ``head_limit`` bytes as a TooLarge naming the member, or whose head
    holds a number too long to parse before it does, as a NumberTooLong."""
    if not isinstance(entry, dict):
        return None

    def cap(value: str) -> Any:
        size = _utf8(value)
        base64_size = sum(c in _BASE64 for c in value) * 3 // 4
        return Oversized(size, base64_size) if base64_size > limit or size > 2 * limit else value

    def read(value: Any, shape: Any, head: dict[str, Any], where: str) -> Any:
        def take(weight: int, where: str) -> None:
            if head["over"] is None and weight > head["left"]:
                head["over"] = where
            elif head["over"] is None:
                head["left"] -= weight

        if head["over"] is not None:
            short = shape == "started" and isinstance(value, str) and _utf8(value) <= 64
            return value if short else None
        if shape == "text" and isinstance(value, str):
            return cap(value)
        if shape == "messages" and isinstance(value, list):
            return [whole(message, _MESSAGE_SHAPE, None) for message in value]
        if isinstance(shape, dict) and isinstance(value, dict):
            take(64, where)
            kept = {}
            for key, member in value.items():
                if key in shape:
                    inner = f"{where}.{key}" if where else key
                    take(64 + len(key), inner)
                    kept[key] = read(member, shape[key], head, inner)
            return kept
        if isinstance(shape, list) and isinstance(value, list):
            take(64, where)
            return [read(v, shape[1], head, f"{where}[{n}]") for n, v in enumerate(value)]
        weight, long_number = _until_long(value)
        take(weight, where)
        if long_number is not None and head["over"] is None:
            head["over"], head["number"] = where, long_number
        return value if head["over"] is None else None

    def whole(value: Any, shape: Any, started: str | None) -> Any:
        head: dict[str, Any] = {"left": head_limit, "over": None, "number": None}
        kept = read(value, shape, head, "")
        if head["over"] is None:
            return kept
        if started == "entry":
            started = kept.get("startedDateTime")
            started = started if isinstance(started, str) and _utf8(started) <= 64 else None
        if head["number"] is not None:
            return NumberTooLong(head["over"], head["number"], started)
        return TooLarge(head["over"], head_limit, started)

    return whole(entry, _ENTRY_SHAPE, "entry")


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(_STREAMED | _JSON, max_size=6),
    other=st.dictionaries(st.sampled_from(["version", "pages", "creator"]), _JSON, max_size=2),
    indent=st.sampled_from([None, 0, 1, 4]),
    ascii=st.booleans(),
    sort_keys=st.booleans(),
    size=st.integers(min_value=1, max_value=40),
    limit=st.integers(min_value=1, max_value=12),
    budget=st.integers(min_value=0, max_value=2000),
    head_limit=st.integers(min_value=0, max_value=3000),
    longest=st.integers(min_value=1, max_value=30) | st.just(ioproto_har.number.LONGEST),
)
def test_entries_read_one_at_a_time_are_those_a_whole_parse_gives(
    tmp_path_factory: pytest.TempPathFactory,
    entries: list[Any],
    other: dict[str, Any],
    indent: int | None,
    ascii: bool,
    sort_keys: bool,
    size: int,
    limit: int,
    budget: int,
    head_limit: int,
    longest: int,
) -> None:
    """Whatever the reads cut (``size`` characters at a time), the entries are those of
    json.loads: the members no decoder reads left out, the strings over ``limit`` read past
    as their sizes, an entry or message whose other members weigh over ``head_limit`` bytes
    or hold a number of more than ``longest`` characters dropped, the messages read one at a
    time through a spool (which writes them to disk past ``budget`` bytes)."""
    path = tmp_path_factory.mktemp("har") / "any.har"
    document = {"log": {**other, "entries": entries}}
    text = json.dumps(document, indent=indent, ensure_ascii=ascii, sort_keys=sort_keys)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    parsed = _parsed(text, longest)["log"]["entries"]
    want = [_as_read(entry, limit, head_limit) for entry in parsed]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ioproto_har.text, "_READ", size)
        patch.setattr(ioproto_har.spool, "BUDGET", budget)
        patch.setattr(ioproto_har.number, "LONGEST", longest)
        got = []
        for entry in ioproto_har.stream.read_entries(
            str(path), ioproto_har.source._parse_int, limit, head_limit
        ):
            messages = entry.get("_webSocketMessages") if isinstance(entry, dict) else None
            if isinstance(messages, Spool):
                entry["_webSocketMessages"] = list(messages)  # (valid until the next entry)
            got.append(entry)
    # NaN is no NaN's equal; its JSON text is.
    assert json.dumps(got, default=repr) == json.dumps(want, default=repr)


def _recording_reads(patch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the buffer after each read of the HAR reader, as it reads."""
    lengths: list[int] = []
    read = ioproto_har.text.Text._read

    def recorded(self: ioproto_har.text.Text, at_least: int = 0) -> bool:
        came = read(self, at_least)
        lengths.append(len(self.buffer))
        return came

    patch.setattr(ioproto_har.text.Text, "_read", recorded)
    return lengths


def test_a_body_over_the_limit_is_read_past_not_held(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A body's text was parsed whole, then dropped for max_payload: the entry's size set
    the memory. Past the limit it is read past: the buffer stays near twice the limit,
    and the body is said to be over the limit with its size, escapes counted as what they
    stand for."""
    text = '42["big","' + 'x\\"\\\\é' * 20_000 + '"]'  # 140,012 bytes; 300,012 in the file
    har = _har(tmp_path, _polling(1, "ok", text), _polling(2, '42["after"]', "ok"))
    monkeypatch.setattr(ioproto_har.text, "_READ", 1000)
    lengths = _recording_reads(monkeypatch)
    records = _read_limited(har, 4000)
    # Kept until over twice the limit in UTF-8: 8,000 bytes, 17,000 characters escaped.
    assert max(lengths) < 20_000
    assert [c.data for c in records if isinstance(c, Chunk)] == [b"ok", b'42["after"]', b"ok"]
    bad = [r for r in records if isinstance(r, ErrorRecord)]
    assert [(r.rule, r.direction, r.reason) for r in bad] == [
        (
            "har.body.too-large",
            "s2c",
            "response body of 140012 bytes exceeds the limit of 4000 bytes: dropped",
        )
    ]
    monkeypatch.undo()
    assert records == _read_limited(har, 4000)  # as when the entry is read whole


def test_a_text_of_escapes_is_held_as_what_it_stands_for(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A text all escapes (``\\u0001``: 6 characters for 1 byte) was kept in the read
    buffer until over twice the limit in UTF-8, 12 times the limit in characters: it is
    held decoded, so the buffer stays near a read's size, kept or read past."""
    kept, past = "\x01" * 3000, "\x01" * 20_000  # 18,000 and 120,000 characters in the file
    har = _har(tmp_path, _polling(1, kept, "ok"), _polling(2, past, "ok"))
    monkeypatch.setattr(ioproto_har.text, "_READ", 1000)
    lengths = _recording_reads(monkeypatch)
    records = _read_limited(har, 4000)
    assert max(lengths) < 3000  # (48,000 characters of escapes were held before)
    assert [c.data for c in records if isinstance(c, Chunk)] == [kept.encode(), b"ok", b"ok"]
    [error] = [r for r in records if isinstance(r, ErrorRecord)]
    assert error.reason == "request body of 20000 bytes exceeds the limit of 4000 bytes: dropped"
    monkeypatch.undo()
    assert records == _read_limited(har, 4000)  # as when the entry is read whole


@pytest.mark.parametrize("size", range(1, 14))
def test_a_string_read_past_is_measured_as_the_decoder_reads_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, size: int
) -> None:
    """Escapes cut by the reads, an escaped surrogate pair among them, count as what the
    decoder makes of them (a pair is one character of 4 bytes)."""
    text = '😀é\\"\\\\A\n' * 50
    har = tmp_path / "pairs.har"
    har.write_text(json.dumps({"log": {"entries": [_polling(1, text, "ok")]}}))
    monkeypatch.setattr(ioproto_har.text, "_READ", size)
    records = _read_limited(har, 10)
    [error] = [r for r in records if isinstance(r, ErrorRecord)]
    assert error.reason == (
        f"request body of {len(text.encode())} bytes exceeds the limit of 10 bytes: dropped"
    )


def test_a_long_websocket_entry_is_read_a_message_at_a_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Chrome writes a connection's every message in one entry, before the URL and the
    times they need: the messages are read one at a time into a spool that writes them to
    disk past its budget, and give the records of the entry read whole."""
    texts = ['0{"sid":"s"}', "40"] + [f'42["tick",{n}]' for n in range(2000)]
    entry = _websocket_entry(*texts)
    har = tmp_path / "ws.har"
    har.write_text(json.dumps({"log": {"entries": [entry]}}, sort_keys=True))
    whole = read(har)
    monkeypatch.setattr(ioproto_har.text, "_READ", 512)
    monkeypatch.setattr(ioproto_har.spool, "BUDGET", 10_000)
    lengths = _recording_reads(monkeypatch)
    spilled: list[int] = []
    write_run = ioproto_har.spool.write_run

    def counted(items: list[Any]) -> Any:
        spilled.append(len(items))
        return write_run(items)

    monkeypatch.setattr(ioproto_har.spool, "write_run", counted)
    records = read(har)
    assert records == whole and len(records) == 2002
    assert max(lengths) < 2000 and spilled


def _polling(second: int, sent: str, answer: str) -> dict[str, Any]:
    return {
        "startedDateTime": f"2024-01-01T00:00:0{second}Z",
        "request": {
            "url": "http://h/socket.io/?EIO=4&transport=polling&sid=s",
            "method": "POST",
            "postData": {"text": sent},
        },
        "response": {"status": 200, "content": {"text": answer}},
    }


@pytest.mark.parametrize("size", [7, 1000])
def test_json_that_breaks_in_a_long_entry_keeps_the_entries_before(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, size: int
) -> None:
    """A cut or a bad character inside a body read past, or in a message list read a
    message at a time, says what is wrong where it is, as when the entry is read whole."""
    first = json.dumps(_polling(1, "40", "ok"))
    long_body = json.dumps(_polling(2, "x" * 5000, "ok"))
    messages = json.dumps(_websocket_entry(*["40"] * 300), sort_keys=True)
    broken = {
        "cut body": long_body[:3000],
        "bad escape": long_body.replace("x" * 10, "x\\q", 1),
        "control character": long_body.replace("x" * 4000, "x" * 3990 + "\x01", 1),
        "cut messages": messages[:5000],
        "bad message": messages.replace('"40"', '"40', 250),
    }
    for name, second in broken.items():
        har = tmp_path / f"{name}.har"
        har.write_text('{"log": {"entries": [' + first + ",\n" + second)
        whole = _read_limited(har, 1000)
        with monkeypatch.context() as patch:
            patch.setattr(ioproto_har.text, "_READ", size)
            records = _read_limited(har, 1000)
        assert records == whole, name
        *before, error = records
        assert [c.data for c in before if isinstance(c, Chunk)] == [b"40", b"ok"], name
        assert isinstance(error, ErrorRecord) and error.rule == "har.file.invalid", name
        assert "after its entry 0: it is not JSON (" in error.reason, name


@settings(max_examples=100, deadline=None)
@given(times=st.lists(st.sampled_from([0.0, 1.5, 2.0, 3.25, 1e9]), max_size=300))
def test_records_in_time_order_through_runs_on_disk(times: list[float]) -> None:
    """Past its budget, the order is kept in sorted runs written to files and merged: the
    same order as a sort in memory, ties in the order added, the records the same."""
    records = [
        Chunk(ts=ts, connection=f"c{n}", kind=ChunkKind.WS_TEXT, data=b"x" * n)
        for n, ts in enumerate(times)
    ]
    with TimeOrder(budget=4000) as order:  # a run of about six records
        for record in records:
            order.add(record.ts, record)
        assert list(order) == sorted(records, key=lambda r: r.ts)


def test_records_stay_in_memory_when_no_run_can_be_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full disk (or no temporary directory) costs memory, not the order or the records."""

    def full(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ioproto_har.spool.tempfile, "TemporaryFile", full)
    records = [
        Chunk(ts=float(n % 7), connection=f"c{n}", kind=ChunkKind.WS_TEXT, data=b"x" * 100)
        for n in range(200)
    ]
    with TimeOrder(budget=1000) as order:
        for record in records:
            order.add(record.ts, record)
        assert list(order) == sorted(records, key=lambda r: r.ts)


def _hostile(where: str) -> dict[str, Any]:
    """A polling entry with 1.2 MB (or 30,000 headers) at ``where``."""
    entry = _polling(2, "40", "ok")
    request = entry["request"]
    big = "v" * 1_200_000
    if where == "url":
        request["url"] += "&x=" + big
    elif where == "a header":
        request["headers"] = [{"name": "Cookie", "value": big}]
    elif where == "headers":
        request["headers"] = [{"name": "x", "value": "v"}] * 30_000
    elif where == "_initiator":
        entry["_initiator"] = {"type": "script", "stack": [big]}
    elif where == "unread lists":
        request["queryString"] = [{"name": "q", "value": "v"}] * 30_000
        request["cookies"] = [{"name": "c", "value": big}]
        request["postData"]["params"] = [{"name": "p", "value": big}]
    return entry


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("url", "request.url"),
        ("a header", "request.headers[0].value"),
        ("headers", "request.headers[3164].value"),
        ("_initiator", None),
        ("unread lists", None),
    ],
)
def test_a_huge_member_of_an_entry_is_not_held(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, said: str | None
) -> None:
    """A huge string or list anywhere in an entry was parsed whole: the entry's size set the
    memory. A member no decoder reads is moved past; one that is read (the URL, a header)
    is weighed as it is read, and past 1 MiB the entry is one har.entry.too-large, the
    entries around it kept. The buffer stays near a read's size."""
    har = _har(tmp_path, _polling(1, "40", "ok"), _hostile(where), _polling(3, "41", "ok"))
    monkeypatch.setattr(ioproto_har.text, "_READ", 4096)
    lengths = _recording_reads(monkeypatch)
    records = _read_limited(har, 4000)
    assert max(lengths) < 20_000
    chunks = [c.data for c in records if isinstance(c, Chunk)]
    bad = [r for r in records if isinstance(r, ErrorRecord)]
    if said is None:  # (read as if the member were not there)
        assert chunks == [b"40", b"ok", b"40", b"ok", b"41", b"ok"] and not bad
    else:
        assert chunks == [b"40", b"ok", b"41", b"ok"]
        assert [(r.rule, r.ts, r.reason) for r in bad] == [
            (
                "har.entry.too-large",
                1704067202.0,
                "entry 1 is dropped: what it holds besides its bodies and WebSocket messages "
                f"(the URL, the headers, …) goes over the limit of 1048576 bytes at {said}",
            )
        ]
    monkeypatch.undo()
    with monkeypatch.context() as patch:
        patch.setattr(ioproto_har.text, "_READ", 1 << 30)
        assert _read_limited(har, 4000) == records  # as when the entry is read whole


_DIGITS = "9" * 1_000_000
_TOO_LONG = "holds a number of 1000000 characters, longer than any the source reads (65536)"


@pytest.mark.parametrize(
    ("where", "said"),
    [
        ("time", f"entry 1 could not be read: time {_TOO_LONG}"),
        ("a header", f"entry 1 could not be read: request.headers[0].value {_TOO_LONG}"),
        ("a header list", f"entry 1 could not be read: request.headers[0].value {_TOO_LONG}"),
        ("a fraction", f"entry 1 could not be read: timings.wait {_TOO_LONG}"),
        ("_initiator", None),
        ("cookies", None),
    ],
)
@pytest.mark.parametrize("size", [4096, 1 << 30])
def test_a_number_too_long_to_parse_is_read_past(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str, said: str | None, size: int
) -> None:
    """A number of a million digits was parsed whole, the read buffer grown to hold it (a
    200 MB one took 507 MB). It is read past: in a member the source reads, its entry is one
    har.entry.invalid; in one no decoder reads, it is moved past with the rest of it; the
    entries around it are kept, and the buffer stays near a read's size."""
    entry = _polling(2, "40", "ok")
    request = entry["request"]
    if where == "time":
        entry["time"] = "@@"
    elif where == "a header":
        request["headers"] = [{"name": "x", "value": "@@"}]
    elif where == "a header list":
        request["headers"] = [{"name": "x", "value": ["v", [1, "@@"]]}]
    elif where == "a fraction":
        entry["timings"] = {"wait": "@@"}
    elif where == "_initiator":
        entry["_initiator"] = {"stack": [1.5, "@@", -2]}
    else:
        request["cookies"] = [{"expires": "@@"}]
    number = {"a fraction": f"0.{_DIGITS[5:]}e-5"}.get(where, _DIGITS)
    har = _har(tmp_path, _polling(1, "41", "ok"), entry, _polling(3, "42", "ok"))
    har.write_text(har.read_text().replace('"@@"', number))
    monkeypatch.setattr(ioproto_har.text, "_READ", size)
    lengths = _recording_reads(monkeypatch)
    records = _read_limited(har, 4000)
    if size < len(number):
        assert max(lengths) < 100_000
    chunks = [c.data for c in records if isinstance(c, Chunk)]
    bad = [(r.rule, r.ts, r.reason) for r in records if isinstance(r, ErrorRecord)]
    if said is None:
        assert chunks == [b"41", b"ok", b"40", b"ok", b"42", b"ok"] and not bad
    else:
        assert chunks == [b"41", b"ok", b"42", b"ok"]
        assert bad == [("har.entry.invalid", 1704067202.0, said)]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"log": [@@, 1, 2]}', 'its "log" is a list, not an object'),
        ('{"log": "@@"}', 'its "log" is a string, not an object'),
        ('{"log": {"entries": {"x": @@}}}', 'its "log.entries" is an object, not a list'),
        ('{"log": {"entries": "@@"}}', 'its "log.entries" is a string, not a list'),
        ('{"log": -' + _DIGITS + "}", 'its "log" is a number, not an object'),
        ("[@@]", 'it is a list; a HAR is an object with a "log" object'),
        ('"@@"', 'it is a string; a HAR is an object with a "log" object'),
        ("[" + _DIGITS + "]", 'it is a list; a HAR is an object with a "log" object'),
        ('{"@@": 1, "log": {"@@": 2}}', 'its "log" object has no "entries" list'),
    ],
)
def test_a_log_that_is_no_object_is_not_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, why: str
) -> None:
    """A "log" (or "log.entries", or the document) of another type than a HAR's was parsed
    whole to say what it is (a 200 MB list took 2.0 GB), and so were the keys beside them:
    they are moved past, and said as before."""
    path = tmp_path / "not.har"
    big = {'"@@"': json.dumps("x" * 1_000_000), "@@": json.dumps(["x" * 1000] * 1000)}
    path.write_text(content.replace('"@@"', big['"@@"']).replace("@@", big["@@"]))
    monkeypatch.setattr(ioproto_har.text, "_READ", 4096)
    lengths = _recording_reads(monkeypatch)
    error, _summary = read(path)
    assert isinstance(error, ErrorRecord) and error.rule == "har.file.invalid"
    assert error.reason == f"{path} is not a readable HAR: {why}"
    assert max(lengths) < 100_000


@pytest.mark.parametrize(
    ("member", "value", "rule", "said"),
    [
        (
            "type",
            json.dumps("t" * 1_100_000),
            "har.websocket.too-large",
            "its members besides its data go over the limit of 1048576 bytes at type",
        ),
        ("time", _DIGITS, "har.websocket.bad-frame", f"time {_TOO_LONG}"),
    ],
)
def test_a_message_whose_other_members_are_huge_costs_only_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, member: str, value: str, rule: str, said: str
) -> None:
    """A message's members besides its data are read on their own: a huge ``type``
    (har.websocket.too-large) or a number too long to parse in its ``time``
    (har.websocket.bad-frame) drops that frame, not the entry's other frames, and the buffer
    stays near a read's size."""
    entry = _websocket_entry('0{"sid":"s"}', "40", '42["lost"]', '42["after"]')
    entry["_webSocketMessages"][2][member] = "@@"
    har = _har(tmp_path, entry)
    har.write_text(har.read_text().replace('"@@"', value))
    monkeypatch.setattr(ioproto_har.text, "_READ", 4096)
    lengths = _recording_reads(monkeypatch)
    records = _read_limited(har, 4000)
    assert max(lengths) < 100_000
    assert [c.data for c in records if isinstance(c, Chunk)] == [
        b'0{"sid":"s"}',
        b"40",
        b'42["after"]',
    ]
    [error] = [r for r in records if isinstance(r, ErrorRecord)]
    assert (error.rule, error.index, error.reason) == (rule, 2, f"frame 2 is dropped: {said}")


@pytest.mark.parametrize("size", range(1, 14))
def test_a_text_read_past_may_end_with_a_lone_escaped_surrogate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, size: int
) -> None:
    """An escaped high surrogate held back for its low half, with fewer than 12 characters
    after it in what was read, was taken for a bad escape: near the file's end (the last
    entry's response) or when a read ended just there ('not JSON (invalid \\escape …)')."""
    text = "x" * 3000 + "\ud83d"
    har = tmp_path / "lone.har"
    entries = [_polling(1, "40", "ok"), _polling(2, "41", text)]
    har.write_text(json.dumps({"log": {"entries": entries}}))  # (as \\ud83d)
    monkeypatch.setattr(ioproto_har.text, "_READ", size)
    records = _read_limited(har, 10)
    assert [c.data for c in records if isinstance(c, Chunk)] == [b"40", b"ok", b"41"]
    [error] = [r for r in records if isinstance(r, ErrorRecord)]
    assert error.reason == "response body of 3003 bytes exceeds the limit of 10 bytes: dropped"


@pytest.mark.parametrize("size", [4096, 1 << 30])
def test_an_unread_member_of_any_depth_is_moved_past(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, size: int
) -> None:
    """A member no decoder reads, nested deeper than the decoder goes (or than a walk of
    nested calls would), is moved past: it cost the rest of the file ('its JSON is nested
    too deep'), whether read in pieces or whole."""
    entry = json.dumps(_polling(2, "41", "ok"))
    deep = '"_initiator": ' + "[" * 5000 + '"' + "v" * 20_000 + '"' + "]" * 5000
    entries = [json.dumps(_polling(1, "40", "ok")), "{" + deep + ", " + entry[1:]]
    har = tmp_path / "deep.har"
    har.write_text('{"log": {"entries": [' + ", ".join(entries) + "]}}")
    monkeypatch.setattr(ioproto_har.text, "_READ", size)
    records = _read_limited(har, 4000)
    assert [c.data for c in records if isinstance(c, Chunk)] == [b"40", b"ok", b"41", b"ok"]
    assert not [r for r in records if isinstance(r, ErrorRecord)]


@pytest.mark.parametrize("size", [4096, 1 << 30])
def test_a_read_member_of_any_depth_costs_only_its_entry(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, size: int
) -> None:
    """A member the source reads, of the wrong type and nested deeper than the decoder goes
    (a URL that is a list 5000 deep), is read without nested calls: its entry cannot be
    read (har.entry.invalid), the entries around it are."""
    entry = _polling(2, "41", "ok")
    entry["request"]["url"] = "@@"
    deep = "[" * 5000 + '"' + "v" * 20_000 + '"' + "]" * 5000
    entries = [_polling(1, "40", "ok"), entry, _polling(3, "42", "ok")]
    har = tmp_path / "deep.har"
    har.write_text(json.dumps({"log": {"entries": entries}}).replace('"@@"', deep))
    monkeypatch.setattr(ioproto_har.text, "_READ", size)
    records = _read_limited(har, 4000)
    assert [c.data for c in records if isinstance(c, Chunk)] == [b"40", b"ok", b"42", b"ok"]
    [error] = [r for r in records if isinstance(r, ErrorRecord)]
    assert error.rule == "har.entry.invalid"
    assert error.reason == (
        "entry 1 could not be read: ValueError: request.url is a list, not a string"
    )


def test_a_read_member_of_the_wrong_type_costs_its_entry_at_any_depth_and_recursion_limit(
    tmp_path: Path,
) -> None:
    """What a list or an object in a member that holds text costs does not depend on its
    depth nor on the recursion limit other code has raised (``str()`` of a list 5000 deep
    worked under a high limit, the entry then quietly not Engine.IO, and failed under the
    default one)."""
    previous = sys.getrecursionlimit()
    reasons = []
    try:
        for limit, depth in ((previous, 1), (previous, 5000), (40_000, 5000)):
            sys.setrecursionlimit(limit)
            entry = _polling(2, "41", "ok")
            entry["request"]["headers"] = [{"name": "x", "value": "@@"}]
            deep = "[" * depth + '"v"' + "]" * depth
            entries = [_polling(1, "40", "ok"), entry, _polling(3, "42", "ok")]
            har = tmp_path / "typed.har"
            har.write_text(json.dumps({"log": {"entries": entries}}).replace('"@@"', deep))
            records = _read_limited(har, 4000)
            assert [c.data for c in records if isinstance(c, Chunk)] == [b"40", b"ok", b"42", b"ok"]
            reasons += [r.reason for r in records if isinstance(r, ErrorRecord)]
    finally:
        sys.setrecursionlimit(previous)
    wrong = "entry 1 could not be read: ValueError: header x's value is a list, not a string"
    assert reasons == [wrong] * 3
