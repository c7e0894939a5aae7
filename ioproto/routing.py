"""Which worker of a sharded run decodes each TCP connection (:mod:`ioproto.shard`).

Every worker reads the same records from the source and routes each by its connection with
the same :class:`Router`, so that all agree on an owner without talking to each other. The
owner is chosen so that all connections of one Engine.IO session meet in one worker:

* the ``sid=`` in the query of the client's first HTTP request line (a polling request or
  the WebSocket upgrade of a session that already has one);
* else the ``"sid":"..."`` in the server's first bytes (the handshake: a polling response's
  body, or the first WebSocket frame of a WebSocket-only client);
* else, and for a connection that is not HTTP, its name (its addresses).

The owner is ``zlib.crc32(key) % workers`` (a stable hash: Python's ``hash`` differs per
process), unless the key was *claimed* first: a keep-alive connection can carry several
sessions one after the other (a browser's tabs, a reverse proxy's pool of upstream
connections), so every session id a decided connection shows later (a handshake's
``"sid"``, a request's ``sid=``; :func:`session_ids_in`) and that no connection has used
yet is claimed for that connection's owner, and the session's other connections (its
WebSocket) go there too. Every worker sees the same records in the same order, so all
claim alike. Until a connection is decided, every worker keeps its records; the owner feeds
them (in their order) once it is, the others drop them. A connection is decided by its
address when it closes, when its kept records pass ``route_bytes`` of data, when its first
kept record is ``route_window`` records behind the current one, or when the records kept
for all undecided connections together pass ``pending_bytes`` (oldest first): a worker
must not hold back its output, nor keep memory, for long.

Known limit: a session whose own connection was decided before a shared keep-alive
connection showed its id (its WebSocket opened before its first poll on the shared
connection, which a client does not do) stays split between the two owners: its
session-level classification (``upgrade``, the session summary) may then differ from a
one-process run. Records are never lost: every record is fed by exactly one worker.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from .model import Record
from .optionvalues import number_option, size_option

#: Data bytes an undecided connection may keep before it is decided by its address.
DEFAULT_ROUTE_BYTES = 64 * 1024
#: Records of the input an undecided connection may hold the others back by.
DEFAULT_ROUTE_WINDOW = 4096
#: Data bytes kept for all undecided connections together.
DEFAULT_PENDING_BYTES = 8 * 1024 * 1024
#: Bytes of each side's first data looked at for a session id.
HEAD_BYTES = 4096
#: Session ids (and connection names) a worker that routes by itself remembers with their
#: owner, about 150 bytes each (10 MB): beyond, the oldest are forgotten.
MAX_CLAIMS = 65_536


class RouteLimits(TypedDict):
    """The limits of a :class:`Router` that source options set."""

    route_bytes: int
    route_window: int
    pending_bytes: int


def route_limits(options: Mapping[str, Any]) -> RouteLimits:
    """The :class:`Router` limits the source options set (``route_bytes``,
    ``route_window``, ``route_pending_bytes``; each a whole number of at least 1), as
    keyword arguments; :class:`~ioproto.errors.UsageError` for a bad value."""
    return {
        "route_bytes": size_option(options, "route_bytes", DEFAULT_ROUTE_BYTES),
        "route_window": number_option(options, "route_window", DEFAULT_ROUTE_WINDOW, minimum=1),
        "pending_bytes": number_option(
            options, "route_pending_bytes", DEFAULT_PENDING_BYTES, minimum=1
        ),
    }


_METHODS = (b"GET ", b"POST ", b"PUT ", b"OPTIONS ", b"HEAD ", b"DELETE ", b"PATCH ")
_RESPONSE = b"HTTP/"
_SID_IN_QUERY = re.compile(rb"[?&]sid=([^&\s#]+)")
_SID_IN_BODY = re.compile(rb'"sid"\s*:\s*"([^"]+)"')


def owner_of(key: str, workers: int) -> int:
    """The worker (0 .. ``workers`` - 1) that owns ``key`` (a session id or a connection)."""
    return zlib.crc32(key.encode("utf-8", "surrogateescape")) % workers


def _kind(head: bytes) -> str | None:
    """``"request"``, ``"response"`` or ``"other"`` for a side's first bytes; ``None``
    while too few have come to tell."""
    for prefix in (*_METHODS, _RESPONSE):
        if head.startswith(prefix):
            return "response" if prefix is _RESPONSE else "request"
        if prefix.startswith(head):
            return None
    return "other"


class _Pending:
    """An undecided connection: its kept records and the first bytes of each side."""

    __slots__ = ("bytes", "first", "heads", "kinds", "records")

    def __init__(self, first: int) -> None:
        self.first = first
        self.records: list[tuple[int, Record]] = []
        self.bytes = 0
        self.heads = [b"", b""]
        self.kinds: list[str | None] = [None, None]


class Router:
    """Routes one worker's records (see the module docstring).

    ``stream_layer`` is the layer of the connection records (``"tcp"``). Records of other
    layers (a source's error records) go with their connection when it is known, else to
    worker 0. :meth:`route` returns the records this worker feeds now, as ``(position,
    record)`` in position order; :meth:`finish` those still kept at the end. With ``me``
    ``None`` it routes for all workers (a dispatcher, :mod:`ioproto.split`): every record
    is returned once decided, its owner in :attr:`owners` (the dispatcher takes it out).
    """

    def __init__(
        self,
        workers: int,
        me: int | None,
        stream_layer: str,
        *,
        route_bytes: int = DEFAULT_ROUTE_BYTES,
        route_window: int = DEFAULT_ROUTE_WINDOW,
        pending_bytes: int = DEFAULT_PENDING_BYTES,
        assign: Callable[[str], int] | None = None,
    ) -> None:
        self.workers = workers
        #: the owner of a key (session id or connection name): :func:`owner_of` unless a
        #: dispatcher, which alone decides, assigns otherwise
        self.assign = assign or (lambda key: owner_of(key, workers))
        self.me = me
        self.stream_layer = stream_layer
        self.route_bytes = route_bytes
        self.route_window = route_window
        self.pending_bytes = pending_bytes
        self.owners: dict[str, int] = {}
        #: the owner of each key that decided a connection or that a decided connection
        #: showed (see :meth:`_follow`); a dispatcher keeps its own table instead
        self.claims: dict[str, int] | None = {} if assign is None else None
        self.pending: dict[str, _Pending] = {}  # oldest first
        self.kept_bytes = 0
        #: how each connection was decided (for tests and figures): "sid", "address"
        self.decided_by: Callable[[str, str], None] | None = None

    def watermark(self) -> int | None:
        """The position of the oldest kept record, if any: output of later records waits."""
        for pending in self.pending.values():
            return pending.first
        return None

    def route(self, position: int, record: Record) -> list[tuple[int, Record]]:
        name = record.connection
        if name is None:
            return [(position, record)] if self.me in (0, None) else []
        owner = self.owners.get(name)
        if owner is not None:
            if record.layer == self.stream_layer:
                if record.type == "close":
                    del self.owners[name]  # the name may come back as a new connection
                elif self.claims is not None and record.type == "data":
                    self._follow(owner, record)
            return [(position, record)] if owner == self.me or self.me is None else []
        pending = self.pending.get(name)
        if pending is None:
            if record.layer != self.stream_layer:
                return [(position, record)] if self.me in (0, None) else []
            pending = self.pending[name] = _Pending(position)
        ready: list[tuple[int, Record]] = []
        pending.records.append((position, record))
        size = len(getattr(record, "data", b"") or b"")
        pending.bytes += size
        self.kept_bytes += size
        key = self._look(pending, record)
        if key is None and (
            (record.type == "close" and record.layer == self.stream_layer)
            or pending.bytes > self.route_bytes
        ):
            key = self._by_address(name)
        if key is not None:
            self._decide(name, key, ready)
        while self.pending:
            oldest_name, oldest = next(iter(self.pending.items()))
            if position - oldest.first <= self.route_window and (
                self.kept_bytes <= self.pending_bytes
            ):
                break
            self._decide(oldest_name, self._by_address(oldest_name), ready)
        if len(ready) > 1:
            ready.sort(key=_position)
        return ready

    def finish(self) -> list[tuple[int, Record]]:
        """The end of the input: every connection still undecided goes by its address."""
        ready: list[tuple[int, Record]] = []
        for name in list(self.pending):
            self._decide(name, self._by_address(name), ready)
        ready.sort(key=_position)
        return ready

    def _by_address(self, name: str) -> str:
        if self.decided_by is not None:
            self.decided_by(name, "address")
        return name

    def _decide(self, name: str, key: str, ready: list[tuple[int, Record]]) -> None:
        pending = self.pending.pop(name)
        self.kept_bytes -= pending.bytes
        claims = self.claims
        owner = claims.get(key) if claims is not None else None
        if owner is None:
            owner = self.assign(key)
            if claims is not None:
                self._claim(key, owner)
        last = pending.records[-1][1]
        if self.me is None or not (last.layer == self.stream_layer and last.type == "close"):
            self.owners[name] = owner  # a dispatcher takes every decision out at once
        if owner == self.me or self.me is None:
            ready += pending.records

    def _follow(self, owner: int, record: Record) -> None:
        """A data record of a decided connection: a session id it shows that no connection
        has claimed yet is claimed for the same ``owner`` (a keep-alive connection carrying
        several sessions: their other connections then go where their requests went).
        Every worker sees the same records in the same order, so all claim alike."""
        data = getattr(record, "data", None)
        if type(data) is bytes and data:
            assert self.claims is not None
            claim_shown(self.claims, data, owner, MAX_CLAIMS)

    def _claim(self, key: str, owner: int) -> None:
        claims = self.claims
        assert claims is not None
        if len(claims) >= MAX_CLAIMS:
            del claims[next(iter(claims))]
        claims[key] = owner

    def _look(self, pending: _Pending, record: Record) -> str | None:
        """The session id that decides the connection, once its first bytes show one."""
        data = getattr(record, "data", None)
        if type(data) is not bytes or record.type != "data":
            return None
        side = int(getattr(record, "side", 0)) & 1
        if len(pending.heads[side]) >= HEAD_BYTES:
            return None
        head = pending.heads[side] = (pending.heads[side] + data)[:HEAD_BYTES]
        kind = pending.kinds[side]
        if kind is None:
            kind = pending.kinds[side] = _kind(head)
        if kind == "other":
            return self._by_address(record.connection or "")
        if kind == "request":
            end = head.find(b"\r\n")
            if end < 0 and len(head) < HEAD_BYTES:
                return None
            found = _SID_IN_QUERY.search(head[: end if end >= 0 else len(head)])
            if found is not None:
                return self._by_sid(found.group(1))
            return None  # no sid yet: the server's handshake will tell
        if kind == "response":
            found = _SID_IN_BODY.search(head) or _SID_IN_BODY.search(_inflated_body(head))
            if found is not None:
                return self._by_sid(found.group(1))
            if len(head) >= HEAD_BYTES:
                return self._by_address(record.connection or "")
        return None

    def _by_sid(self, sid: bytes) -> str:
        if self.decided_by is not None:
            self.decided_by("", "sid")
        return sid.decode("latin-1")


#: The first bytes an HTTP request (GET, POST, PUT, PATCH, HEAD, OPTIONS, DELETE) or
#: response (``HTTP/``) starts with; a WebSocket frame's first byte is never one of them.
_HTTP_FIRST_BYTES = frozenset(b"GPHOD")


def claim_shown(claims: dict[str, int], data: bytes, owner: int, limit: int) -> None:
    """Give ``owner`` every session id ``data`` shows (:func:`session_ids_shown`) that
    ``claims`` (oldest first, at most ``limit`` entries) does not hold yet."""
    for key in session_ids_shown(data):
        if key not in claims:
            if len(claims) >= limit:
                del claims[next(iter(claims))]
            claims[key] = owner


def session_ids_shown(data: bytes) -> list[str]:
    """:func:`session_ids_in` of ``data`` that starts an HTTP message (a request or a
    response of a keep-alive connection), else ``[]`` at once: WebSocket frames, bodies'
    later segments. The router's check of every unit of a decided connection."""
    if not data or data[0] not in _HTTP_FIRST_BYTES:
        return []
    return session_ids_in(data)


def session_ids_in(data: bytes) -> list[str]:
    """The Engine.IO session ids ``data`` (any bytes of a connection, mid-stream too) shows:
    ``sid=`` in a request's query, ``"sid":"…"`` in a handshake (also a gzip- or
    deflate-encoded one that starts in ``data``). Text that merely looks so (an application
    message quoting a sid) is found too: callers use these ids for routing only."""
    if b"sid" not in data:
        if not data.startswith(_RESPONSE) or b"ncoding:" not in data:
            return []
        data = _inflated_body(data)
    found = [match.group(1) for match in _SID_IN_QUERY.finditer(data)]
    found += [match.group(1) for match in _SID_IN_BODY.finditer(data)]
    if not found and data.startswith(_RESPONSE):
        found = [match.group(1) for match in _SID_IN_BODY.finditer(_inflated_body(data))]
    return [sid.decode("latin-1") for sid in found]


def _inflated_body(head: bytes) -> bytes:
    """The start of a gzip- or deflate-encoded response body in ``head``, decoded as far as
    it goes (``b""`` if it is not encoded or does not decode): a handshake sent compressed."""
    split = head.find(b"\r\n\r\n")
    if split < 0 or b"content-encoding:" not in head[:split].lower():
        return b""
    headers, body = head[:split].lower(), head[split + 4 :]
    if b"transfer-encoding: chunked" in headers:
        body = _dechunked(body)
    try:
        return zlib.decompressobj(47).decompress(body, HEAD_BYTES)  # 47: gzip or zlib
    except zlib.error:
        try:
            return zlib.decompressobj(-15).decompress(body, HEAD_BYTES)  # raw deflate
        except zlib.error:
            return b""


def _dechunked(body: bytes) -> bytes:
    """The data of the complete chunks at the start of a chunked body."""
    data = b""
    while True:
        line = body.find(b"\r\n")
        try:
            size = int(body[:line].split(b";")[0], 16) if line >= 0 else -1
        except ValueError:
            return data
        if size <= 0 or len(body) < line + 2 + size:
            return data
        data += body[line + 2 : line + 2 + size]
        body = body[line + 4 + size :]


def _position(item: tuple[int, Record]) -> int:
    return item[0]
