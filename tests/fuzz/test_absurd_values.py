"""Absurd values in any field a source reads (issue 11, items 9 and 10).

A HAR number that overflows (``"status": 1e400``), a pcapng time of 2^64 seconds: the source
reports an error record and goes on, every record's time is one the sinks can show, every
sink takes every record, and the intact entry beside the absurd one still gives its records.
"""

from __future__ import annotations

import copy
import io
import json
import struct
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_http.records import Chunk

import ioproto
from ioproto.cli import build_cli
from ioproto.cli.state import CliState
from ioproto.components import SinkContext
from ioproto.jsonform import dumps
from ioproto.model import ErrorRecord, Record
from ioproto.pipeline import Pipeline
from ioproto.plugins import make_plugin_manager
from ioproto.timestamps import usable

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "pcap") not in sys.path:
    sys.path.insert(0, str(HERE.parent / "pcap"))

from pcapbuild import Flow, render, write_pcap, write_pcapng  # noqa: E402

#: JSON texts no sane exporter writes, each valid (or accepted) JSON.
ABSURD = [
    "1e400",
    "-1e400",
    "1e-400",
    "18446744073709551616",
    "-9223372036854775809",
    "1" + "0" * 5000,
    "NaN",
    "Infinity",
    "-0",
    "0.5",
    "true",
    "null",
    '"x"',
    '""',
    '"' + "é" * 300 + '"',
    "[]",
    "{}",
    '[[[[[[[[["deep"]]]]]]]]]',
]

START = "2024-01-01T00:00:00.000Z"
FRAMES = [
    {"type": "receive", "time": 1704067200.1, "opcode": 1, "data": '0{"sid":"s1"}'},
    {"type": "send", "time": 1704067200.2, "opcode": 1, "data": "40"},
    {"type": "send", "time": 1704067200.3, "opcode": 1, "data": '42["victim",1]'},
]


def _entries() -> list[dict[str, Any]]:
    websocket = {
        "startedDateTime": START,
        "time": 5,
        "request": {
            "method": "GET",
            "url": "ws://h/socket.io/?EIO=4&transport=websocket",
            "headers": [{"name": "User-Agent", "value": "test"}],
        },
        "response": {"status": 101, "statusText": "Switching", "headers": []},
        "timings": {"send": 1, "wait": 2, "receive": 1},
        "serverIPAddress": "10.0.0.2",
        "connection": "77",
        "_webSocketMessages": copy.deepcopy(FRAMES),
    }
    polling = {
        "startedDateTime": START,
        "time": 5,
        "request": {
            "method": "POST",
            "url": "http://h/socket.io/?EIO=4&transport=polling&sid=s2",
            "headers": [],
            "postData": {"mimeType": "text/plain", "text": '42["victim",2]'},
        },
        "response": {
            "status": 200,
            "headers": [],
            "content": {"size": 2, "mimeType": "text/html", "text": "ok"},
        },
        "timings": {"send": 1, "wait": 2, "receive": 1},
    }
    intact = {
        "startedDateTime": "2024-01-01T00:00:01.000Z",
        "request": {"method": "POST", "url": "http://h/socket.io/?EIO=4&transport=polling&sid=s3"},
        "response": {"status": 200, "content": {"text": "ok"}},
        "timings": {"wait": 1},
    }
    intact["request"]["postData"] = {"text": '42["survivor",3]'}  # type: ignore[index]
    return [websocket, polling, intact]


#: Where an absurd value goes: (entry index, path of keys and list indexes).
FIELDS: list[tuple[int, tuple[Any, ...]]] = [
    (0, ("startedDateTime",)),
    (0, ("time",)),
    (0, ("connection",)),
    (0, ("serverIPAddress",)),
    (0, ("request", "url")),
    (0, ("request", "method")),
    (0, ("request", "headers", 0, "name")),
    (0, ("request", "headers", 0, "value")),
    (0, ("response", "status")),
    (0, ("response", "statusText")),
    (0, ("timings", "wait")),
    (0, ("_webSocketMessages", 0, "time")),
    (0, ("_webSocketMessages", 0, "opcode")),
    (0, ("_webSocketMessages", 0, "data")),
    (0, ("_webSocketMessages", 0, "type")),
    (0, ("_webSocketMessages", 1, "time")),
    (0, ("_webSocketMessages", 1, "opcode")),
    (0, ("_webSocketMessages", 2, "data")),
    (0, ("_webSocketMessages",)),
    (1, ("startedDateTime",)),
    (1, ("time",)),
    (1, ("request", "postData", "text")),
    (1, ("request", "postData", "encoding")),
    (1, ("response", "status")),
    (1, ("response", "content", "text")),
    (1, ("response", "content", "encoding")),
    (1, ("timings", "send")),
    (1, ("timings", "receive")),
    (1, ("timings",)),
    (1, ("response",)),
    (1, ("request",)),
]
MARK = "__ABSURD__"


