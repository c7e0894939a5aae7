"""An empty result says why (issue 11, item 4): an empty file, a capture without Engine.IO
traffic, a ``--port`` that matches nothing each print one line on stderr, and the command
still succeeds. The reason comes from the source's InputSummary (pcap, HAR) or, for an empty
file, from the command itself."""

from __future__ import annotations

import json
from pathlib import Path

import pcapbuild
import pytest
from clirun import run_ioproto
from ioproto_pcap.capture import read_capture
from pcapbuild import Flow, http_request, http_response
from pcaphelp import decode_file

import ioproto
from ioproto.components import SourceContext
from ioproto.model import InputSummary

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "examples" / "chat.pcap"  # server port 47020


def why(*args: str) -> str:
    """The one stderr line of a run that gave no records (and succeeded)."""
    result = run_ioproto(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def plain_http(tmp_path: Path) -> Path:
    """A capture of a web page fetched over TCP port 8080: no Engine.IO in it."""
    flow = Flow(client=("10.0.0.1", 51000), server=("10.0.0.2", 8080), ts=1_700_000_000.0)
    flow.handshake()
    flow.send(0, http_request("GET", "/index.html"))
    flow.send(1, http_response(200, b"<html>hello</html>", [("Content-Type", "text/html")]))
    flow.close()
    path = tmp_path / "web.pcap"
    pcapbuild.write_pcap(path, pcapbuild.render(flow.packets))
    return path


def test_an_empty_file(tmp_path: Path) -> None:
    # (An empty *.pcap is plainly a capture: the pcap source reports it as truncated.)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert why("decode", str(empty)) == f"ioproto: {empty}: the file is empty (0 bytes)"


def test_a_port_that_matches_nothing_names_the_ports_the_capture_holds() -> None:
    line = why("decode", "--port", "3001", str(CHAT))
    assert line == (
        f"ioproto: {CHAT}: no TCP connection on port 3001; the capture holds port 47020 "
        "(try --port 47020)"
    )


def test_the_same_when_a_worker_process_reads_the_capture() -> None:
    line = why("decode", "--source-option", "parallel_min_bytes=1", "--port", "3001", str(CHAT))
    assert "no TCP connection on port 3001; the capture holds port 47020" in line


def test_a_capture_without_engineio_traffic(plain_http: Path) -> None:
    line = why("monitor", str(plain_http))
    assert line.startswith(f"ioproto: {plain_http}: no Engine.IO traffic in 1 TCP connection")
    assert "(port 8080)" in line and "-D all_http=true" in line


def test_a_har_without_engineio_traffic(tmp_path: Path) -> None:
    entry = {
        "startedDateTime": "2024-01-01T00:00:00Z",
        "request": {"method": "GET", "url": "http://127.0.0.1/index.html", "headers": []},
        "response": {"status": 200},
    }
    har = tmp_path / "page.har"
    har.write_text(json.dumps({"log": {"entries": [entry, entry]}}))
    line = why("decode", str(har))
    assert "no Engine.IO traffic among the HAR's 2 entries" in line


def test_records_say_nothing_when_there_are_records() -> None:
    result = run_ioproto("decode", "--port", "47020", str(CHAT))
    assert result.returncode == 0 and result.stderr == "" and result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["decode", "--filter", 'sio.event == "nosuch"'],
        ["monitor", "--sid", "nosuch"],
        ["decode", "--jobs", "1", "--sink", "jsonl", "--filter", 'sio.nsp == "/nosuch"'],
        [
            "decode",
            "--jobs",
            "2",
            "--source-option",
            "parallel_min_bytes=0",
            "-f",
            "sio.ack_id > 9",
        ],
    ],
)
def test_a_filter_that_lets_nothing_through_says_so(args: list[str]) -> None:
    result = run_ioproto(*args, str(CHAT))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    line = result.stderr.splitlines()[0]
    assert line.startswith("ioproto: no record matched the filter ("), line
    assert " decoded" in line and line.endswith("`ioproto fields` lists what a filter can test)")


def test_records_the_push_down_dropped_are_counted_and_not_misdescribed() -> None:
    """--sid is tested before decoding: the sessions it dropped are counted, and no hint
    claims that no record had a session id."""
    result = run_ioproto("monitor", "--sid", "nosuch", str(CHAT))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    assert result.stderr.splitlines() == [
        "ioproto: no record matched the filter (6 records decoded, 123 dropped before "
        "decoding; `ioproto fields` lists what a filter can test)"
    ]


