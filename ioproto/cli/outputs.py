"""Output files that a failed run leaves as they were.

``-o traffic.jsonl`` opened with ``open(path, "w")`` is emptied at once; should the run then
end on a mistake found only when the input opens (a proxy whose port is taken, an interface
that does not exist), yesterday's records would be gone for nothing. An
:class:`OutputFiles` opens each file without emptying it, and empties it on the first
write, or when the run ends without writing anything (an empty result is an empty file,
as before); :meth:`OutputFiles.abandon` (the run failed) leaves a file nobody wrote to as
it was, and removes one that the run created.

A file that cannot be written (a full disk) fails the sink writing to it, which the run
reports as a sink failure, naming the file; its close then says nothing more. A file whose
first failure comes only as it closes (a short output, held in the buffer until then) ends
the command with one line, exit status 1. A pipe whose reader went away (``-o /dev/stdout |
head -1``) is not a failure: the run ends quietly, as with plain stdout.
"""

from __future__ import annotations

import io
import os
from contextlib import ExitStack, suppress
from typing import IO, Any

import click

#: Names of the standard output itself. Opened again, it would be a new open of the file
#: behind it, without the shell's ``O_APPEND``: ``-o /dev/stdout >> log`` would empty
#: ``log`` (or write over it); these are written through ``sys.stdout``, as ``-`` is.
STDOUT_NAMES = frozenset({"-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})


class _EmptiedOnFirstWrite(io.FileIO):
    """A file opened for writing that keeps its content until the first write."""

    def __init__(self, path: str) -> None:
        self.created = not os.path.exists(path)
        super().__init__(os.open(path, os.O_WRONLY | os.O_CREAT, 0o666), "w", closefd=True)
        self.path = path
        self.emptied = False
        self.failed = False  # a write failed: the sink that wrote reported it

    def empty(self) -> None:
        if not self.emptied:
            self.emptied = True
            with suppress(OSError):  # not a regular file (/dev/null, a pipe): nothing to empty
                os.ftruncate(self.fileno(), 0)

    def write(self, data: Any, /) -> int:
        if not self.emptied:
            self.empty()
        try:
            return super().write(data)
        except BrokenPipeError:
            raise
        except OSError as exc:
            self.failed = True
            raise OSError(exc.errno, exc.strerror, self.path) from None


class OutputFiles:
    """The output files of one run, opened on ``stack`` (see the module docstring); a run
    that ends on an exception of type ``abandon_on`` (the user's mistake) is abandoned."""

    def __init__(self, stack: ExitStack, *, abandon_on: type[BaseException] | None = None) -> None:
        self._stack = stack
        self._raws: list[_EmptiedOnFirstWrite] = []
        self._abandoned = False
        self._abandon_on = abandon_on
        stack.push(self._exit)  # runs after the streams opened later have closed

    def open(self, path: str) -> IO[str]:
        """``path`` for writing text (UTF-8), as ``open(path, "w")`` but not emptied yet;
        ``OSError`` when it cannot be opened."""
        raw = _EmptiedOnFirstWrite(path)
        self._raws.append(raw)
        try:
            stream = io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8")
        except BaseException:
            raw.close()
            raise
        self._stack.callback(_close, stream, raw)
        return stream

    def abandon(self) -> None:
        """The run failed: leave every file nobody wrote to as it was (one this run made
        is removed)."""
        self._abandoned = True

    def _exit(self, kind: type[BaseException] | None, *_: object) -> bool:
        if kind is not None and self._abandon_on is not None and issubclass(kind, self._abandon_on):
            self._abandoned = True
        self._finish()
        return False

    def _finish(self) -> None:
        for raw in self._raws:
            if raw.emptied:
                continue
            if self._abandoned:
                if raw.created:
                    with suppress(OSError):
                        os.unlink(raw.path)
                continue
            if not os.path.isfile(raw.path):
                continue  # /dev/null, a pipe (opening a pipe again could block)
            with suppress(OSError):
                os.truncate(raw.path, 0)


def _close(stream: IO[str], raw: _EmptiedOnFirstWrite) -> None:
    """Close ``stream``: a failure to write out what it holds is one line, exit status 1,
    unless a write to it failed before (the sink writing it has reported that). A pipe whose
    reader went away (``-o /dev/stdout | head -1``) is no failure: the run ends quietly, as
    it does when plain stdout's reader goes."""
    try:
        stream.close()
    except BrokenPipeError:
        pass
    except OSError as exc:
        if not raw.failed:
            raise click.ClickException(f"cannot write {raw.path}: {exc.strerror or exc}") from None
