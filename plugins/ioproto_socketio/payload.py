"""The JSON payload of a Socket.IO packet: strict parsing, per-type rules, attachments.

JSON is read with the dialect of JavaScript's ``JSON.parse`` (protocols.md trap T16): ``NaN``
and ``Infinity`` are refused, and so (like python-socketio) are integer literals of more than
100 digits; nesting deeper than the configured limit (``Limits.max_json_depth``, 10,000 by
default: Node reads far deeper) is refused before parsing, and a deep value makes room in
Python's recursion limit first (:mod:`ioproto.depth`), so no RecursionError comes out.

The per-type rules are those of the reference decoders' ``isPayloadValid``
(socket.io-parser 4.2.7 for protocol 5, 3.4.5 for protocol 4; protocols.md §2.1, §2.6).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ioproto.depth import ensure_room

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; json does the same job
    orjson = None  # type: ignore[assignment]

#: Event names socket.io-parser ≥ 4.2.4 refuses (protocol 5 only).
RESERVED_EVENTS = frozenset(
    ("connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener")
)

MAX_INTEGER_DIGITS = 100


class PayloadError(ValueError):
    """A payload that cannot be accepted; ``rule`` is the error-record rule name."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _checked_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"integer literal of more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


# parse_int costs one Python call per integer literal, far less than scanning every payload
# for a long run of digits first (measured: 2 µs against 10 µs on a 1 kB event).
_decoder = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_checked_int)
_fast_loads: Any = orjson.loads if orjson is not None else None
#: A payload's bytes with every digit as "0" (to find runs of digits) and "{" as "[" (to
#: count what opens a nesting level).
_MARKS = bytes.maketrans(b"123456789{", b"000000000[")
_LONG_DIGIT_RUN = b"0" * 19
_scan: Any = _decoder.scan_once  # type: ignore[attr-defined]
_JSON_SPACE = " \t\n\r"
#: Every byte but a quote and what structures JSON, for :func:`structure`.
_NOT_STRUCTURE = bytes(byte for byte in range(256) if byte not in b'"[]{},:')
_STRING = re.compile(rb'"[^"]*"')
#: Bytes of the structure handled at once: a bound on the pieces a substitution holds.
_STRUCTURE_CHUNK = 1 << 16
_OPENING = frozenset(b"[{")


