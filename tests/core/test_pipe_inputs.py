"""A named pipe (``mkfifo``) or a shell's ``<(…)`` (``/dev/fd/N``) as an input is read as
stdin is: once, the source told by its first bytes (ioproto.cli.pipeinputs). Before, the
source's guess read the pipe and the source then opened it again: a named pipe hung, and a
``<(…)`` capture was "not a pcap" (its first bytes gone). Each case runs the real command in
a subprocess, a thread writing the pipe."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest
from clirun import run_ioproto_bytes, start_ioproto

ROOT = Path(__file__).resolve().parents[2]
CHAT = ROOT / "examples" / "chat.pcap"
LINES = b'40\n42["chat","hi"]\n'


def decode(*args: str, pass_fds: tuple[int, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``decode --sink jsonl ARGS``, its output as text."""
    ran = run_ioproto_bytes("decode", "--sink", "jsonl", *args, pass_fds=pass_fds)
    return subprocess.CompletedProcess(
        ran.args, ran.returncode, ran.stdout.decode(), ran.stderr.decode()
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


GARBAGE = bytes(range(256)) * 2  # binary: NUL bytes, no line a packet could start
HAR = ROOT / "tests" / "data" / "har" / "chromium-socketio.har"


def decode_stdin(data: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run_ioproto_bytes("decode", *args, "-", input=data)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (GARBAGE, "no capture source can read stdin ('-'): its first bytes are neither a capture"),
        (b"\xff\xfe binary \x01 without a NUL\n", "no capture source can read stdin"),
        (b"hello, a README\n", "no capture source can read stdin"),
        (HAR.read_bytes(), "the har source cannot read stdin"),
    ],
)
def test_stdin_gets_the_verdict_its_bytes_get_as_a_file(
    tmp_path: Path, data: bytes, said: str
) -> None:
    """Piped in, bytes no source takes are refused as the same bytes in a file are (they
    were decoded as lines: one error record per 'line' of garbage, exit 0)."""
    as_file = tmp_path / "input"
    as_file.write_bytes(data)
    from_file = decode(str(as_file))
    piped = decode_stdin(data)
    if said.startswith("the har"):
        assert from_file.returncode == 0  # a HAR file is read, named
    else:
        assert from_file.returncode == 2 and "no capture source can read" in from_file.stderr
    lines = piped.stderr.decode().splitlines()
    assert (piped.returncode, piped.stdout, len(lines)) == (2, b"", 1), piped.stderr
    assert said in lines[0]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (GARBAGE, "no capture source can read {fifo}: its first bytes are neither a capture"),
        (HAR.read_bytes(), "the har source cannot read {fifo}; name the file instead"),
    ],
)
def test_a_named_pipe_no_source_reads_is_named_by_its_path(
    tmp_path: Path, data: bytes, said: str
) -> None:
    """As docs/embedding.md says of the API: the message names the pipe given, not stdin,
    which the user did not give (the command reads a named pipe as stdin)."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = write_later(str(fifo), data)
    result = decode(str(fifo))
    writer.join(10)
    lines = result.stderr.splitlines()
    assert (result.returncode, result.stdout, len(lines)) == (2, "", 1), result.stderr
    assert said.format(fifo=fifo) in lines[0]


def test_stdin_carrying_a_capture_or_lines_is_still_read(tmp_path: Path) -> None:
    gzipped = tmp_path / "chat.pcap.gz"
    subprocess.run(["gzip", "-c", str(CHAT)], stdout=gzipped.open("wb"), check=True)
    for data, want in ((CHAT.read_bytes(), expected(CHAT)), (gzipped.read_bytes(), None)):
        piped = decode_stdin(data, "--sink", "jsonl")
        assert piped.returncode == 0, piped.stderr
        assert piped.stdout.decode() == (want or expected(CHAT))
    typed = b'# typed by hand\n\n> 40\n42["chat","hi"]\n'
    piped = decode_stdin(typed, "--sink", "jsonl")
    assert piped.returncode == 0 and b'"event":"chat"' in piped.stdout, piped.stderr
    named = decode_stdin(b"hello\n", "--source", "lines")  # named, the source reads it
    assert named.returncode == 0 and b"engineio.packet.bad-type" in named.stdout


def start_decode(sink: str, output: int) -> subprocess.Popen[bytes]:
    """``decode --sink SINK -`` reading a pipe this test writes, its stdout the file
    descriptor ``output`` (closed here: the child holds it)."""
    process = start_ioproto(
        "decode", "--sink", sink, "-", stdin=subprocess.PIPE, stdout=output, stderr=subprocess.PIPE
    )
    os.close(output)
    return process


@pytest.mark.parametrize("output", ["terminal", "pipe"])
def test_lines_from_a_slow_writer_show_as_they_arrive(output: str) -> None:
    """Live means live: judging stdin waits for its first read, not for 4 KiB, and each
    line's records are on the terminal, or in the pipe that stdout is (`- | jq`), before
    the next line is written (a pipe on stdin may bring traffic as it happens)."""
    import pty
    import select
    import time

    main, terminal = pty.openpty() if output == "terminal" else os.pipe()
    process = start_decode("text", terminal)
    assert process.stdin is not None
    seen: list[tuple[str, float]] = []
    output = b""
    try:
        for event in ("first", "second"):
            written = time.monotonic()
            process.stdin.write(f'42["{event}"]\n'.encode())
            process.stdin.flush()
            while f'"{event}"'.encode() not in output:
                ready, _, _ = select.select([main], [], [], 20)
                assert ready, f"no record of {event!r} 20 s after its line: {output!r}"
                output += os.read(main, 65536)
            seen.append((event, time.monotonic() - written))
            time.sleep(0.5)  # a pause before the next line, as a slow writer makes
        process.stdin.close()
        assert process.wait(30) == 0
    finally:
        process.kill()
        os.close(main)
    assert [event for event, _ in seen] == ["first", "second"]


def test_a_capture_piped_in_shows_its_records_before_it_ends() -> None:
    """`tcpdump -U -w - | ioproto decode - | consumer`: the records of the packets written so
    far reach the output pipe while the writer still holds stdin open."""
    import select
    import struct

    data = CHAT.read_bytes()
    first, position = [data[:24]], 24
    while len(first) <= 12:  # the handshake: records, but fewer than a block of output
        (length,) = struct.unpack_from("<I", data, position + 8)
        first.append(data[position : position + 16 + length])
        position += 16 + length
    reading, writing = os.pipe()
    process = start_decode("jsonl", writing)
    assert process.stdin is not None
    try:
        process.stdin.write(b"".join(first))
        process.stdin.flush()
        ready, _, _ = select.select([reading], [], [], 20)
        assert ready, "no record 20 s after the first packets were written"
        assert os.read(reading, 65536).startswith(b"{")
        process.stdin.write(data[position:])
        process.stdin.close()
        assert process.wait(30) == 0
    finally:
        process.kill()
        os.close(reading)


def test_a_character_device_is_read_as_stdin() -> None:
    """``/dev/null`` (as a terminal would be) is read once, as stdin: nothing in it, said so,
    rather than "no capture source can read '/dev/null'"."""
    result = decode("/dev/null")
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    said = "ioproto: /dev/null: it ended before its first byte (nothing was written to it)\n"
    assert result.stderr == said


def test_empty_stdin_says_that_nothing_came() -> None:
    result = run_ioproto_bytes("decode", "-", input=b"")
    assert (result.returncode, result.stdout) == (0, b""), result.stderr
    said = b"ioproto: -: it ended before its first byte (nothing was written to it)\n"
    assert result.stderr == said
