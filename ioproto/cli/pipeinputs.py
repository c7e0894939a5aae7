"""Inputs that are pipes: ``-`` (stdin), a named pipe (``mkfifo``) or a shell's ``<(…)``
(``/dev/fd/63``).

A pipe can be read only once. The sources tell a capture from lines by peeking at the first
bytes of an input, which stdin's buffer keeps for the reading that follows; a pipe opened by
name for that peek and opened again to be read would have lost them, or would wait for a
writer that has gone. So a named pipe is read as stdin: :func:`read_pipes_as_stdin` puts it
in stdin's place, and a run may have one such input at most.

Without ``--source``, stdin gets the verdict a file of its first bytes would get
(:func:`stdin_head`): binary garbage piped in is refused as the same bytes in a file are.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .mistakes import Mistake


def read_pipes_as_stdin(inputs: Sequence[str]) -> list[str]:
    """``inputs`` with a named pipe among them read as ``-``: the pipe opened once, on file
    descriptor 0. A :class:`~.mistakes.Mistake` when two inputs are pipes (``-`` twice, or
    ``-`` and a named pipe)."""
    pipes = [item for item in inputs if item == "-" or _is_pipe(item)]
    if len(pipes) > 1:
        named = " and ".join(dict.fromkeys(repr(item) for item in pipes))
        raise Mistake(
            f"{named}: only one input can be stdin ('-') or a pipe (each is read once); "
            "save the others to files first"
        )
    if not pipes or pipes[0] == "-":
        return list(inputs)
    (pipe,) = pipes
    try:
        fd = os.open(pipe, os.O_RDONLY)  # waits for a writer, as reading it would
    except OSError as exc:
        raise Mistake(f"cannot read {pipe}: {exc.strerror or exc}") from None
    os.dup2(fd, 0)
    os.close(fd)
    return ["-" if item == pipe else item for item in inputs]


def stdin_streams() -> bool:
    """Whether stdin is a stream that may still be written to (a pipe, a terminal, a
    socket), not a regular file redirected in: what it brings may arrive as it happens
    (``tcpdump -U -w - | ioproto decode -``), so its records are shown as they come."""
    try:
        return not stat.S_ISREG(os.fstat(0).st_mode)
    except (OSError, ValueError):
        return False


def _is_pipe(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


#: How much of stdin a source may judge it by (what a source's ``probe`` reads of a file).
HEAD_BYTES = 4096


@contextmanager
def stdin_head() -> Iterator[str]:
    """The path of a temporary file holding stdin's first bytes, for the sources' ``probe``
    to judge as they judge a file. The bytes are peeked: they stay in stdin's buffer for the
    source that reads it. A peek waits for the first read only (a slow writer's first line
    is enough), never for :data:`HEAD_BYTES`."""
    with tempfile.TemporaryDirectory(prefix="ioproto-stdin-") as folder:
        path = os.path.join(folder, "stdin")  # no suffix: judged by its bytes alone
        with open(path, "wb") as handle:
            handle.write(_peek_stdin())
        yield path


def _peek_stdin() -> bytes:
    peek = getattr(getattr(sys.stdin, "buffer", None), "peek", None)
    if peek is None:
        return b""
    try:
        return bytes(peek(HEAD_BYTES)[:HEAD_BYTES])
    except (OSError, ValueError):  # closed, or not readable
        return b""
