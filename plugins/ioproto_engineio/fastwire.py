"""The Engine.IO wire's fast paths and small helpers, in plain Python (no construct).

:mod:`.wire` declares every format with construct and decides everything; what is here is
what the decoder needs for the common forms, so that a run whose packets all take the fast
path never loads construct (about 15 ms of every start). :func:`fast_packet` must agree
with the declarations (``tests/engineio/test_eio_wire.py`` checks it). :mod:`.wire`
re-exports these names.
"""

from __future__ import annotations

import binascii
import json
import re
from bisect import bisect_left
from collections.abc import Sequence

PACKET_TYPES = ("open", "close", "ping", "pong", "message", "upgrade", "noop")
"""Packet type names by number (the same digits in revisions 2, 3 and 4)."""

SEPARATOR = b"\x1e"
"""The v4 payload record separator."""

MAX_XHR2_DIGITS = 310
"""engine.io-parser 2.x gives up on an XHR2 length longer than this many digits."""

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


# -- small pure helpers shared with the decoder's fast path ------------------------------------


def b64decode(text: bytes) -> bytes:
    """Standard base64 (RFC 4648 alphabet); ``=`` padding may be left out, as Node allows.

    Raises :class:`binascii.Error` for any other deviation (bad character, bad length).
    """
    missing = -len(text) % 4
    if missing == 3:
        raise binascii.Error("base64 length is 1 more than a multiple of 4")
    return binascii.a2b_base64(text + b"=" * missing, strict_mode=True)


def b64encode(data: bytes) -> bytes:
    """Standard padded base64, as Node's ``Buffer.toString("base64")`` writes it."""
    return binascii.b2a_base64(data, newline=False)


def utf16_length(text: str) -> int:
    """The JavaScript ``String.length`` of ``text`` (UTF-16 code units)."""
    return len(text) + len(_ASTRAL.findall(text))


def astral_positions(text: str) -> list[int]:
    """The indexes of the characters of ``text`` outside the BMP (two UTF-16 units each)."""
    if text.isascii():
        return []
    return [match.start() for match in _ASTRAL.finditer(text)]


def utf16_end(text: str, start: int, units: int, astral: Sequence[int] | None = None) -> int:
    """The index in ``text`` that is ``units`` UTF-16 code units after ``start``.

    Returns -1 when the count runs past the end of ``text`` or ends inside a surrogate pair
    (JavaScript would split the pair there; such a length is treated as invalid).
    ``astral`` is :func:`astral_positions` of ``text``, computed once by a caller that scans
    a payload of many packets: with it, each call costs only what its own packet holds
    (without it, each call searches the rest of ``text``, quadratic over a payload).
    """
    if astral is None:
        astral = astral_positions(text)
    position = start
    left = units
    index = bisect_left(astral, start)
    count = len(astral)
    while index < count:
        found = astral[index]
        if left <= found - position:
            break
        left -= found - position
        if left == 1:
            return -1
        left -= 2
        position = found + 1
        index += 1
        if left == 0:
            return position
    end = position + left
    return end if end <= len(text) else -1


def jsonp_unescape_newlines(text: str) -> str:
    r"""Undo the JSONP client's newline escaping, exactly as JS engine.io does.

    The client writes a newline as ``\n`` (two characters) and an existing ``\n`` as ``\\n``.
    """
    text = _SLASH_N.sub(lambda m: m.group(0) if m.group(1) else "\n", text)
    return text.replace("\\\\n", "\\n")


def jsonp_escape_newlines(text: str) -> str:
    r"""The JSONP client's escaping (engine.io-client): ``\n`` → ``\\n``, newline → ``\n``."""
    return text.replace("\\n", "\\\n").replace("\n", "\\n")


_SLASH_N = re.compile(r"(\\)?\\n")


def js_string_literal(text: str) -> str:
    """``JSON.stringify(text)`` with U+2028/U+2029 escaped, as JS engine.io writes JSONP."""
    literal = json.dumps(text, ensure_ascii=False)
    return literal.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


_TYPE_OF_DIGIT = {0x30 + number: name for number, name in enumerate(PACKET_TYPES)}


def fast_packet(raw: bytes, legacy: bool) -> tuple[str, str | bytes] | None:
    """``(type, data)`` as ``packet_v3`` (``legacy``) or ``packet_v4`` parses ``raw``, in
    plain Python for the common forms (a type digit and UTF-8 text; ``b`` and base64, ``b4``
    and base64 in revisions 2 and 3), or ``None`` for anything else, including every input
    the declaration refuses: the declaration then decides, with its error rules."""
    if not raw:
        return None
    kind = _TYPE_OF_DIGIT.get(raw[0])
    if kind is not None:
        try:
            return kind, raw[1:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if raw[0] != 0x62:  # b
        return None
    if legacy:
        if raw[1:2] != b"4":
            return None
        encoded = raw[2:]
    else:
        encoded = raw[1:]
    try:
        return "message", b64decode(encoded)
    except (binascii.Error, ValueError):
        return None
