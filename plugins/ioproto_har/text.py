"""A HAR file's text as it is read (:class:`Text`): decoded as it comes, with the position of
a parse in it and the JSON decoder that parses its values, so that what is parsed is
dropped and memory holds what a value needs, not the file."""

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


class LocatedError(json.JSONDecodeError):
    """A JSON error whose place in the file is known by line and column, where its position
    in the buffer is not (the text it is about has been read past and dropped)."""

    def __init__(self, msg: str, line: int, column: int) -> None:
        super().__init__(msg, "", 0)
        self.line, self.column = line, column


class TooLongToParse(Exception):
    """Raised by the decoder's hooks for a value that is not to be parsed but read past (a
    number too long: :mod:`.number`); :meth:`Text.whole` then finds no whole value there."""


class Text:
    """The file's text, decoded as it is read, with the position of the parse in it.

    ``buffer[position:]`` is what is read and not yet parsed; what is before ``position``
    is dropped at the next read, its lines counted for :meth:`where`. ``offset`` counts the
    characters before ``position`` in the whole text; ``skipped`` those that a reader moved
    ``position`` past without parsing them (:mod:`.longtext`)."""

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
        self._dropped = 0  # characters dropped from the buffer
        self.skipped = 0

    def _read(self, at_least: int = 0) -> bool:
        """Read at least ``at_least`` more bytes (or to the end); whether any text came (or
        may yet come: a character cut by the read)."""
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
        self._dropped += self.position
        self.buffer = self.buffer[self.position :] + more
        self.position = 0
        return bool(more) or not self._eof

    @property
    def offset(self) -> int:
        return self._dropped + self.position

    @property
    def eof(self) -> bool:
        """Whether the whole file is in the buffer."""
        return self._eof

    def more(self) -> tuple[bool, int]:
        """Read on (what is before ``position`` is dropped): whether any text came (not at
        the end of the file), and how many characters the buffer lost at its start, to
        shift positions held in it by."""
        dropped = self.position
        return self._read(), dropped

    def location(self, position: int) -> tuple[int, int]:
        """The line and column in the file of ``position`` in the buffer (1-based)."""
        lines = self.buffer.count("\n", 0, position)
        if not lines:
            return self._lines_before + 1, self._column_before + position + 1
        return self._lines_before + lines + 1, position - self.buffer.rfind("\n", 0, position)

    def where(self, error: json.JSONDecodeError) -> tuple[int, int]:
        """The line and column in the file of ``error`` in the buffer (1-based)."""
        if isinstance(error, LocatedError):
            return error.line, error.column
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

    def expect(self, what: str, message: str) -> None:
        """Move past ``what`` (after white space), or raise the decoder's ``message``."""
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

    def whole(self) -> tuple[bool, Any]:
        """``(True, value)`` when the next JSON value is whole in what is buffered (parsed as
        :meth:`value` parses it), else ``(False, None)``, moved past nothing but white space;
        ``(False, None)`` too for a value that holds one the decoder refuses to parse
        (:class:`TooLongToParse`), to be walked."""
        self._skip_space()
        try:
            value, end = self._decoder.raw_decode(self.buffer, self.position)
        except (json.JSONDecodeError, TooLongToParse):
            return False, None
        if len(self.buffer) - end < _NEAR_END and not self._eof:
            return False, None
        self.position = end
        return True, value

    def members(self, key: Callable[[], T] | None = None) -> Iterator[T | str]:
        """The keys of the object that starts here, each as ``key`` reads the string that
        starts there (by default parsed whole); after each, the caller parses its value."""
        read = key or self.value
        return self._sequence("{", "}", lambda: self._key(read))

    def elements(self, item: Callable[[], T] | None = None) -> Iterator[T | Any]:
        """What ``item`` reads of each value of the list that starts here (by default each
        value parsed whole)."""
        return self._sequence("[", "]", item or self.value)

    def _key(self, read: Callable[[], T]) -> T:
        if self.peek() != '"':
            message = "Expecting property name enclosed in double quotes"
            raise json.JSONDecodeError(message, self.buffer, self.position)
        key = read()
        self.expect(":", "Expecting ':' delimiter")
        return key

    def _sequence(self, opening: str, closing: str, item: Callable[[], T]) -> Iterator[T]:
        """What ``item`` reads of each item of the object or list that starts here."""
        self.expect(opening, "Expecting value")
        if self.peek() == closing:
            self.position += 1
            return
        while True:
            yield item()
            if self.peek() == closing:
                self.position += 1
                return
            self.expect(",", "Expecting ',' delimiter")

    def end(self) -> None:
        """Raise as a whole parse does when anything but white space follows the document."""
        if not self.at_end():
            raise json.JSONDecodeError("Extra data", self.buffer, self.position)