def har_with(field: tuple[int, tuple[Any, ...]], value: str) -> str:
    """The HAR text of :func:`_entries` with JSON text ``value`` at ``field``."""
    entries = _entries()
    index, path = field
    target: Any = entries[index]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = MARK
    return json.dumps({"log": {"version": "1.2", "entries": entries}}).replace(
        json.dumps(MARK), value
    )


_PM: list[Any] = []


def sink_all(records: list[Record]) -> None:
    """Every bundled line sink formats every record without raising."""
    if not _PM:
        _PM.append(make_plugin_manager())
    pm = _PM[0]
    for name in ("text", "jsonl", "monitor"):
        stream = io.StringIO()
        pipeline = Pipeline.build(
            proto="chunk",
            sinks=[(name, SinkContext(stream=stream, color=True))],
            classifiers=[],
            plugin_manager=pm,
        )
        for record in records:
            pipeline.feed(record)
        pipeline.close()
        assert not pipeline.summary.sink_failures, (name, pipeline.summary.sink_failure_reasons)


def check(records: list[Record]) -> None:
    for record in records:
        assert usable(record.ts), record
        line = json.loads(dumps(record))
        assert isinstance(line["ts"], float | int), line
    survivors = [
        r
        for r in records
        if (isinstance(r, Chunk) and b"survivor" in r.data) or getattr(r, "event", 0) == "survivor"
    ]
    assert len(survivors) == 1, records


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(FIELDS), value=st.sampled_from(ABSURD))
def test_har_absurd_values_become_error_records(
    tmp_path_factory: pytest.TempPathFactory, field: tuple[int, tuple[Any, ...]], value: str
) -> None:
    path = tmp_path_factory.mktemp("har") / "absurd.har"
    path.write_text(har_with(field, value))
    records = list(ioproto.decode(str(path), proto="socketio"))
    check(records)
    sink_all(records)


def test_har_status_and_opcode_1e400_cost_only_themselves(tmp_path: Path) -> None:
    """The two values of the issue: once a traceback, exit 1 and no records at all."""
    for field in ((0, ("_webSocketMessages", 1, "opcode")), (1, ("response", "status"))):
        path = tmp_path / "bad.har"
        path.write_text(har_with(field, "1e400"))
        records = list(ioproto.decode(str(path), proto="chunk"))
        check(records)
        rules = [r.rule for r in records if isinstance(r, ErrorRecord)]
        assert rules in (["har.websocket.bad-frame"], ["har.entry.bad-status"]), rules
        victims = [r for r in records if isinstance(r, Chunk) and b"victim" in r.data]
        assert len(victims) == 2  # the frame after the bad one, the request before the reply


def huge_time_pcapng(path: Path) -> Path:
    """A pcapng whose interface counts whole seconds (if_tsresol=0) at 2^64 - 1 ticks."""
    flow = Flow()
    flow.handshake()
    frames = render(flow.packets)
    write_pcapng(path, frames, resolutions={0: 0})
    data = bytearray(path.read_bytes())
    # every Enhanced Packet Block: timestamp high and low words to 0xFFFFFFFF
    pos = 0
    while pos < len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        if kind == 6:
            struct.pack_into("<II", data, pos + 12, 0xFFFFFFFF, 0xFFFFFFFF)
        pos += length
    path.write_bytes(bytes(data))
    return path


def invoke(args: list[str]) -> Any:
    pm = make_plugin_manager()
    return CliRunner().invoke(build_cli(), args, obj=CliState(plugin_manager=pm))


def test_a_pcapng_time_of_2_64_seconds_is_replaced_and_reported(tmp_path: Path) -> None:
    path = huge_time_pcapng(tmp_path / "huge.pcapng")
    records = list(ioproto.decode(str(path), proto="chunk"))
    assert all(usable(r.ts) for r in records)
    rules = [r.rule for r in records if isinstance(r, ErrorRecord)]
    assert rules.count("capture.time.out-of-range") == 2  # the first frame, then the count
    for sink in ("text", "monitor", "jsonl"):
        result = invoke(["decode", "--all-layers", "--sink", sink, "--proto", "chunk", str(path)])
        assert result.exit_code == 0, (sink, result.output)
        assert "out-of-range" in result.output


