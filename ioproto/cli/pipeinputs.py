"""Inputs that are pipes, for the command: ``-`` (stdin), a named pipe (``mkfifo``) or a
shell's ``<(…)`` (``/dev/fd/63``).

Why a pipe is read as stdin, and how stdin is judged by its first bytes, is
:mod:`ioproto.pipeinputs`, shared with :func:`ioproto.decode`. The command owns its process,
so :func:`read_pipes_as_stdin` puts a named pipe on file descriptor 0 itself (its workers
and the sinks that ask whether stdin streams see it as stdin), and a run may have one such
input at most.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence

from ioproto.pipeinputs import read_once

from .mistakes import Mistake


def read_pipes_as_stdin(inputs: Sequence[str]) -> list[str]:
    """``inputs`` with a named pipe among them read as ``-``: the pipe opened once, on file
    descriptor 0. A :class:`~.mistakes.Mistake` when two inputs are pipes (``-`` twice, or
    ``-`` and a named pipe)."""
    pipes = read_once(inputs)
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
