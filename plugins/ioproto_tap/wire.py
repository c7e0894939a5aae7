"""The tap stream: what an in-process tap sends to ``ioproto collect`` (version 1).

A stream is UTF-8 JSON lines: one JSON object per line, ended by ``\\n``. Bytes are written
``{"$bytes": "<base64>"}`` (as in the ``jsonl`` sink). The first line is a ``hello``; every
other line is one of the record kinds below, told apart by ``"t"``. docs/taps.md is the
reference for people writing a tap in another language; this module is the reference for
code: :func:`check` says exactly what a collector accepts.

======== ============================================================================
``t``    fields (``ts`` is Unix time in seconds, float; ``sid`` the Engine.IO session id)
======== ============================================================================
hello    ``v`` (format version, 1), ``tap`` (``"python"``, ``"node"``), ``lib`` (server
         library and version), ``pid``, ``host``; optional ``app``, ``dropped`` (records
         this tap had dropped before this connection, a total)
open     ``ts``, ``sid``, ``tr`` (the transport the session opened on), ``eio`` (the
         Engine.IO revision, or null), ``req`` (the handshake request, see below), optional
         ``rts`` (when the server saw the handshake request, if the tap knows it)
upgrade  ``ts``, ``sid``, ``tr`` (the new transport), ``req`` (the upgrade request)
p        ``ts``, ``sid``, ``d`` (``"c2s"`` / ``"s2c"``), ``tr`` (the transport it went on),
         ``p``: the packet. A string is a text packet in its Engine.IO form (type digit
         first: ``4hello``); bytes are the data of a binary ``message`` packet
close    ``ts``, ``sid``, ``reason``
drop     ``ts``, ``n`` and ``b``: records and bytes the tap dropped since its last ``drop``
         record; ``total_n``, ``total_b``: since it started
======== ============================================================================

``req`` is the request as the server saw it: ``m`` (method), ``u`` (target: path and
query), ``h`` (headers, ``[[name, value], ...]``), ``ra`` (the client's address,
``"ip:port"``), ``la`` (the server's address, ``"ip:port"``); any may be missing.

Unknown fields are ignored and unknown kinds are reported and skipped, so a newer tap may add
fields within version 1; a new version number means a change a version-1 collector cannot
read.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

import orjson

VERSION = 1

#: Record kinds (the ``t`` field).
KINDS = frozenset({"hello", "open", "upgrade", "p", "close", "drop"})

DIRECTIONS = frozenset({"c2s", "s2c"})

#: Longest line a collector reads by default; a longer one is an error, skipped.
DEFAULT_MAX_LINE = 16 * 1024 * 1024


def encode_bytes(data: bytes) -> dict[str, str]:
    """``{"$bytes": "<base64>"}``."""
    return {"$bytes": base64.b64encode(data).decode("ascii")}


def dumps(record: dict[str, Any]) -> bytes:
    """One record as a line (with its ``\\n``). Bytes values must already be encoded."""
    return orjson.dumps(record) + b"\n"


class BadRecord(ValueError):
    """A line that is not a valid record; ``rule`` names what was wrong."""

    def __init__(self, rule: str, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


def loads(line: bytes) -> dict[str, Any]:
    """The record on ``line`` (without its ``\\n``), checked by :func:`check`.

    Raises :class:`BadRecord` for anything else.
    """
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise BadRecord("collect.record.bad-json", f"not JSON: {exc}") from None
    return check(value)


def _number(record: dict[str, Any], name: str) -> float:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRecord("collect.record.bad-field", f"{name!r} must be a number")
    return float(value)


def _text(record: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = record.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadRecord("collect.record.bad-field", f"{name!r} must be a string")
    return value


def _decode_bytes(value: Any, name: str) -> bytes:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("$bytes"), str):
        try:
            return base64.b64decode(value["$bytes"], validate=True)
        except (binascii.Error, ValueError):
            pass
    raise BadRecord("collect.record.bad-field", f"{name!r} must be a string or bytes")


def _check_request(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRecord("collect.record.bad-field", "'req' must be an object")
    request: dict[str, Any] = {}
    for name in ("m", "u", "ra", "la"):
        item = value.get(name)
        if item is not None:
            if not isinstance(item, str):
                raise BadRecord("collect.record.bad-field", f"'req.{name}' must be a string")
            request[name] = item
    headers = value.get("h")
    if headers is not None:
        if not isinstance(headers, list) or not all(
            isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], str)
            for pair in headers
        ):
            raise BadRecord(
                "collect.record.bad-field", "'req.h' must be a list of [name, value] strings"
            )
        request["h"] = [(name.lower(), item) for name, item in headers]
    return request


def check(value: Any) -> dict[str, Any]:
    """``value`` (a parsed JSON value) as a valid record with normalised fields.

    Bytes are decoded (``p`` becomes ``bytes``), ``req`` headers become lower-cased pairs.
    Raises :class:`BadRecord` naming the rule that was broken.
    """
    if not isinstance(value, dict):
        raise BadRecord("collect.record.not-object", "a record must be a JSON object")
    kind = value.get("t")
    if not isinstance(kind, str) or kind not in KINDS:
        raise BadRecord("collect.record.unknown-kind", f"unknown record kind {kind!r}")
    record: dict[str, Any] = {"t": kind}
    if kind == "hello":
        version = value.get("v")
        if isinstance(version, bool) or not isinstance(version, int):
            raise BadRecord("collect.record.bad-field", "'v' must be an integer")
        record["v"] = version
        for name in ("tap", "lib", "host", "app"):
            text = value.get(name)
            record[name] = text if isinstance(text, str) else None
        for name in ("pid", "dropped"):
            number = value.get(name)
            ok = isinstance(number, int) and not isinstance(number, bool)
            record[name] = number if ok else None
        return record
    record["ts"] = _number(value, "ts")
    if kind == "drop":
        for name in ("n", "b", "total_n", "total_b"):
            number = value.get(name, 0)
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise BadRecord("collect.record.bad-field", f"{name!r} must be a count")
            record[name] = number
        return record
    record["sid"] = _text(value, "sid")
    if kind == "close":
        record["reason"] = _text(value, "reason", optional=True)
        return record
    record["tr"] = _text(value, "tr")
    if kind == "p":
        direction = value.get("d")
        if not isinstance(direction, str) or direction not in DIRECTIONS:
            raise BadRecord("collect.record.bad-field", '\'d\' must be "c2s" or "s2c"')
        record["d"] = direction
        packet = value.get("p")
        record["p"] = packet if isinstance(packet, str) else _decode_bytes(packet, "p")
        return record
    record["req"] = _check_request(value.get("req"))
    if kind == "open":
        revision = value.get("eio")
        record["eio"] = None
        if isinstance(revision, int) and not isinstance(revision, bool) and 0 < revision < 100:
            record["eio"] = revision
        rts = value.get("rts")
        record["rts"] = None
        if isinstance(rts, int | float) and not isinstance(rts, bool):
            record["rts"] = float(rts)
    return record


class LineSplitter:
    """Splits a byte stream into lines of at most ``max_line`` bytes (sans-IO).

    :meth:`feed` returns the complete lines (without ``\\n``) and, for each line that was too
    long, ``None`` in its place: those bytes are not kept, the splitter skips to the next
    ``\\n``. ``pending`` is the size of the partial line held, never more than ``max_line``.
    """

    __slots__ = ("_buffer", "_skipping", "max_line")

    def __init__(self, max_line: int = DEFAULT_MAX_LINE) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._skipping = False

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> Iterator[bytes | None]:
        start = 0
        size = len(data)
        while start < size:
            end = data.find(b"\n", start)
            if end < 0:
                if self._skipping:
                    return
                room = self.max_line - len(self._buffer)
                if size - start > room:
                    self._buffer.clear()
                    self._skipping = True
                    yield None
                    return
                self._buffer += data[start:]
                return
            if self._skipping:
                self._skipping = False
            elif len(self._buffer) + end - start > self.max_line:
                self._buffer.clear()
                yield None
            elif self._buffer:
                self._buffer += data[start:end]
                line = bytes(self._buffer)
                self._buffer.clear()
                yield line
            else:
                yield data[start:end]
            start = end + 1

    def clear(self) -> None:
        self._buffer.clear()
        self._skipping = False