#: Three workers render the JSON lines (``--jobs 3``, a capture of any size).
SHARDED_JSONL = [
    "decode",
    "--jobs",
    "3",
    "--sink",
    "jsonl",
    "--source-option",
    "parallel_min_bytes=0",
]


@pytest.mark.parametrize(
    ("args", "hints"),
    [
        (
            ["decode", "--filter", "sio.event == mesage"],
            [
                'ioproto: sio.event was never "mesage" (did you mean "message"?); its values '
                'were "message" (44), "typing" (32), "set-avatar" (6), "avatar" (3), '
                '"user-joined" (3), "user-left" (3), … (2 more)'
            ],
        ),
        (
            ["monitor", "--type", "EVENT", "--event", "chat"],
            ['ioproto: sio.event was never "chat"; its values were "message" (44), '],
        ),
        (
            ["decode", "-f", "sio.type == event"],
            ['ioproto: sio.type was never "event" (did you mean "EVENT"?); its values were '],
        ),
        (
            ["decode", "-f", 'sio.event == "message" and sio.nsp in {"/a", "/b"}'],
            ['ioproto: sio.nsp was never "/a" or "/b"; its values were "/" (105)'],
        ),
        (
            ["decode", "--proto", "engineio", "-f", "sio.event == message"],
            ['ioproto: no record had sio.event (so none was "message")'],
        ),
        (["decode", "-f", "sio.ack_id > 9"], []),
        (["decode", "-f", 'not sio.event == "message" and sio.event == "message"'], []),
        (
            # three workers render the JSON lines, and report what they matched and met
            [*SHARDED_JSONL, "-f", "sio.event == mesage"],
            [
                'ioproto: sio.event was never "mesage" (did you mean "message"?); its values '
                'were "message" (44), "typing" (32), "set-avatar" (6), "avatar" (3), '
                '"user-joined" (3), "user-left" (3), … (2 more)'
            ],
        ),
    ],
    ids=[
        "misspelt",
        "monitor-event",
        "case",
        "one-of-two",
        "absent",
        "no-equality",
        "both",
        "sharded",
    ],
)
def test_what_the_filtered_fields_held_instead(args: list[str], hints: list[str]) -> None:
    """After "no record matched the filter", the values each equality test's field had,
    with the likeliest meant one."""
    result = run_ioproto(*args, str(CHAT))
    assert result.returncode == 0 and result.stdout == "", result.stderr
    said = result.stderr.splitlines()[1:]
    assert len(said) == len(hints), said
    for line, start in zip(said, hints, strict=True):
        assert line.startswith(start), line


def test_each_value_s_count_is_what_the_filter_on_it_would_match() -> None:
    """A field of a lower layer counts on every record that carries it through its lineage
    (the Socket.IO records decoded from an Engine.IO packet have its transport), as the
    filter tests it: not only on the records of that layer."""
    result = run_ioproto("decode", "--sink", "jsonl", "-f", 'eio.transport == "Polling"', str(CHAT))
    hint = result.stderr.splitlines()[1]
    counts = {
        value: sum(
            1
            for _ in run_ioproto(
                "decode", "--sink", "jsonl", "-f", f'eio.transport == "{value}"', str(CHAT)
            ).stdout.splitlines()
        )
        for value in ("websocket", "polling")
    }
    assert hint.endswith(
        f'its values were "websocket" ({counts["websocket"]}), "polling" ({counts["polling"]})'
    ), hint


def test_a_filter_that_lets_records_through_says_nothing() -> None:
    result = run_ioproto("decode", "--filter", "sio.type == EVENT", str(CHAT))
    assert result.returncode == 0 and result.stderr == "" and result.stdout


def test_the_summary_is_the_last_record_and_reaches_no_sink(plain_http: Path) -> None:
    records = list(read_capture(str(plain_http), SourceContext()))
    assert [r.layer for r in records[:-1]] == ["tcp"] * (len(records) - 1)
    summary = records[-1]
    assert isinstance(summary, InputSummary)
    assert summary.counts == {"frames": 8, "tcp_segments": 8, "tcp_connections": 1}
    assert summary.empty_reason and "port 8080" in summary.empty_reason
    assert decode_file(str(plain_http)) == []
    pipeline = ioproto.Pipeline.build(proto="socketio")
    assert pipeline.feed(summary) == []
    pipeline.close()
    assert pipeline.summary.input_summaries == [summary]
    assert pipeline.summary.inputs == 0
    chat = list(read_capture(str(CHAT), SourceContext()))
    assert isinstance(chat[-1], InputSummary) and chat[-1].counts["tcp_connections"] == 9
    assert not any(isinstance(r, InputSummary) for r in ioproto.decode(str(CHAT)))
