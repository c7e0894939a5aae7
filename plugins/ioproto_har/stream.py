"""A HAR file's entries read one at a time (:func:`read_entries`), so that memory holds one
entry and a read buffer, not the whole document (a 300 MB HAR parsed whole took 923 MB).

Each value is parsed by the standard library's JSON decoder (``raw_decode``), as the whole
file was before: an entry reads the same, absurd values included (``NaN``, ``1e400``, huge
integers through ``parse_int``). Only the skeleton around the entries (``{"log":
{"entries": [`` … ``]}}``) is walked here: the other members are parsed and dropped, and
the document is checked to its end, so that a file that is no HAR says what is wrong in the
words a whole parse gave (``it has no "log" object``, ``it is not JSON (extra data at line
2, column 1)``).

A fault found after some entries (broken JSON in the middle, a cut file) is raised when the
reading reaches it: the entries before it have been given.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any, TypeVar

#: Bytes read at a time; a value larger than what is buffered doubles the next read.
_READ = 1 << 20
#: An error this close to the end of what is buffered may be the buffer's end, not the file's.
_NEAR_END = 64
_SPACE = re.compile(r"[ \t\n\r]*")

T = TypeVar("T")


class NotAHar(Exception):
    """A file that cannot be read as a HAR (or, after some entries, no further); the message
    says why in words (``it has no "log" object``), for the line ``not a readable HAR: …``."""


def read_entries(input: str, parse_int: Callable[[str], Any]) -> Iterator[Any]:
    """The elements of the ``log.entries`` list of the HAR file ``input``, in order.

    Raises :class:`NotAHar` when it is not one (empty, not JSON, another shape of JSON,
    unreadable) — after the entries before the fault, if it comes after some — and
    ``FileNotFoundError`` when there is no such file."""
    try:
        handle = open(input, "rb")  # noqa: SIM115 (closed below, also when not read to the end)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise NotAHar(f"cannot read it ({exc.strerror or exc})") from None
    with handle:
        text = _Text(handle, json.JSONDecoder(parse_int=parse_int))
        try:
            yield from _entries(text)
        except json.JSONDecodeError as exc:
            why = exc.msg[:1].lower() + exc.msg[1:].removesuffix(" at")  # "…starting at"
            line, column = text.where(exc)
            raise NotAHar(f"it is not JSON ({why} at line {line}, column {column})") from None
        except UnicodeDecodeError:
            raise NotAHar("it is not JSON (its bytes are not UTF-8 text)") from None
        except RecursionError:
            raise NotAHar("its JSON is nested too deep") from None
        except MemoryError:
            raise NotAHar("it is too large to read into memory") from None
        except OSError as exc:
            raise NotAHar(f"cannot read it ({exc.strerror or exc})") from None


def _entries(text: _Text) -> Iterator[Any]:
    """The entries of the document in ``text``; a shape that is no HAR is said only once the
    whole document has parsed, as a whole parse said a JSON error first."""
    if text.at_end():
        if text.empty():
            raise NotAHar("the file is empty (0 bytes)")
        raise json.JSONDecodeError("Expecting value", text.buffer, text.position)
    if text.peek() != "{":
        value = text.value()
        text.end()
        raise NotAHar(f'it is {json_kind(value)}; a HAR is an object with a "log" object')
    problem: str | None = 'it has no "log" object'
    for _ in _member(text, "log"):
        if text.peek() != "{":
            problem = f'its "log" is {json_kind(text.value())}, not an object'
            continue
        problem = 'its "log" object has no "entries" list'
        for _ in _member(text, "entries"):
            if text.peek() != "[":
                problem = f'its "log.entries" is {json_kind(text.value())}, not a list'
                continue
            problem = None
            yield from text.elements()
    text.end()
    if problem is not None:
        raise NotAHar(problem)


def _member(text: _Text, name: str) -> Iterator[None]:
    """Walk the object that starts here: every member is parsed and dropped but the first
    named ``name``, at whose value this yields once for the caller to read it."""
    seen = False
    for key in text.members():
        if key != name or seen:
            text.value()
            continue
        seen = True
        yield


def json_kind(value: Any) -> str:
    """What ``value``, parsed from JSON, is, in JSON's words: ``a list``, ``null`` …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


