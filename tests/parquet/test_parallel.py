"""``ioproto decode --sink parquet:DIR`` over many captures: parallel, restartable.

Runs are real processes, killed with SIGKILL midway (the parent, whose workers die with it;
or one worker), then run again: finished captures are skipped and left untouched, the
result equals an uninterrupted run's, and no file of an unfinished capture ever has a
final ``.parquet`` name. The captures are real traffic (examples/chat.pcap) repeated with
benchmarks/make_capture.py, so that each takes a few seconds to decode.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto, start_ioproto
from ioproto_parquet.manifest import OutputDir
from ioproto_parquet.schema import TABLES
from ioproto_parquet.store import connect
from pqhelp import ROOT, invoke

sys.path.insert(0, str(ROOT / "benchmarks"))
from make_capture import repeat

REPEATS = (40, 100, 100, 160, 160)
CHAT_SERVER_PORT = 47020


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("captures")
    made = []
    for number, times in enumerate(REPEATS):
        path = folder / f"chat-{number}.pcap"
        repeat(ROOT / "examples" / "chat.pcap", path, times, CHAT_SERVER_PORT)
        made.append(path)
    return made


@pytest.fixture(scope="module")
def reference(captures: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    run(out, captures, check=True)
    return out


def command(out: Path, captures: list[Path], jobs: int = 2) -> list[str]:
    """The arguments of ``ioproto`` that decode ``captures`` into ``out``."""
    inputs = [str(path) for path in captures]
    return ["decode", "--jobs", str(jobs), "--sink", f"parquet:{out}", *inputs]


def run(out: Path, captures: list[Path], *, check: bool) -> subprocess.CompletedProcess[str]:
    result = run_ioproto(*command(out, captures), timeout=600)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def contents(out: Path) -> dict[str, list[tuple[Any, ...]]]:
    connection = connect([str(out)])
    return {
        table.name: connection.execute(
            f'SELECT * FROM "{table.name}" ORDER BY capture, record_index'
        ).fetchall()
        for table in TABLES
    }


def completed(out: Path) -> dict[str, dict[str, int]]:
    """capture → {file: mtime_ns} of every file of every complete capture (and its record)."""
    output = OutputDir(out)
    found = {}
    for record in output.records():
        files = [output.record_path(record["capture"]), *(out / f for f in record["files"])]
        found[record["capture"]] = {str(path): path.stat().st_mtime_ns for path in files}
    return found


def assert_nothing_half_written_looks_complete(out: Path) -> None:
    listed = {str(out / name) for record in OutputDir(out).records() for name in record["files"]}
    final = {str(path) for path in out.rglob("*.parquet")}
    assert final <= listed, f"files of unfinished captures: {sorted(final - listed)}"


def processes_writing(out: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if f"parquet:{out}".encode() in cmdline:
                found.append(int(entry.name))
    return found


def working_children(parent: int) -> list[int]:
    """The children of ``parent`` that are running (not zombies waiting to be reaped)."""
    listed = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    running = []
    for pid in listed:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            running.append(int(pid))
    return running


def wait_for(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def resume_and_check(out: Path, captures: list[Path], reference: Path) -> None:
    assert_nothing_half_written_looks_complete(out)
    done_before = completed(out)
    assert 0 < len(done_before) < len(captures), "the kill did not land midway"
    again = run(out, captures, check=True)
    for capture in done_before:
        assert f"{capture}: already complete in {out}, skipped" in again.stderr
    after = completed(out)
    for capture, files in done_before.items():
        assert after[capture] == files, f"{capture} was redone"
    assert len(after) == len(captures)
    assert OutputDir(out).incomplete_captures() == []
    assert contents(out) == contents(reference)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and prctl")
def test_parent_killed_midway_then_rerun(
    captures: list[Path], reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = start_ioproto(
        *command(out, captures), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    wait_for(lambda: len(list(OutputDir(out).records())) >= 1)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.stderr is not None
    process.stderr.close()
    # The workers die with their parent: nothing is left to race the next run.
    wait_for(lambda: not processes_writing(out), timeout=30)
    resume_and_check(out, captures, reference)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_worker_killed_midway_then_rerun(
    captures: list[Path], reference: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    process = start_ioproto(
        *command(out, captures), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    wait_for(lambda: len(list(OutputDir(out).records())) >= 1)
    wait_for(lambda: bool(working_children(process.pid)))
    os.kill(working_children(process.pid)[-1], signal.SIGKILL)
    _stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 1, stderr
    assert "failed: killed by SIGKILL" in stderr
    assert "run the same command again" in stderr
    resume_and_check(out, captures, reference)


def test_a_second_run_does_nothing(captures: list[Path], reference: Path) -> None:
    again = run(reference, captures, check=True)
    assert again.stderr.count("already complete") == len(captures)


def test_a_changed_input_or_setting_is_redone(tmp_path: Path) -> None:
    capture = tmp_path / "chat.pcap"
    capture.write_bytes((ROOT / "examples" / "chat.pcap").read_bytes())
    out = tmp_path / "out"
    assert invoke(["decode", "--sink", f"parquet:{out}", str(capture)]).exit_code == 0
    skipped = invoke(["decode", "--sink", f"parquet:{out}", str(capture)])
    assert "already complete" in skipped.output
    changed = invoke(["decode", "--proto", "engineio", "--sink", f"parquet:{out}", str(capture)])
    assert "already complete" not in changed.output and "records into" in changed.output
    assert contents(out)["socketio"] == []  # the earlier socketio rows were replaced
    os.utime(capture, ns=(0, 0))
    touched = invoke(["decode", "--proto", "engineio", "--sink", f"parquet:{out}", str(capture)])
    assert "records into" in touched.output


def test_same_file_names_in_two_folders_get_two_captures(tmp_path: Path) -> None:
    for folder in ("day1", "day2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "server.pcap").write_bytes(
            (ROOT / "examples" / "chat.pcap").read_bytes()
        )
    out = tmp_path / "out"
    inputs = [str(tmp_path / "day1" / "server.pcap"), str(tmp_path / "day2" / "server.pcap")]
    result = invoke(["decode", "--jobs", "1", "--sink", f"parquet:{out}", *inputs])
    assert result.exit_code == 0, result.output
    names = sorted(record["capture"] for record in OutputDir(out).records())
    assert len(names) == 2 and names[0] == "server.pcap" and names[1].startswith("server.pcap-")
    again = invoke(["decode", "--sink", f"parquet:{out}", *reversed(inputs)])
    assert again.output.count("already complete") == 2


def test_jobs_with_other_sinks_are_the_processes_that_decode_one_input() -> None:
    chat = str(ROOT / "examples" / "chat.pcap")
    options = ["--source-option", "parallel_min_bytes=0", "--sink", "jsonl", chat]
    one = invoke(["decode", "--jobs", "1", *options])
    three = invoke(["decode", "--jobs", "3", *options])
    assert one.exit_code == 0 and three.exit_code == 0, three.output
    assert one.output == three.output and one.output
    alone = invoke(["decode", "--sink", "parquet:/tmp/x", "--sink", "jsonl", "-"], input="")
    assert alone.exit_code == 2 and "runs alone" in alone.output
