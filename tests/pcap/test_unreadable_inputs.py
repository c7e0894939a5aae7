"""An input its source cannot read at all (not a capture, a HAR that is not JSON, an empty
capture file) is said on stderr, one line, and the command exits with status 1, whatever
the other inputs gave; the error record is in the output too. By default, with a reader
process, sharded (``--jobs 3``) and per input (``--sink parquet:DIR``) alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import run_ioproto

from ioproto.model import InputSummary

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "examples" / "chat.pcap"


@pytest.fixture
def not_a_capture(tmp_path: Path) -> Path:
    path = tmp_path / "notes.pcap"
    path.write_bytes(b"these are my notes, not a capture\n")
    return path


@pytest.mark.parametrize(
    "args",
    [[], ["--source-option", "parallel_min_bytes=1"], ["--jobs", "3"]],
    ids=["default", "reader-process", "sharded"],
)
def test_a_file_that_is_no_capture(not_a_capture: Path, args: list[str]) -> None:
    done = run_ioproto("decode", "--sink", "jsonl", *args, str(not_a_capture))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ioproto: {not_a_capture}: not a pcap or pcapng file (74686573)"
    ]
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["rule"] == "capture.file.invalid"


def test_the_other_inputs_are_still_decoded(not_a_capture: Path) -> None:
    done = run_ioproto("decode", "--sink", "jsonl", str(not_a_capture), str(CHAT))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ioproto: {not_a_capture}: not a pcap or pcapng file (74686573)"
    ]
    layers = {json.loads(line)["layer"] for line in done.stdout.splitlines()}
    assert {"capture", "engineio", "socketio"} <= layers


def test_an_empty_capture_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    done = run_ioproto("decode", str(empty))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"ioproto: {empty}: the file is empty (0 bytes)"]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("<html>not a HAR</html>", "it is not JSON (expecting value at line 1, column 1)"),
        ("{}", 'it has no "log" object'),
    ],
    ids=["not-json", "no-log"],
)
def test_a_har_that_is_not_a_har(tmp_path: Path, content: str, why: str) -> None:
    har = tmp_path / "session.har"
    har.write_text(content)
    done = run_ioproto("stats", str(har))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [f"ioproto: {har}: not a readable HAR: {why}"]


def test_a_capture_cut_inside_still_succeeds(tmp_path: Path) -> None:
    """Frames were read: the damage is an error record among the rest, not an unreadable
    input."""
    data = CHAT.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) // 2])
    done = run_ioproto("decode", "--sink", "jsonl", str(cut))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    rules = [json.loads(line).get("rule") for line in done.stdout.splitlines()]
    assert "capture.file.truncated" in rules


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_per_input_outputs(not_a_capture: Path, tmp_path: Path, jobs: str) -> None:
    pytest.importorskip("pyarrow")
    archive = tmp_path / "archive"
    done = run_ioproto(
        "decode", "--jobs", jobs, "--sink", f"parquet:{archive}", str(not_a_capture), str(CHAT)
    )
    assert done.returncode == 1
    said = done.stderr.splitlines()
    assert f"ioproto: {not_a_capture}: not a pcap or pcapng file (74686573)" in said
    assert any(line.startswith(f"ioproto: {CHAT}: 123 records into") for line in said)
    assert any(line.startswith(f"ioproto: {not_a_capture}: 1 record into") for line in said)


def test_the_summary_names_it_for_library_users(not_a_capture: Path) -> None:
    from ioproto_pcap.capture import read_capture

    from ioproto.components import SourceContext

    *_, summary = read_capture(str(not_a_capture), SourceContext())
    assert isinstance(summary, InputSummary)
    assert summary.unreadable == "not a pcap or pcapng file (74686573)"
    *_, summary = read_capture(str(CHAT), SourceContext())
    assert isinstance(summary, InputSummary) and summary.unreadable is None
