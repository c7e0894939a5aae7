"""Inputs that are pipes: ``-`` (stdin), a named pipe (``mkfifo``), a socket, a shell's
``<(…)`` (``/dev/fd/63``), or a character device (a terminal), for :func:`ioproto.decode`
and the command alike.

A pipe can be read only once. The sources tell a capture from lines by peeking at the first
bytes of an input, which stdin's buffer keeps for the reading that follows; a pipe opened by
name for that peek and opened again to be read would have lost them, or would wait for a
writer that has gone. So a pipe is read as stdin is, opened once: the command puts it on
file descriptor 0 (``ioproto.cli.pipeinputs``), the library makes a reader of it
``sys.stdin`` while a source reads it (:func:`read_as_stdin`), and the source is given
``"-"``.

Without a named source, stdin gets the verdict a file of its first bytes would get
(:func:`stdin_source`): binary garbage piped in is refused as the same bytes in a file are.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from .components import Source, optional
from .errors import NoSourceError, UsageError

if TYPE_CHECKING:
    from .plugins import Components

T = TypeVar("T")

#: How much of stdin a source may judge it by (what a source's ``probe`` reads of a file).
HEAD_BYTES = 4096


def is_pipe(path: str) -> bool:
    """Whether ``path`` names a pipe, a socket or a character device (a terminal, a serial
    line): an input that can be read only once."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


def read_once(inputs: Iterable[str]) -> list[str]:
    """The inputs among ``inputs`` that are read as stdin: ``-`` and pipes."""
    return [item for item in inputs if item == "-" or is_pipe(item)]


def open_pipe(path: str) -> BinaryIO:
    """``path`` opened once for reading (it waits for a writer, as reading it would); one
    that cannot be opened is a :class:`~ioproto.errors.UsageError`."""
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def read_as_stdin(stream: BinaryIO, make: Callable[[], Iterable[T]]) -> Iterator[T]:
    """The records ``make()`` gives (a source's, reading ``"-"``: its choice and its
    ``open``), with ``stream`` as ``sys.stdin`` while it runs and while each record is made,
    the caller's own ``sys.stdin`` in between; ``stream`` closed at the end."""
    stdin = io.TextIOWrapper(stream)  # type: ignore[arg-type]
    iterator: Iterator[T] | None = None
    try:
        iterator = _as_stdin(stdin, lambda: iter(make()))
        while True:
            try:
                record = _as_stdin(stdin, lambda: next(iterator))
            except StopIteration:
                return
            yield record
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:  # a loop left early: the source ends before its stream
            _as_stdin(stdin, close)
        stdin.close()


def _as_stdin(stdin: io.TextIOWrapper, call: Callable[[], T]) -> T:
    saved = sys.stdin
    sys.stdin = stdin
    try:
        return call()
    finally:
        sys.stdin = saved


def stdin_source(
    components: Components,
    source: str | None = None,
    option: str = "source=",
    what: str = "stdin ('-')",
) -> Source:
    """The source that reads stdin (``-``): the one named ``source``, or the one a file of
    stdin's first bytes would get (:func:`stdin_head`). A :class:`~ioproto.errors.NoSourceError`
    says what the bytes are not; a named source whose ``probe("-")`` refuses stdin (``har``)
    is a :class:`~ioproto.errors.UsageError` saying what to give it instead. ``option`` is
    how the caller names a source (``--source`` for the command), ``what`` how the messages
    name the input (a named pipe read as stdin: its path)."""
    from .pipeline import resolve_source

    if source is None:
        with stdin_head() as head:
            try:
                chosen = resolve_source(components, head)
            except NoSourceError as exc:
                raise NoSourceError(
                    "-",
                    exc.valid,
                    f"no capture source can read {what}: its first bytes are neither a "
                    "capture (pcap, pcapng, gzip) nor Engine.IO lines; name one with "
                    f"{option} (valid: {', '.join(exc.valid)})",
                ) from None
    else:
        chosen = components.sources.get(source)
    if not _takes_stdin(chosen):
        raise UsageError(_not_stdin(chosen, option, what))
    return chosen


@contextmanager
def stdin_head() -> Iterator[str]:
    """The path of a temporary file holding stdin's first bytes, for the sources' ``probe``
    to judge as they judge a file. The bytes are peeked: they stay in stdin's buffer for the
    source that reads it. A peek waits for the first read only (a slow writer's first line
    is enough), never for :data:`HEAD_BYTES`."""
    with tempfile.TemporaryDirectory(prefix="ioproto-stdin-") as folder:
        path = os.path.join(folder, "stdin")  # no suffix: judged by its bytes alone
        with open(path, "wb") as handle:
            handle.write(peek_stdin())
        yield path


def peek_stdin() -> bytes:
    """Stdin's first bytes, left in its buffer for the reading that follows: what it holds
    already, or what one read gives (never waiting for more: a slow writer's first line is
    enough), at most :data:`HEAD_BYTES`; ``b""`` when it cannot be peeked."""
    peek = getattr(getattr(sys.stdin, "buffer", None), "peek", None)
    if peek is None:
        return b""
    try:
        return bytes(peek(HEAD_BYTES)[:HEAD_BYTES])
    except (OSError, ValueError):  # closed, or not readable
        return b""


def _takes_stdin(source: Source) -> bool:
    """Whether ``source`` says it reads stdin (its ``probe("-")`` is not negative); a probe
    that fails leaves it to the source's ``open`` to say."""
    try:
        return source.probe("-") >= 0
    except Exception:
        return True


def _not_stdin(source: Source, option: str, what: str) -> str:
    """What to say when ``source`` is named for stdin, which it cannot read."""
    prefixes = optional(source, "Source", "prefixes")
    if prefixes:
        instead = "give it " + " or ".join(f"{prefix}…" for prefix in prefixes)
    else:
        instead = f"name the file instead: {_naming(option, source.name)}"
    return f"the {source.name} source cannot read {what}; {instead}"


def _naming(option: str, name: str) -> str:
    """How the caller names the source ``name`` for a file: ``--source har FILE``."""
    if option.startswith("--"):
        return f"{option} {name} FILE"
    return f"{option}{name!r} and the file's path"
