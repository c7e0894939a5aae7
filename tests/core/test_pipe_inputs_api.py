"""``ioproto.decode`` reads a named pipe (``mkfifo``), a ``/dev/fd/N`` and stdin (``-``) as
the command does (ioproto.pipeinputs): opened once, the source told by its first bytes.
Before, the sources' guess opened a named pipe by name and read its first bytes, and the
source opened it again: a hang, or a capture without its first bytes. A thread writes each
pipe; each decode runs in a thread of its own, so that a hang fails the test instead of
stopping it."""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ioproto

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "examples" / "chat.pcap"
HAR = ROOT / "tests" / "data" / "har" / "chromium-socketio.har"
LINES = b'40\n42["chat","hi"]\n'
GARBAGE = bytes(range(256)) * 2


def write_later(path_or_fd: str | int, data: bytes) -> threading.Thread:
    def write() -> None:
        try:
            with open(path_or_fd, "wb") as pipe:
                pipe.write(data)
        except BrokenPipeError:  # the reader stopped early
            pass

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def within(seconds: float, call: Callable[[], Any]) -> Any:
    """``call()`` in a thread; a failure if it has not returned after ``seconds``."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def records(inputs: Any, **kwargs: Any) -> list[str]:
    return [repr(record) for record in ioproto.decode(inputs, **kwargs)]


def fifo_with(tmp_path: Path, data: bytes) -> str:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    write_later(str(fifo), data)
    return str(fifo)


@pytest.mark.parametrize("jobs", [None, 1])
def test_a_named_pipe_gives_the_records_its_file_gives(tmp_path: Path, jobs: int | None) -> None:
    fifo = fifo_with(tmp_path, CHAT.read_bytes())
    got = within(30, lambda: records(fifo, jobs=jobs))
    assert got and got == records(str(CHAT), jobs=jobs)


def test_a_named_pipe_of_lines_is_decoded(tmp_path: Path) -> None:
    fifo = fifo_with(tmp_path, LINES)
    got = within(30, lambda: list(ioproto.decode(Path(fifo))))
    assert [record.event for record in got if record.layer == "socketio"] == [None, "chat"]


def test_a_process_substitution_among_files(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    write_later(write_end, CHAT.read_bytes())
    try:
        got = within(30, lambda: records([str(CHAT), f"/dev/fd/{read_end}"], jobs=1))
    finally:
        os.close(read_end)
    assert got == records([str(CHAT), str(CHAT)], jobs=1)


def test_a_named_pipe_of_garbage_says_what_it_is_not(tmp_path: Path) -> None:
    fifo = fifo_with(tmp_path, GARBAGE)
    with pytest.raises(ioproto.NoSourceError) as raised:
        within(30, lambda: records(fifo))
    assert str(raised.value).startswith(
        f"no capture source can read {fifo}: its first bytes are neither a capture"
    )
    assert "name one with source= (valid: " in str(raised.value)


def test_the_callers_stdin_is_its_own_between_records(tmp_path: Path) -> None:
    """The pipe stands in for ``sys.stdin`` only while a record is made; a loop left early
    closes it (the writer sees the pipe closed) and leaves ``sys.stdin`` as it was."""
    original = sys.stdin
    fifo = fifo_with(tmp_path, CHAT.read_bytes() * 20)  # more than a pipe holds

    def first_three() -> list[bool]:
        seen = []
        stream = ioproto.decode(fifo)
        for _record in stream:
            seen.append(sys.stdin is original)
            if len(seen) == 3:
                break
        stream.close()
        return seen

    assert within(30, first_three) == [True, True, True]
    assert sys.stdin is original


def stdin_of(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))


def test_stdin_of_garbage_gets_the_commands_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not one ``capture.file.invalid`` record, as before: a :class:`NoSourceError` saying
    what the bytes are not, as the command says (tests/core/test_pipe_inputs.py)."""
    stdin_of(monkeypatch, GARBAGE)
    with pytest.raises(ioproto.NoSourceError, match="its first bytes are neither"):
        records("-")


def test_stdin_of_a_har_says_to_name_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin_of(monkeypatch, HAR.read_bytes())
    with pytest.raises(ioproto.UsageError) as raised:
        records("-")
    assert str(raised.value) == (
        "the har source cannot read stdin ('-'); name the file instead: source='har' and "
        "the file's path"
    )


@pytest.mark.parametrize("source", [None, "pcap"])
def test_stdin_of_a_capture_gives_the_files_records(
    monkeypatch: pytest.MonkeyPatch, source: str | None
) -> None:
    stdin_of(monkeypatch, CHAT.read_bytes())
    got = records("-", source=source)
    assert got and got == records(str(CHAT), source=source, jobs=1)


def test_a_character_device_is_read_once(tmp_path: Path) -> None:
    """``/dev/null`` (as a terminal would be) is opened once and judged by what its first read
    brings: nothing, so no record, rather than "no source can read it"."""
    assert within(30, lambda: records("/dev/null")) == []


def test_a_named_pipe_of_a_har_says_to_name_the_file(tmp_path: Path) -> None:
    fifo = fifo_with(tmp_path, HAR.read_bytes())
    with pytest.raises(ioproto.UsageError) as raised:
        within(30, lambda: records(fifo))
    assert str(raised.value).startswith(f"the har source cannot read {fifo}; name the file")