def structure(text: str) -> Iterator[bytes]:
    """The brackets, braces, commas and colons of the JSON ``text`` that stand outside its
    strings, in order, in pieces of at most about 64 KiB.

    Escaped backslashes and quotes go first; every other byte but quotes and these goes
    next (one translation: a character beyond ASCII is bytes beyond ASCII), which leaves
    the strings as the runs between pairs of quotes, removed piece by piece, the string a
    piece ends inside carried to the next. A hostile payload of millions of tiny strings
    (``"",`` again and again) so costs a few copies of its text, where one regular
    substitution over the whole held a small object per string: 440 MB for 16 MiB. A
    string left open at the end runs to the end (such JSON is refused when parsed).
    """
    if "\\" in text:
        text = text.replace("\\\\", "").replace('\\"', "")
    data = text.encode("utf-8", "surrogatepass").translate(None, _NOT_STRUCTURE)
    inside = False  # the piece starts inside a string (its opening quote was earlier)
    for start in range(0, len(data), _STRUCTURE_CHUNK):
        piece = data[start : start + _STRUCTURE_CHUNK]
        if inside:
            piece = b'"' + piece
        inside = piece.count(b'"') % 2 == 1
        if inside:
            piece += b'"'  # the rest of that string is in the next piece (or nowhere)
        yield _STRING.sub(b"", piece)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in ``text`` (strings ignored)."""
    depth = deepest = 0
    opening = _OPENING
    for piece in structure(text):
        for byte in piece.translate(None, b',:"'):
            if byte in opening:
                depth += 1
                if depth > deepest:
                    deepest = depth
            else:
                depth -= 1
    return deepest


#: Nesting that needs no room beyond Python's default recursion limit.
_SHALLOW = 200
#: Estimated bytes of a parsed array or object and of each element (a pointer and a small
#: object): ``[[],[],...]`` of 15 MiB became 540 MB of lists, ``[1,2,...]`` about 20 bytes
#: per byte of text (measured).
CONTAINER_COST = 64
OBJECT_COST = 200
ELEMENT_COST = 40


def decoded_size(text: str) -> int:
    """An upper estimate of the bytes ``text`` takes once parsed (strings' brackets and
    commas count too: see :func:`check_size` for the precise count)."""
    return (
        len(text)
        + CONTAINER_COST * text.count("[")
        + OBJECT_COST * text.count("{")
        + ELEMENT_COST * (text.count(",") + text.count(":"))
    )


def check_size(text: str, max_bytes: int) -> None:
    """Raise :class:`PayloadError` (``socketio.payload.too-large``) when ``text`` would take
    more than ``max_bytes`` once parsed; brackets and commas inside strings do not count."""
    if decoded_size(text) <= max_bytes:
        return
    size = len(text)
    for piece in structure(text):
        size += (
            CONTAINER_COST * piece.count(b"[")
            + OBJECT_COST * piece.count(b"{")
            + ELEMENT_COST * (piece.count(b",") + piece.count(b":"))
        )
    if size > max_bytes:
        raise PayloadError(
            "socketio.payload.too-large",
            f"JSON that would take about {size} bytes once decoded "
            f"(limits.max_json_bytes is {max_bytes})",
        )


def loads(text: str, max_depth: int, max_bytes: int | None = None) -> Any:
    """``text`` as a JSON value, strictly; raises :class:`PayloadError`.

    ``max_bytes`` bounds the estimated memory of the value (:func:`check_size`); payloads
    of up to ``max_bytes // CONTAINER_COST`` characters are never refused for it.

    orjson reads it first (0.45 µs against 1.8 µs for a 480-character event), unless it
    holds a run of 19 digits or more; whatever orjson does not take goes to the json
    module (:func:`json_loads`), which gives every error. Both give the same values for
    whatever orjson takes (tests/socketio/test_payload_parsers.py).
    """
    if max_bytes is not None and len(text) * CONTAINER_COST > max_bytes:
        check_size(text, max_bytes)
    shallow = min(max_depth, _SHALLOW)
    data = text.encode("utf-8", "surrogatepass")
    # One pass over the bytes answers both questions: every digit becomes "0" (a run of 19
    # or more holds an integer orjson would read as a float, where the json module keeps it
    # exact) and "{" becomes "[" (how much nesting there may be).
    marked = data.translate(_MARKS)
    if len(text) > shallow and marked.count(b"[") > shallow:
        _check_depth(text, max_depth)
    if _fast_loads is not None and marked.find(_LONG_DIGIT_RUN) < 0:
        try:
            return _fast_loads(data)
        except ValueError:
            pass  # not JSON to orjson: the json module decides, and says why
    return json_loads(text)


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse ``text`` nested deeper than ``max_depth``; make room in the recursion limit
    for what is deeper than :data:`_SHALLOW` (the json module and later walks recurse)."""
    depth = json_depth(text)
    if depth > max_depth:
        raise PayloadError("socketio.payload.too-deep", f"JSON nested deeper than {max_depth}")
    if depth > _SHALLOW:
        ensure_room(depth)


def json_loads(text: str) -> Any:
    """:func:`loads` with the json module alone, after its checks of size and depth."""
    try:
        try:
            value, end = _scan(text, 0)
        except StopIteration:
            # leading white space, or not JSON at all: let the full decoder say which
            return _decoder.decode(text)
        if end != len(text) and text[end:].strip(_JSON_SPACE):
            raise ValueError(f"extra data after the JSON value at {end}")
        return value
    except (ValueError, RecursionError) as exc:
        raise PayloadError("socketio.payload.bad-json", f"invalid JSON payload: {exc}") from None


