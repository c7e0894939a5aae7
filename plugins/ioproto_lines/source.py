"""Reading raw Engine.IO packets, one per line, from files or stdin.

Line syntax (see docs/cli.md):

* ``4hello\\x1e2`` — a packet or a polling payload as text; ``\\xHH`` escapes give any byte
  (turn them off with the source option ``escapes=false``). A real ``\\x1e`` byte works too.
* ``hex: 04 01 02`` — a binary Engine.IO message (what a WebSocket binary frame carries).
* ``> `` / ``< `` before either form — sent by the client / by the server.
* ``# comment`` — ignored. ``#! key=value ...`` — set ``revision``, ``sid``, ``transport`` or
  ``direction`` for the lines that follow.
* Empty lines are ignored.

The settings ``revision``, ``sid`` and ``transport`` (directives or source options) are what a
URL would say: each chunk carries them as the query of an :class:`HttpInfo` (``EIO``, ``sid``,
``transport``), from which the Engine.IO layer derives its facts as it does for captures.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from ioproto_http.records import Chunk, ChunkKind, HttpInfo

from ioproto.components import SourceContext, choice_option, flag_option
from ioproto.model import Direction, ErrorRecord, InputSummary, Record
from ioproto.pipeinputs import HEAD_BYTES, peek_stdin

_ESCAPE = re.compile(rb"\\x([0-9a-fA-F]{2})")
_PCAP_MAGICS = (
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
    b"\x1f\x8b",
)
_TEXT_SUFFIXES = {".txt", ".lines", ".eio", ".log"}
_DIRECTIVE_KEYS = {"revision", "sid", "transport", "direction"}


def _settings(options: Mapping[str, Any]) -> tuple[bool, dict[str, Any]]:
    """``escapes``, and the settings of the lines until a ``#!`` line changes them."""
    escapes = flag_option(options, "escapes", True)
    revision = choice_option(options, "revision", ("2", "3", "4"))
    settings: dict[str, Any] = {
        "revision": None if revision is None else int(revision),
        "sid": options.get("sid"),
        "transport": options.get("transport"),
        "direction": choice_option(options, "direction", ("c2s", "s2c")),
    }
    return escapes, settings