def test_a_failing_sink_is_reported_and_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sink that raises: plugin.crash to the other sinks, a line on stderr, exit 1."""
    import ioproto_text.sink as text_sink

    def broken(ts: float, *, utc: bool = False) -> str:
        raise OverflowError("timestamp out of range for platform time_t")

    monkeypatch.setattr(text_sink, "format_time", broken)
    runner = CliRunner()
    pm = make_plugin_manager()
    result = runner.invoke(
        build_cli(),
        ["decode", "--sink", "text", "--sink", "jsonl", "--proto", "chunk", "-"],
        input="4hi\n4ho\n",
        obj=CliState(plugin_manager=pm),
    )
    assert result.exit_code == 1
    assert "sink text failed on 2 record(s)" in result.stderr
    assert "OverflowError" in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("rule") for line in lines] == ["plugin.crash", None, "plugin.crash", None]


# -- capture headers and lines ----------------------------------------------------------------


def _small_capture() -> list[tuple[float, int, bytes]]:
    flow = Flow()
    flow.handshake()
    flow.send(0, b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: h\r\n\r\n")
    flow.close()
    return render(flow.packets)


def _decode_all(path: Path) -> list[Record]:
    records = list(ioproto.decode(str(path), proto="socketio"))
    for record in records:
        assert usable(record.ts), record
        json.loads(dumps(record))
    return records


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    snaplen=st.sampled_from([0, 1, 65535, 2**31, 2**32 - 1]),
    linktype=st.sampled_from([0, 1, 113, 276, 0xFFFF, 2**32 - 1]),
    seconds=st.sampled_from([0, 1, 2**31, 2**32 - 1]),
    fraction=st.sampled_from([0, 999_999, 10**9, 2**32 - 1]),
    nanos=st.booleans(),
)
def test_pcap_header_fields_may_be_absurd(
    tmp_path_factory: pytest.TempPathFactory,
    snaplen: int,
    linktype: int,
    seconds: int,
    fraction: int,
    nanos: bool,
) -> None:
    path = tmp_path_factory.mktemp("pcap") / "absurd.pcap"
    data = bytearray(write_pcap(path, _small_capture(), nanos=nanos))
    struct.pack_into("<II", data, 16, snaplen, linktype)
    struct.pack_into("<II", data, 24, seconds, fraction)  # the first record's time
    path.write_bytes(bytes(data))
    _decode_all(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    resolution=st.integers(0, 255),
    offset=st.sampled_from([0, 1, -(2**63), 2**63 - 1]),
    high=st.sampled_from([0, 1, 2**31, 2**32 - 1]),
    snaplen=st.sampled_from([0, 1, 2**32 - 1]),
)
def test_pcapng_interface_fields_may_be_absurd(
    tmp_path_factory: pytest.TempPathFactory, resolution: int, offset: int, high: int, snaplen: int
) -> None:
    path = tmp_path_factory.mktemp("pcapng") / "absurd.pcapng"
    write_pcapng(path, _small_capture(), resolutions={0: 6})
    data = bytearray(path.read_bytes())
    pos = 0
    while pos < len(data):
        kind, length = struct.unpack_from("<II", data, pos)
        if kind == 1:  # interface: snap length, if_tsresol (first option), then if_tsoffset
            struct.pack_into("<I", data, pos + 12, snaplen)
            assert struct.unpack_from("<HH", data, pos + 16) == (9, 1)
            data[pos + 20] = resolution
            # the end-of-options marker is followed by the block length: append tsoffset
            options = struct.pack("<HHq", 14, 8, offset) + struct.pack("<HH", 0, 0)
            body = bytes(data[pos + 8 : pos + length - 4])
            end = body.rfind(b"\x00\x00\x00\x00")
            body = body[:end] + options
            block = struct.pack("<II", 1, len(body) + 12) + body + struct.pack("<I", len(body) + 12)
            data[pos : pos + length] = block
            length = len(block)
        elif kind == 6:
            struct.pack_into("<I", data, pos + 12, high)
        pos += length
    path.write_bytes(bytes(data))
    _decode_all(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    key=st.sampled_from(["revision", "sid", "transport", "direction", "nosuch"]),
    value=st.sampled_from(["1e400", "9" * 5000, "-1", "0", "", "é" * 100, "\x00", "3", "x=y"]),
)
def test_lines_directives_may_be_absurd(
    tmp_path_factory: pytest.TempPathFactory, key: str, value: str
) -> None:
    path = tmp_path_factory.mktemp("lines") / "absurd.lines"
    path.write_text(f'#! {key}={value}\n42["victim",1]\n2\n#! revision=4\n42["survivor",2]\n')
    records = _decode_all(path)
    assert [r for r in records if getattr(r, "event", None) == "survivor"], records