class _Text:
    """The file's text, decoded as it is read, with the position of the parse in it.

    ``buffer[position:]`` is what is read and not yet parsed; what is before ``position``
    is dropped at the next read, its lines counted for :meth:`where`."""

    def __init__(self, handle: IO[bytes], decoder: json.JSONDecoder) -> None:
        self._handle = handle
        self._decoder = decoder
        self._text: codecs.IncrementalDecoder | None = None
        self.buffer = ""
        self.position = 0
        self._eof = False
        self._bytes = 0  # read so far
        self._lines_before = 0  # newlines in the text dropped from the buffer
        self._column_before = 0  # characters after the last of them, dropped too

    def _read(self, at_least: int = 0) -> bool:
        """Read at least ``at_least`` more bytes (or to the end); whether any text came."""
        if self._eof:
            return False
        # (the first read has the 4 bytes that tell the encoding, as json.loads reads them)
        data = self._handle.read(max(at_least, _READ, 4 if self._text is None else 1))
        self._bytes += len(data)
        if self._text is None:
            # As json.loads does for bytes: UTF-8 (a BOM skipped), or UTF-16/32 by their nulls.
            self._text = codecs.getincrementaldecoder(json.detect_encoding(data))("surrogatepass")
        more = self._text.decode(data, final=not data)
        if not data:
            self._eof = True
        dropped = self.buffer[: self.position]
        newlines = dropped.count("\n")
        if newlines:
            self._lines_before += newlines
            self._column_before = len(dropped) - dropped.rfind("\n") - 1
        else:
            self._column_before += len(dropped)
        self.buffer = self.buffer[self.position :] + more
        self.position = 0
        return bool(more) or not self._eof

    def where(self, error: json.JSONDecodeError) -> tuple[int, int]:
        """The line and column in the file of ``error`` in the buffer (1-based)."""
        if error.lineno == 1:
            return self._lines_before + 1, self._column_before + error.colno
        return self._lines_before + error.lineno, error.colno

    def _skip_space(self) -> None:
        while True:
            match = _SPACE.match(self.buffer, self.position)
            assert match is not None  # the pattern matches the empty string
            self.position = match.end()
            if self.position < len(self.buffer) or not self._read():
                return

    def empty(self) -> bool:
        """Whether the file has no bytes at all (once :meth:`at_end` has said so)."""
        return self._eof and not self._bytes

    def at_end(self) -> bool:
        self._skip_space()
        return self.position >= len(self.buffer)

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        self._skip_space()
        return self.buffer[self.position : self.position + 1]

    def _expect(self, what: str, message: str) -> None:
        if self.peek() != what:
            raise json.JSONDecodeError(message, self.buffer, self.position)
        self.position += 1

    def value(self) -> Any:
        """The next JSON value, parsed whole (read on until it is in the buffer)."""
        self._skip_space()
        while True:
            try:
                value, end = self._decoder.raw_decode(self.buffer, self.position)
            except json.JSONDecodeError as exc:
                maybe_cut = exc.msg.startswith("Unterminated string") or (
                    len(self.buffer) - exc.pos < _NEAR_END
                )
                if not maybe_cut or self._eof:
                    raise  # (at the end, the error is of the buffer as it now is)
            else:
                # A number near the buffer's end may go on in the next read ("0." then "5").
                if len(self.buffer) - end >= _NEAR_END or self._eof:
                    self.position = end
                    return value
            self._read(len(self.buffer) - self.position)  # the value is bigger: read more

    def members(self) -> Iterator[str]:
        """The keys of the object that starts here; after each, the caller parses its value."""
        return self._sequence("{", "}", self._key)

    def elements(self) -> Iterator[Any]:
        """The values of the list that starts here, each parsed whole."""
        return self._sequence("[", "]", self.value)

    def _key(self) -> str:
        if self.peek() != '"':
            message = "Expecting property name enclosed in double quotes"
            raise json.JSONDecodeError(message, self.buffer, self.position)
        key: str = self.value()
        self._expect(":", "Expecting ':' delimiter")
        return key

    def _sequence(self, opening: str, closing: str, item: Callable[[], T]) -> Iterator[T]:
        """What ``item`` reads of each item of the object or list that starts here."""
        self._expect(opening, "Expecting value")
        if self.peek() == closing:
            self.position += 1
            return
        while True:
            yield item()
            if self.peek() == closing:
                self.position += 1
                return
            self._expect(",", "Expecting ',' delimiter")

    def end(self) -> None:
        """Raise as a whole parse does when anything but white space follows the document."""
        if not self.at_end():
            raise json.JSONDecodeError("Extra data", self.buffer, self.position)
