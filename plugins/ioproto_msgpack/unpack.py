"""msgpack bytes → the plain values a JavaScript peer would see, as JSON-able Python values.

socket.io-msgpack-parser 3.0.2 encodes with notepack.io 2.2, which writes three JS values as
msgpack *ext type 0*, told apart only by the ext *format* (protocols.md 2.8, trap T17):

* ``D4 00 00`` (fixext 1) is ``undefined``: dropped from maps, ``None`` in arrays (what
  ``JSON.stringify`` does, so the default parser's records look the same);
* ``D7 00`` + 8 bytes (fixext 8) is a ``Date`` (ms since the epoch, hi32/lo32): the ISO
  string ``Date.toJSON()`` gives (``"2024-01-02T03:04:05.678Z"``), or the ms as an integer
  outside the years 1-9999;
* ``C7``/``C8``/``C9`` (ext 8/16/32) type 0 is an ``ArrayBuffer``: ``bytes``.

Any other ext value becomes ``[type, bytes]``, as notepack decodes it. Map keys that are not
strings become strings (JavaScript object keys). The ``msgpack`` package's ``ext_hook`` does
not say which format an ext came in, so when an ext type 0 of an ambiguous length (1, 2, 4,
8, 16) is seen, :func:`ext_formats` walks the bytes once to find the formats; ext values are
reported by the unpacker in document order, so the n-th hook call is the n-th ext.

:func:`unpack` raises :class:`UnpackError` (never anything else) for bytes that are not one
complete msgpack value, that nest deeper than ``max_depth``, or that would take more memory
than ``max_bytes`` once decoded.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import msgpack  # type: ignore[import-untyped]

from ioproto.depth import ensure_room

__all__ = ["UNDEFINED", "UnpackError", "ext_formats", "map_keys", "unpack"]


class UnpackError(Exception):
    """Bytes that are not one msgpack value; ``rule`` is the error rule to report."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNDEFINED"


#: notepack's ``undefined`` (``D4 00 00``) before conversion.
UNDEFINED = _Undefined()

_AMBIGUOUS_LENGTHS = frozenset({1, 2, 4, 8, 16})
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class _Ext:
    __slots__ = ("code", "data", "index")

    def __init__(self, code: int, data: bytes, index: int) -> None:
        self.code = code
        self.data = data
        self.index = index


_MSGPACK_MAX_NESTING = 1024


def unpack(data: bytes, max_depth: int, max_bytes: int | None = None) -> Any:
    """The single msgpack value in ``data``, converted as described in the module docstring.

    ``max_bytes`` bounds the estimated memory of the value (:func:`decoded_size`): msgpack's
    own unpacker bounds nesting, not width (16 MiB of empty arrays would be 16M lists).
    """
    if not data:
        raise UnpackError("socketio.msgpack.unparseable", "Could not parse: empty message")
    if max_bytes is not None and len(data) * VALUE_COST > max_bytes:
        size = decoded_size(data, max_bytes)
        if size > max_bytes:
            raise UnpackError(
                "socketio.msgpack.too-large",
                f"a value that would take more than {max_bytes} bytes once decoded "
                "(limits.max_json_bytes)",
            )
    exts: list[_Ext] = []

    def hook(code: int, payload: bytes) -> _Ext:
        ext = _Ext(code, payload, len(exts))
        exts.append(ext)
        return ext

    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            strict_map_key=False,
            ext_hook=hook,
            unicode_errors="replace",
            use_list=True,
        )
    except Exception as exc:  # msgpack raises several types (ExtraData, FormatError, ...)
        raise UnpackError(
            "socketio.msgpack.unparseable", f"Could not parse: {type(exc).__name__}: {exc}"
        ) from None
    formats: list[int] | None = None
    if any(ext.code == 0 and len(ext.data) in _AMBIGUOUS_LENGTHS for ext in exts):
        formats = ext_formats(data)
        if len(formats) != len(exts):  # cannot happen for input msgpack accepted
            raise UnpackError("socketio.msgpack.unparseable", "ext values out of step")
    # msgpack's C unpacker refuses nesting beyond 1024 (StackError, above); _plain recurses
    # once per level, past Python's default recursion limit.
    ensure_room(min(max_depth, _MSGPACK_MAX_NESTING))
    return _plain(value, 0, max_depth, formats)


