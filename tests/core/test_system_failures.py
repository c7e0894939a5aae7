"""When the system refuses (a full disk under the output) or the user interrupts, the command
ends with one line, or none, and the documented exit status: never a traceback. Each case
runs the real command (``python -m ioproto``) in a subprocess; ``/dev/full`` stands for a
full disk (every write fails with ENOSPC)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from clirun import run_ioproto, start_ioproto

ROOT = Path(__file__).resolve().parents[2]
CHAT = str(ROOT / "examples" / "chat.pcap")
FULL = "/dev/full"

needs_dev_full = pytest.mark.skipif(not os.path.exists(FULL), reason="no /dev/full here")


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], (text, lines[0])


@needs_dev_full
@pytest.mark.parametrize(
    "args",
    [
        ["decode", "-o", FULL, CHAT],  # the output fails while records are written
        ["decode", "--sink", f"jsonl:{FULL}", CHAT],
        ["stats", "-o", FULL, CHAT],  # the one write comes as the sink closes
    ],
)
def test_an_output_file_on_a_full_disk_is_one_line_naming_it(args: list[str]) -> None:
    assert_one_line_failure(run_ioproto(*args), "No space left on device", FULL)


@needs_dev_full
@pytest.mark.parametrize(
    "args",
    [["fields"], ["plugins"], ["plugins", "--json"], ["decode", CHAT], ["stats", CHAT]],
)
def test_stdout_on_a_full_disk_is_one_line(args: list[str]) -> None:
    with open(FULL, "w") as full:
        result = run_ioproto(*args, stdout=full.fileno())
    assert_one_line_failure(result, "No space left on device")


#: The number of the read system call: x86-64, arm64.
READ_CALLS = {"0", "63"}


def wait_until_reading_stdin(pid: int, timeout: float = 30.0) -> None:
    """Until process ``pid`` is blocked reading its stdin (``/proc/PID/syscall``: the
    call's number, then its first argument, the file descriptor); a second's wait where
    that cannot be read."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            call = Path(f"/proc/{pid}/syscall").read_text().split()
        except OSError:
            time.sleep(1.0)
            return
        if call[:2] in ([number, "0x0"] for number in READ_CALLS):
            return
        time.sleep(0.05)
    raise AssertionError("the command never waited on stdin")


def test_ctrl_c_while_a_source_waits_for_stdin_ends_quietly() -> None:
    """The source resolution peeks at stdin to tell a capture from lines; interrupted
    there, before any record, the command ends as it does once records flow: status 130,
    nothing on stderr (not click's "Aborted!")."""
    pipe = subprocess.PIPE
    process = start_ioproto("decode", "-", stdin=pipe, stdout=pipe, stderr=pipe, text=True)
    wait_until_reading_stdin(process.pid)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, (process.returncode, err)
    assert err == ""
    assert out == ""


@pytest.mark.parametrize(
    "args",
    [
        ["fields"],
        ["plugins"],
        ["decode", "--sink", "jsonl", CHAT],
        ["query", "--format", "csv", "SELECT * FROM range(1000000)", "{archive}"],
        ["decode", "-o", "/dev/stdout", CHAT],
        ["decode", "--sink", "jsonl:/dev/stdout", CHAT],
    ],
    ids=["fields", "plugins", "decode", "query", "decode -o", "decode --sink NAME:PATH"],
)
def test_a_closed_pipe_ends_every_command_quietly(tmp_path: Path, args: list[str]) -> None:
    """``ioproto CMD | head -c 1``: no line, status 0 as for decode, not click's silent 1;
    also through an output named ``/dev/stdout`` (was 'cannot write /dev/stdout: Broken
    pipe', status 1)."""
    if "{archive}" in args:
        archive = tmp_path / "archive"
        made = run_ioproto("decode", "--sink", f"parquet:{archive}", CHAT)
        assert made.returncode == 0, made.stderr
        args = [arg.format(archive=archive) for arg in args]
    read, write = os.pipe()
    process = start_ioproto(*args, stdout=write, stderr=subprocess.PIPE, text=True)
    os.close(write)
    assert os.read(read, 1)
    os.close(read)  # the reader goes away, as head does after its first line
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, (process.returncode, stderr)
    assert stderr == ""


def test_a_named_pipe_whose_reader_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    """``-o FIFO`` read by ``head -c 1``: status 0 and no line, as for stdout (was 'cannot
    write FIFO: Broken pipe', status 1, the output held until the file closed)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    process = start_ioproto("decode", "-o", str(fifo), CHAT, stderr=subprocess.PIPE, text=True)
    with open(fifo, "rb") as reader:
        assert reader.read(1)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, (process.returncode, stderr)
    assert stderr == ""
