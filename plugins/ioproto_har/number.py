"""A JSON number of a HAR read with its length bounded (:func:`read_number`): one of more than
:data:`LONGEST` characters (``"time": 1111…`` of millions of digits) is read past, counted,
not parsed, leaving its length (:class:`LongNumber`); the read buffer holds a read's worth
of it, not the number.

So that a number reads the same wherever the reads cut it, the file's decoder refuses such a
number too (:func:`decoder`: its hooks raise :class:`~.text.TooLongToParse`), and a value
that holds one is never parsed whole: the walk reaches the number and reads it past. What is
read past is checked as the decoder checks a number: the longest number at the start is read,
and what follows it is for the caller (``1.2.3`` ends at the second ``.``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .text import TooLongToParse

if TYPE_CHECKING:
    from .text import Text

#: The most characters a number is parsed with: far more than any field of a HAR needs (a
#: status, a time; integers of over 100 digits are read as infinities already), far less
#: than a read of the file.
LONGEST = 1 << 16
#: The characters a JSON number starts with.
NUMBER_START = frozenset("-0123456789")
#: A JSON number, as the decoder's scanner reads one.
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_DIGITS = re.compile(r"[0-9]*")
#: The characters after a number that say whether it goes on: ``.`` or ``e``, a sign, a digit.
_AHEAD = 3


@dataclass(frozen=True)
class LongNumber:
    """A number of ``size`` characters, more than :data:`LONGEST`, read past."""

    size: int


def decoder(parse_int: Callable[[str], Any]) -> json.JSONDecoder:
    """The file's JSON decoder: integers through ``parse_int``, a number of more than
    :data:`LONGEST` characters refused (:class:`~.text.TooLongToParse`)."""

    def bounded_int(text: str) -> Any:
        _refuse_long(text)
        return parse_int(text)

    def bounded_float(text: str) -> float:
        _refuse_long(text)
        return float(text)

    return json.JSONDecoder(parse_int=bounded_int, parse_float=bounded_float)


def _refuse_long(text: str) -> None:
    if len(text) > LONGEST:
        raise TooLongToParse(f"a number of {len(text)} characters")


def read_number(text: Text) -> Any:
    """The JSON value that starts here (a ``-`` or a digit): a number of at most
    :data:`LONGEST` characters parsed by the decoder (``-Infinity`` and what is no number
    too, with the decoder's error); a longer one read past, as its :class:`LongNumber`."""
    while True:
        found = _NUMBER.match(text.buffer, text.position)
        end = text.position + 2 if found is None else found.end()  # (a "-" then its digit)
        if end - text.position > LONGEST and found is not None:
            break
        if len(text.buffer) - end >= _AHEAD or text.eof:
            return text.value()
        text.more()  # (the number may go on: read on, keeping it)
    start = text.offset
    text.position += 1 if text.buffer[text.position] == "-" else 0
    if text.buffer[text.position] != "0":
        _read_digits(text)
    else:
        text.position += 1
    _read_ahead(text, _AHEAD)
    if text.buffer.startswith(".", text.position) and _digit(text, 1):
        text.position += 1
        _read_digits(text)
    _read_ahead(text, _AHEAD)
    if text.buffer[text.position : text.position + 1] in ("e", "E"):
        sign = 1 if text.buffer[text.position + 1 : text.position + 2] in ("+", "-") else 0
        if _digit(text, 1 + sign):
            text.position += 1 + sign
            _read_digits(text)
    size = text.offset - start
    text.skipped += size
    return LongNumber(size)


def _digit(text: Text, ahead: int) -> bool:
    """Whether the character ``ahead`` of the position is an ASCII digit, as JSON's are."""
    character = text.buffer[text.position + ahead : text.position + ahead + 1]
    return character != "" and character in "0123456789"


def _read_ahead(text: Text, characters: int) -> None:
    """Read on until ``characters`` follow the position in the buffer, or the file ends
    (what is before the position is dropped)."""
    while len(text.buffer) - text.position < characters and not text.eof:
        text.more()


def _read_digits(text: Text) -> None:
    """Move past the digits that start here, a read at a time."""
    while True:
        text.position = _DIGITS.match(text.buffer, text.position).end()  # type: ignore[union-attr]
        if text.position < len(text.buffer) or text.eof:
            return
        text.more()