def _plain(value: Any, depth: int, max_depth: int, formats: list[int] | None) -> Any:
    if isinstance(value, list):
        if depth >= max_depth:
            raise UnpackError("socketio.msgpack.too-deep", f"nested deeper than {max_depth}")
        items = [_plain(item, depth + 1, max_depth, formats) for item in value]
        return [None if item is UNDEFINED else item for item in items]
    if isinstance(value, dict):
        if depth >= max_depth:
            raise UnpackError("socketio.msgpack.too-deep", f"nested deeper than {max_depth}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            converted = _plain(item, depth + 1, max_depth, formats)
            if converted is not UNDEFINED:
                out[_key(_plain(key, depth + 1, max_depth, formats))] = converted
        return out
    if isinstance(value, _Ext):
        return _ext(value, formats)
    return value


def _ext(ext: _Ext, formats: list[int] | None) -> Any:
    if ext.code != 0:
        return [ext.code, ext.data]
    length = len(ext.data)
    if length not in _AMBIGUOUS_LENGTHS:
        return ext.data  # only ext 8/16/32 have these lengths: an ArrayBuffer
    fmt = formats[ext.index] if formats is not None else 0xC7
    if fmt in (0xC7, 0xC8, 0xC9):
        return ext.data
    if fmt == 0xD4:
        return UNDEFINED
    if fmt == 0xD7:
        return _date(ext.data)
    return [0, ext.data]  # fixext 2/4/16 type 0: notepack gives [type, Buffer]


def _date(data: bytes) -> Any:
    hi = int.from_bytes(data[:4], "big", signed=True)
    lo = int.from_bytes(data[4:], "big")
    ms = hi * 2**32 + lo
    try:
        moment = _EPOCH + datetime.timedelta(milliseconds=ms)
    except OverflowError:
        return ms
    if not 1 <= moment.year <= 9999:
        return ms
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, bytes):
        return key.decode("utf-8", "replace")
    return str(key)


# -- finding ext formats ---------------------------------------------------------------------

#: first byte → (bytes of length field, fixed payload size) for strings/bins/exts/scalars.
_FIXED = {
    0xC0: 0,
    0xC2: 0,
    0xC3: 0,
    0xCA: 4,
    0xCB: 8,
    0xCC: 1,
    0xCD: 2,
    0xCE: 4,
    0xCF: 8,
    0xD0: 1,
    0xD1: 2,
    0xD2: 4,
    0xD3: 8,
}
_SIZED = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}
_EXT_SIZED = {0xC7: 1, 0xC8: 2, 0xC9: 4}
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_CONTAINERS = {0xDC: (2, 1), 0xDD: (4, 1), 0xDE: (2, 2), 0xDF: (4, 2)}


def _walk(data: bytes) -> Iterator[tuple[int, int, int]]:
    """``(format byte, payload bytes, child values)`` of every value in ``data``, in
    document order, without building any of them. ``data`` should be valid msgpack; the
    walk stops at its end (or at the unused byte 0xC1) either way."""
    pos = 0
    remaining = 1
    size = len(data)
    while remaining > 0 and pos < size:
        first = data[pos]
        pos += 1
        remaining -= 1
        if first <= 0x7F or first >= 0xE0:
            yield first, 0, 0
        elif first <= 0x8F:
            remaining += 2 * (first & 0x0F)
            yield first, 0, 2 * (first & 0x0F)
        elif first <= 0x9F:
            remaining += first & 0x0F
            yield first, 0, first & 0x0F
        elif first <= 0xBF:
            pos += first & 0x1F
            yield first, first & 0x1F, 0
        elif first in _FIXED:
            pos += _FIXED[first]
            yield first, 0, 0
        elif first in _SIZED:
            width = _SIZED[first]
            length = int.from_bytes(data[pos : pos + width], "big")
            pos += width + length
            yield first, length, 0
        elif first in _EXT_SIZED:
            width = _EXT_SIZED[first]
            length = int.from_bytes(data[pos : pos + width], "big")
            pos += width + 1 + length
            yield first, length, 0
        elif first in _FIXEXT:
            pos += 1 + _FIXEXT[first]
            yield first, _FIXEXT[first], 0
        elif first in _CONTAINERS:
            width, per_item = _CONTAINERS[first]
            children = per_item * int.from_bytes(data[pos : pos + width], "big")
            remaining += children
            pos += width
            yield first, 0, children
        else:  # 0xC1 (never used)
            return


def map_keys(data: bytes) -> set[str]:
    """The string keys of the map ``data`` starts with (empty if it is not a map), read
    without unpacking the values: deciding which parser a session uses must not cost the
    memory of a whole message."""
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, unicode_errors="replace")
    unpacker.feed(data)
    keys: set[str] = set()
    try:
        entries = unpacker.read_map_header()
        for _ in range(min(entries, 64)):
            first = data[unpacker.tell()]
            if 0xA0 <= first <= 0xBF or 0xD9 <= first <= 0xDB:
                key = unpacker.unpack()
                if isinstance(key, str):
                    keys.add(key)
            else:
                unpacker.skip()
            unpacker.skip()
    except Exception:  # msgpack raises several types; a broken map has no keys worth having
        return set()
    return keys


def ext_formats(data: bytes) -> list[int]:
    """The format byte (``0xC7``-``0xC9``, ``0xD4``-``0xD8``) of every ext value in ``data``,
    in document order. ``data`` should be valid msgpack; the walk stops at the end either way.
    """
    return [first for first, _, _ in _walk(data) if first in _EXT_SIZED or first in _FIXEXT]


#: Estimated bytes of a decoded value (a pointer and a small object) and of a container.
VALUE_COST = 40
CONTAINER_COST = 64


def decoded_size(data: bytes, limit: int) -> int:
    """An estimate of the bytes ``data`` takes once unpacked, counted until it passes
    ``limit`` (so the walk costs at most ``limit // VALUE_COST`` steps)."""
    size = 0
    for _first, payload, children in _walk(data):
        size += VALUE_COST + payload + (CONTAINER_COST if children else 0)
        if size > limit:
            break
    return size