class LinesSource:
    """Source ``lines``: see the module docstring for the syntax."""

    name = "lines"
    description = "raw Engine.IO packets or polling payloads, one per line (file or '-')"
    options = {
        "escapes": "false: keep \\xHH sequences as they are",
        "revision": "the Engine.IO revision of the lines until a #! line says otherwise",
        "sid": "the session id of the lines until a #! line says otherwise",
        "transport": "the transport of the lines until a #! line says otherwise",
        "direction": "c2s or s2c: the direction of unmarked lines",
    }
    types = tuple(ChunkKind)

    def probe(self, input: str) -> float:
        """High for .txt-like files; other files and ``-`` are judged by their first bytes
        (:func:`_could_be_lines`): lines are high for ``-``, low for a file; a file of other
        bytes (a README) is no input, while ``-`` of other bytes (but a capture's) gets a
        score below the pcap source's, positive: ``--source lines -`` reads it."""
        if input == "-":
            head = peek_stdin()
            if head.startswith(_PCAP_MAGICS):
                return -1.0
            return 1.0 if _could_be_lines(head) else 0.05
        path = Path(input)
        if not path.is_file():
            return -1.0
        if path.suffix.lower() in _TEXT_SUFFIXES:
            return 0.8
        try:
            with path.open("rb") as handle:
                head = handle.read(HEAD_BYTES)
        except OSError:
            return -1.0
        return 0.3 if _could_be_lines(head) else -1.0

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` for an option value not taken."""
        _settings(options)

    def open(self, input: str, context: SourceContext) -> Iterator[Chunk | Record]:
        """Chunks of kind ``line`` / ``line-binary``, one per non-empty, non-comment line."""
        escapes, settings = _settings(context.options)
        connection = "stdin" if input == "-" else input
        try:
            if input == "-":
                lines = yield from _read(sys.stdin.buffer, connection, escapes, settings, context)
            else:
                with open(input, "rb") as handle:
                    lines = yield from _read(handle, connection, escapes, settings, context)
            if not lines:
                said = (
                    "it ended before its first byte (nothing was written to it)"
                    if input == "-"
                    else "the file is empty (0 bytes)"
                )
                yield InputSummary(ts=time.time(), input=input, empty_reason=said)
            else:  # the input's end, for the layers that judge what it leaves open
                yield InputSummary(ts=time.time(), input=input, counts={"lines": lines})
        except OSError as exc:
            now = time.time()
            reason = f"cannot read {input}: {exc}"
            yield ErrorRecord(
                ts=now,
                connection=connection,
                layer="capture",
                rule="capture.file.unreadable",
                reason=reason,
            )
            said = f"cannot read it: {exc.strerror or exc}"
            yield InputSummary(ts=now, input=input, empty_reason=said, unreadable=said)


def _read(
    handle: IO[bytes],
    connection: str,
    escapes: bool,
    settings: dict[str, Any],
    context: SourceContext,
) -> Generator[Chunk | Record, None, int]:
    """The chunks of ``handle``'s lines; ``settings`` (from the source options) change with
    the ``#!`` lines. Returns how many lines there were."""
    seq = 0
    limit = context.limits.max_payload
    http = _url_of(settings)
    number = 0
    for number, line, skipped in _bounded_lines(handle, _raw_limit(limit)):
        if skipped:
            reason = f"line {number}: {skipped} bytes, more than the limit of {limit}"
            yield _error(connection, "capture.lines.too-long", reason, number, line, context)
            continue
        if line.endswith(b"\n"):
            line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
        if not line:
            continue
        if line.startswith(b"#"):
            if line.startswith(b"#!"):
                error = _apply_directive(line[2:], settings, connection, number)
                if error is not None:
                    yield error
                http = _url_of(settings)
            continue
        direction: Direction | None = settings["direction"]
        if line[:2] == b"> ":
            direction, line = "c2s", line[2:]
        elif line[:2] == b"< ":
            direction, line = "s2c", line[2:]
        kind = ChunkKind.LINE
        if line[:4].lower() == b"hex:":
            try:
                line = bytes.fromhex(line[4:].decode("ascii"))
            except (UnicodeDecodeError, ValueError):
                reason = f"line {number}: not valid hex after 'hex:'"
                yield _error(connection, "capture.lines.bad-hex", reason, number, line, context)
                continue
            kind = ChunkKind.LINE_BINARY
        elif escapes and b"\\x" in line:
            line = _ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), line)
        if len(line) > limit:
            reason = f"line {number}: {len(line)} bytes, more than the limit of {limit}"
            yield _error(connection, "capture.lines.too-long", reason, number, line, context)
            continue
        seq += 1
        yield Chunk(
            ts=time.time(),
            connection=connection,
            direction=direction,
            kind=kind,
            data=bytes(line),
            http=http,
            seq=seq,
        )
    return number


def _error(
    connection: str, rule: str, reason: str, number: int, line: bytes, context: SourceContext
) -> ErrorRecord:
    """An error record about line ``number`` (its number is the ``offset``)."""
    return ErrorRecord(
        ts=time.time(),
        connection=connection,
        layer="capture",
        rule=rule,
        reason=reason,
        raw=line[: context.limits.max_raw_kept],
        offset=number,
    )


def _apply_directive(
    text: bytes, settings: dict[str, Any], connection: str, number: int
) -> ErrorRecord | None:
    for item in text.decode("utf-8", "replace").split():
        key, _, value = item.partition("=")
        if key not in _DIRECTIVE_KEYS:
            return ErrorRecord(
                ts=time.time(),
                connection=connection,
                layer="capture",
                rule="capture.lines.bad-directive",
                reason=f"line {number}: unknown setting {key!r} "
                f"(known: {', '.join(sorted(_DIRECTIVE_KEYS))})",
                offset=number,
            )
        if key == "revision":
            settings[key] = _int_or_none(value)
        elif key == "direction":
            settings[key] = value if value in ("c2s", "s2c") else None
        else:
            settings[key] = value or None
    return None


def _raw_limit(limit: int) -> int:
    """The longest line worth reading whole: ``\\xHH`` escapes (four characters for a byte)
    of a ``limit``-byte packet, a direction prefix and ``\\r\\n``."""
    return 4 * limit + 16


def _bounded_lines(handle: IO[bytes], longest: int) -> Iterator[tuple[int, bytes, int]]:
    """``(number, line, skipped)`` per line, never holding more than ``longest`` bytes.

    A longer line is read past in blocks, not kept: it comes as its first ``longest``
    bytes with ``skipped`` = its length without the line end (0 for every other line).
    """
    number = 0
    while True:
        line = handle.readline(longest)
        if not line:
            return
        number += 1
        if len(line) < longest or line.endswith(b"\n"):
            yield number, line, 0
            continue
        size = len(line)
        head = line[:4096]
        del line
        while True:
            rest = handle.readline(1 << 20)
            size += len(rest)
            if rest.endswith(b"\n"):
                size -= 2 if rest.endswith(b"\r\n") else 1
                break
            if not rest:
                break
        yield number, head, size


def _url_of(settings: dict[str, Any]) -> HttpInfo | None:
    """The settings as a URL's query (``None`` when none is set)."""
    names = (("EIO", "revision"), ("sid", "sid"), ("transport", "transport"))
    query = tuple((name, str(settings[key])) for name, key in names if settings[key] is not None)
    return HttpInfo(query=query) if query else None


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None and value != "" else None
    except ValueError:
        return None


def _could_be_lines(head: bytes) -> bool:
    """Whether an input starting with ``head`` may be lines: no capture magic, no NUL byte
    (binary data), and a first line that is not a comment starting as a line does."""
    return not head.startswith(_PCAP_MAGICS) and b"\x00" not in head and _first_line_fits(head)


def _first_line_fits(head: bytes) -> bool:
    """Whether the first line of ``head`` that is neither empty nor a comment starts as a
    line of this syntax does: a packet type or payload length (a digit), ``b`` (base64),
    a direction mark, or ``hex:``."""
    for line in head.splitlines():
        line = line.strip()
        if not line or line.startswith(b"#"):
            continue
        return line[:1] in b"0123456789b<>" or line[:4].lower() == b"hex:"
    return True  # nothing but comments so far: a lines file may well start so