def check(wire_type: int, value: Any, revision: int) -> None:
    """Raise :class:`PayloadError` if ``value`` breaks the rule of ``wire_type``."""
    if wire_type == 2 or wire_type == 5:
        if type(value) is list and value:
            name = value[0]
            kind = type(name)
            if kind is str:
                if revision >= 5 and name in RESERVED_EVENTS:
                    raise PayloadError(
                        "socketio.event.reserved-name", f"reserved event name {name!r}"
                    )
                return
            if kind is int or kind is float:
                return
        raise PayloadError(
            "socketio.payload.invalid",
            "an EVENT payload must be an array starting with a string or a number",
        )
    if wire_type == 3 or wire_type == 6:
        if type(value) is not list:
            raise PayloadError("socketio.payload.invalid", "an ACK payload must be an array")
        return
    if wire_type == 0:
        # protocol 4 checked only `typeof payload === "object"` (null and arrays pass)
        if type(value) is dict or (revision < 5 and (value is None or type(value) is list)):
            return
        raise PayloadError("socketio.payload.invalid", "a CONNECT payload must be an object")
    if wire_type == 1:
        raise PayloadError("socketio.payload.invalid", "a DISCONNECT packet has no payload")
    if wire_type == 4:
        kind = type(value)
        if kind is str or kind is dict or (revision < 5 and (value is None or kind is list)):
            return
        raise PayloadError(
            "socketio.payload.invalid",
            "a CONNECT_ERROR/ERROR payload must be a string or an object",
        )


def reconstruct(value: Any, attachments: list[bytes]) -> Any:
    """``value`` with every placeholder replaced by its attachment, changed in place.

    A placeholder is an object whose ``_placeholder`` is ``true``; its ``num`` must be an
    integer in ``[0, len(attachments))``, else :class:`PayloadError`
    (``socketio.placeholder.invalid``). ``value`` must be freshly parsed JSON that nobody
    else holds, nested no deeper than the JSON depth limit (the walk recurses).
    """
    kind = type(value)
    if kind is list:
        for index, item in enumerate(value):
            if type(item) is list or type(item) is dict:
                value[index] = reconstruct(item, attachments)
        return value
    if kind is dict:
        if value.get("_placeholder") is True:
            num = value.get("num")
            if type(num) is float and num.is_integer():
                num = int(num)
            if type(num) is not int or not 0 <= num < len(attachments):
                raise PayloadError(
                    "socketio.placeholder.invalid",
                    f"placeholder num {num!r} is not an attachment index below {len(attachments)}",
                )
            return attachments[num]
        for key, item in value.items():
            if type(item) is list or type(item) is dict:
                value[key] = reconstruct(item, attachments)
        return value
    return value


def deconstruct(value: Any, attachments: list[bytes] | None = None) -> tuple[Any, list[bytes]]:
    """``value`` with every ``bytes`` replaced by a placeholder, and the attachments in order.

    Numbering is depth-first in document order, as the JS and Python encoders do.
    """
    found: list[bytes] = [] if attachments is None else attachments

    def walk(item: Any) -> Any:
        if isinstance(item, bytes | bytearray | memoryview):
            found.append(bytes(item))
            return {"_placeholder": True, "num": len(found) - 1}
        if isinstance(item, list | tuple):
            return [walk(element) for element in item]
        if isinstance(item, dict):
            return {key: walk(element) for key, element in item.items()}
        return item

    return walk(value), found


def has_binary(value: Any) -> bool:
    """Whether ``value`` holds ``bytes`` anywhere."""
    if isinstance(value, bytes | bytearray | memoryview):
        return True
    if isinstance(value, list | tuple):
        return any(has_binary(item) for item in value)
    if isinstance(value, dict):
        return any(has_binary(item) for item in value.values())
    return False
