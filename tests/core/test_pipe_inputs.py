"""A named pipe (``mkfifo``) or a shell's ``<(…)`` (``/dev/fd/N``) as an input is read as
stdin is: once, the source told by its first bytes (ioproto.cli.pipeinputs). Before, the
source's guess read the pipe and the source then opened it again: a named pipe hung, and a
``<(…)`` capture was "not a pcap" (its first bytes gone). Each case runs the real command in
a subprocess, a thread writing the pipe."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "examples" / "chat.pcap"
LINES = b'40\n42["chat","hi"]\n'


def decode(*args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ioproto", "decode", "--sink", "jsonl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        pass_fds=pass_fds,
    )


def write_later(path_or_fd: str | int, data: bytes) -> threading.Thread:
    def write() -> None:
        with open(path_or_fd, "wb") as pipe:
            pipe.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def expected(path: Path) -> str:
    return decode(str(path)).stdout


@pytest.mark.parametrize("content", ["capture", "lines"])
def test_a_named_pipe_is_decoded_as_its_file_is(tmp_path: Path, content: str) -> None:
    data = CHAT.read_bytes() if content == "capture" else LINES
    plain = tmp_path / "plain"
    plain.write_bytes(data)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = write_later(str(fifo), data)
    result = decode(str(fifo))
    writer.join(10)
    assert result.returncode == 0, result.stderr
    if content == "capture":
        assert result.stdout == expected(plain)
    else:  # lines name their input: stdin here, as a pipe is read as stdin
        assert [line.count('"layer":"socketio"') for line in result.stdout.splitlines()] == [
            1,
            1,
            0,
        ]


def test_a_process_substitution_is_decoded_with_the_other_inputs() -> None:
    read_end, write_end = os.pipe()
    writer = write_later(write_end, CHAT.read_bytes())
    try:
        result = decode(str(CHAT), f"/dev/fd/{read_end}", pass_fds=(read_end,))
    finally:
        os.close(read_end)
    writer.join(10)
    assert result.returncode == 0, result.stderr
    assert result.stdout == decode(str(CHAT), str(CHAT)).stdout


def test_two_pipes_are_a_mistake(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for args in (["-", "-"], ["-", str(fifo)]):
        result = decode(*args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1
        assert "only one input can be stdin ('-') or a pipe" in result.stderr
