"""A JSON string of a HAR that may be too long to keep (a body, a WebSocket message, a header's
value), read with its size measured as it goes (:func:`read_string`): kept while it may fit
the limit that applies to it, read past once it cannot, leaving its sizes (:class:`Oversized`).

Whether a body's or a message's text is base64 is not known while it is read (``encoding``
or ``opcode`` may come after it), so both readings are measured: its bytes in UTF-8, and the
bytes its base64 reading gives (3 for each 4 characters of the base64 alphabet, as a decoder
that skips other characters counts them). It is read past once the base64 reading is over
the limit, or its UTF-8 bytes are over twice the limit (a base64 text with that many
characters outside its alphabet is refused with them; none of the browsers writes such). Any
other string (``base64=False``) is read past once its UTF-8 bytes are over the limit.

What is kept is held decoded, a piece at a time, not as the file's characters: a string of
escapes (``\\u0001``, 6 characters for 1 byte) costs what it stands for. So what is kept is
at most about twice the limit in bytes, whatever the string's length or its escapes.

Each piece is decoded by the decoder's own string scanner; a JSON error, in what is kept or
in what is read past, is said as that decoder says it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import TYPE_CHECKING, Any, NoReturn

from .text import LocatedError

if TYPE_CHECKING:
    from .text import Text

#: A run of a string's content: characters that need no escape, and whole escapes.
_RUN = re.compile(r'(?:[^"\\\x00-\x1f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*')
#: An escaped high surrogate, which may pair with an escape that follows.
_HIGH = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]+")
#: Characters measured at a time.
_PIECE = 1 << 20
#: The most characters an escape takes (a surrogate pair), and one half of it.
_LONGEST_ESCAPE = 12
_ESCAPE = 6


@dataclass(frozen=True)
class Oversized:
    """A string read past for its length: ``size`` is its bytes in UTF-8, ``base64_size``
    the bytes its base64 reading gives."""

    size: int
    base64_size: int

    def of(self, base64: bool) -> int:
        """Its size in bytes, read as base64 or not."""
        return self.base64_size if base64 else self.size


def _over(size: int, alphabet: int, limit: int, base64: bool) -> bool:
    if not base64:
        return size > limit
    return alphabet * 3 // 4 > limit or size > 2 * limit


def _measure(text: str) -> tuple[int, int]:
    """The UTF-8 bytes of ``text`` and how many of its characters are base64's."""
    size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return size, len(_NOT_BASE64.sub("", text))


def capped(value: Any, limit: int, base64: bool = True) -> Any:
    """``value``, or its :class:`Oversized` when it is a string that :func:`read_string`
    would read past: the same whether a string was read whole or in pieces."""
    if not isinstance(value, str) or len(value) <= limit // (2 if base64 else 4):
        return value  # (4 UTF-8 bytes a character at most: within the limit)
    size, alphabet = _measure(value)
    return Oversized(size, alphabet * 3 // 4) if _over(size, alphabet, limit, base64) else value


def utf8_size(value: str) -> int:
    """The bytes of ``value`` in UTF-8 (a lone surrogate as 3), as :func:`read_string`
    counts them."""
    return _measure(value)[0] if not value.isascii() else len(value)


def read_string(text: Text, limit: int, base64: bool = True) -> Any:
    """The JSON string that starts at ``text.position`` (a ``"``), or its
    :class:`Oversized` when it is over ``limit`` (in both readings when ``base64``: see
    the module)."""
    line, column = text.location(text.position)
    start = text.offset
    at = text.position = text.position + 1
    size = alphabet = 0
    pieces: list[str] | None = []  # what is kept, decoded; None once it is read past
    while True:
        buffer = text.buffer
        stop = min(len(buffer), at + _PIECE)
        end = _RUN.match(buffer, at, stop).end()  # type: ignore[union-attr]
        if end > at:
            piece: str = scanstring(buffer[at:end] + '"', 0)[0]
            # (a low half the buffer cuts is no match of the run; one whole in it would be)
            edge = end == stop or (len(buffer) - end < _ESCAPE and not text.eof)
            if edge and _HIGH.match(buffer, end - 6, end) and "\ud800" <= piece[-1] <= "\udbff":
                # Its low half may be past the cut: decoded with it, as the decoder pairs them.
                end, piece = end - 6, piece[:-1]
        if end > at:
            more, more_alphabet = _measure(piece)
            size, alphabet = size + more, alphabet + more_alphabet
            if pieces is None:
                text.skipped += end - at
            elif _over(size, alphabet, limit, base64):
                pieces = None
                text.skipped += text.offset + (end - at) - start  # (from its opening quote)
            else:
                pieces.append(piece)
            at = text.position = end
            continue
        if buffer[at : at + 1] == '"':
            text.position = at + 1
            if pieces is None:
                return Oversized(size, alphabet * 3 // 4)
            return pieces[0] if len(pieces) == 1 else "".join(pieces)
        if len(buffer) - at < _LONGEST_ESCAPE and not text.eof:
            # An escape, or the string, goes on past the buffer; or the file ends there,
            # which an escaped high surrogate held back for its low half needs to know.
            at -= text.more()[1]
            continue
        # A character no string holds, an escape that is none, or the end of the file.
        _fail(text, at, line, column)


def _fail(text: Text, at: int, line: int, column: int) -> NoReturn:
    """Raise what the decoder says of the string read past, whose content goes wrong at
    ``at`` (its start, at ``line`` and ``column``, is no longer in the buffer)."""
    try:
        scanstring('"' + text.buffer[at:], 1)
    except json.JSONDecodeError as exc:
        if exc.pos == 0:  # "Unterminated string starting at"
            raise LocatedError(exc.msg, line, column) from None
        raise json.JSONDecodeError(exc.msg, text.buffer, at + exc.pos - 1) from None
    raise json.JSONDecodeError("Invalid \\escape", text.buffer, at)
