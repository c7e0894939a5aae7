"""Tap records in, the chunks a capture of the same traffic would have given out.

A tap reports Engine.IO packets one by one, with the session's handshake request (and each
upgrade request) once. :class:`TapChunker` turns every ``p`` record into one
:class:`~ioproto.model.Chunk`: kind ``ws-text``/``ws-binary`` on the WebSocket transport,
``http-request`` (``c2s``) / ``http-response`` (``s2c``) on polling, the packet framed as its
transport carries it (:mod:`.framing`), and an :class:`~ioproto.model.HttpInfo` built from
the request the transport was opened with. From there the Engine.IO and Socket.IO layers,
the classifiers and the sinks work as on a capture.

What only the wire has is left unknown, never guessed: HTTP status (``None``), response
headers (none), the headers of each polling request after the handshake (the handshake's are
used: ``request_headers``), how packets were batched in polling payloads (one packet per
chunk) and compression. Every chunk carries the tag ``capture.via = "tap"`` so that sinks can
say so. The ``connection`` is the client and server address of the request that opened the
transport (``"ip:port-ip:port"``), else ``"tap:<stream>"``.

Per-session state is bounded in bytes (``max_bytes``, oldest sessions forgotten first); a
packet of a session whose ``open`` was never seen (dropped by the tap, or sent before the
collector started) still becomes a chunk, without HTTP facts.

A ``close`` with a reason (the server's word for the session's end: Engine.IO's ``transport
close``, ``ping timeout``, ...) becomes a :class:`~ioproto_http.records.ReportedEnd` on the
session's latest transport, from which the Engine.IO layer makes the session's end where
the server ended it without an Engine.IO ``close``: the source gives the fact, the layer
decides what it ends.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import attrs
from ioproto_http.records import Chunk, ChunkKind, HttpInfo, ReportedEnd

from ioproto.model import ErrorRecord, Record, Tag

from .framing import jsonp_request_body, polling_body, websocket_message

LAYER = "collect"

#: The tag every chunk from a tap carries.
VIA_TAP = (Tag("capture.via", "tap"),)

#: Default byte budget of the per-session table.
DEFAULT_SESSION_BYTES = 32 * 1024 * 1024

_SESSION_OVERHEAD = 512
_WS_KINDS = (ChunkKind.WS_TEXT, ChunkKind.WS_BINARY)


@attrs.define(slots=True)
class _Transport:
    """HTTP facts of one transport of a session, made once and shared by its chunks."""

    connection: str
    request: HttpInfo
    response: HttpInfo


@attrs.define(slots=True)
class _Session:
    revision: int | None
    b64: bool
    jsonp: str | None
    path: str | None
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    rts: float | None
    cost: int
    transports: dict[str, _Transport] = attrs.field(factory=dict)
    handshake_answered: bool = False


def _address(request: dict[str, Any], stream: str) -> str:
    client, server = request.get("ra"), request.get("la")
    if client and server:
        return f"{client}-{server}"
    return f"tap:{stream}"


def _split(target: str | None) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    if target is None:
        return None, ()
    try:
        parts = urlsplit(target)
        return parts.path, tuple(parse_qsl(parts.query, keep_blank_values=True))
    except ValueError:
        return target, ()


def _with(query: tuple[tuple[str, str], ...], **values: str) -> tuple[tuple[str, str], ...]:
    """``query`` with each of ``values`` set (replacing, or appended in order)."""
    out = [(name, values.pop(name)) if name in values else (name, value) for name, value in query]
    out.extend(values.items())
    return tuple(out)


def _target(path: str | None, query: tuple[tuple[str, str], ...]) -> str | None:
    if path is None:
        return None
    if not query:
        return path
    return path + "?" + "&".join(f"{name}={value}" for name, value in query)


def _unknown_session_http(sid: str, transport: str | None, revision: int | None) -> HttpInfo:
    """The URL facts of a session whose handshake the tap did not report, as they are
    known, for the Engine.IO layer to read (as it reads a capture's URLs)."""
    eio = () if revision is None else (("EIO", str(revision)),)
    carried = () if transport is None else (("transport", transport),)
    query = (*eio, *carried, ("sid", sid))
    return HttpInfo(path=None, target=_target("/", query), query=query)


class TapChunker:
    """Turns checked tap records (:func:`.wire.check`) of many streams into records.

    ``feed(record, stream)`` returns the records for one tap record: a chunk for a packet,
    a ``reported-end`` for a ``close`` that gives a reason, an error record for a ``drop``
    report or a record that cannot be used, nothing for ``hello``/``open``/``upgrade`` (they
    only update the session table) or a ``close`` without a reason.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_SESSION_BYTES, max_raw: int = 4096) -> None:
        self.max_bytes = max_bytes
        self.max_raw = max_raw
        self._sessions: dict[tuple[str, str], _Session] = {}
        self._bytes = 0
        self._revisions: dict[str, int | None] = {}
        self._seq = 0

    @property
    def session_bytes(self) -> int:
        """Bytes the session table is accounted at (at most ``max_bytes``)."""
        return self._bytes

    def feed(self, record: dict[str, Any], stream: str) -> list[Record]:
        kind = record["t"]
        if kind == "p":
            return self._packet(record, stream)
        if kind == "open":
            self._open(record, stream)
        elif kind == "upgrade":
            session = self._sessions.get((stream, record["sid"]))
            if session is not None:
                self._add_transport(session, record["tr"], record["req"], stream, record["sid"])
        elif kind == "close":
            return self._closed(record, stream)
        elif kind == "drop":
            return [self._dropped(record, stream)]
        return []

    def forget_stream(self, stream: str) -> None:
        """Drop every session of ``stream`` (its tap disconnected)."""
        for key in [key for key in self._sessions if key[0] == stream]:
            self._forget(key)
        self._revisions.pop(stream, None)

    def error(
        self, stream: str, rule: str, reason: str, raw: bytes = b"", ts: float | None = None
    ) -> ErrorRecord:
        """An error record about ``stream`` (a bad line, a tap that broke the protocol)."""
        return ErrorRecord(
            ts=time.time() if ts is None else ts,
            connection=f"tap:{stream}",
            layer=LAYER,
            rule=rule,
            reason=reason,
            raw=raw[: self.max_raw],
            tags=VIA_TAP,
        )

    # -- sessions ------------------------------------------------------------------------------

    def _open(self, record: dict[str, Any], stream: str) -> None:
        request: dict[str, Any] = record["req"]
        path, query = _split(request.get("u"))
        headers = tuple(request.get("h", ()))
        revision = record["eio"]
        if revision is None:
            value = dict(query).get("EIO", "")
            known = value.isascii() and value.isdigit() and len(value) < 3
            revision = int(value) if known else None
        self._revisions[stream] = revision
        values = dict(query)
        cost = (
            _SESSION_OVERHEAD
            + len(request.get("u") or "")
            + sum(len(name) + len(value) for name, value in headers)
        )
        session = _Session(
            revision=revision,
            b64=bool(values.get("b64")),
            jsonp=values.get("j"),
            path=path,
            query=query,
            headers=headers,
            rts=record["rts"],
            cost=cost,
        )
        key = (stream, record["sid"])
        self._forget(key)
        while self._sessions and self._bytes + cost > self.max_bytes:
            self._forget(next(iter(self._sessions)))
        self._sessions[key] = session
        self._bytes += cost
        self._add_transport(session, record["tr"], request, stream, record["sid"])

    def _add_transport(
        self, session: _Session, transport: str, request: dict[str, Any], stream: str, sid: str
    ) -> None:
        path, query = _split(request.get("u"))
        if path is None:
            path, query = session.path, session.query
        query = _with(query, sid=sid, transport=transport)
        target = _target(path, query)
        headers = tuple(request.get("h", ())) or session.headers
        if transport == "polling":
            http_request = HttpInfo(
                method="POST", target=target, path=path, query=query, headers=headers
            )
            http_response = HttpInfo(
                method="GET", target=target, path=path, query=query, request_headers=headers
            )
        else:
            http_request = http_response = HttpInfo(
                method=request.get("m", "GET"),
                target=target,
                path=path,
                query=query,
                request_headers=headers,
                request_ts=session.rts if not session.transports else None,
            )
        session.transports[transport] = _Transport(
            connection=_address(request, stream), request=http_request, response=http_response
        )

    def _closed(self, record: dict[str, Any], stream: str) -> list[Record]:
        """The session's end as its server reported it, on the transport it was on last
        (an upgrade's WebSocket once there was one); the session is forgotten."""
        sid: str = record["sid"]
        session = self._sessions.get((stream, sid))
        self._forget((stream, sid))
        reason = record["reason"]
        if reason is None:
            return []
        if session is not None and session.transports:
            facts = next(reversed(session.transports.values()))
            connection, http = facts.connection, facts.request
        else:
            connection = f"tap:{stream}"
            http = _unknown_session_http(sid, None, self._revisions.get(stream))
        return [
            ReportedEnd(
                ts=record["ts"],
                connection=connection,
                reason=reason,
                http=http,
                tags=VIA_TAP,
            )
        ]

    def _forget(self, key: tuple[str, str]) -> None:
        session = self._sessions.pop(key, None)
        if session is not None:
            self._bytes -= session.cost

    # -- packets -------------------------------------------------------------------------------

    def _packet(self, record: dict[str, Any], stream: str) -> list[Record]:
        sid: str = record["sid"]
        transport: str = record["tr"]
        direction = record["d"]
        packet: str | bytes = record["p"]
        session = self._sessions.get((stream, sid))
        revision = session.revision if session is not None else self._revisions.get(stream)
        facts = session.transports.get(transport) if session is not None else None
        connection = facts.connection if facts is not None else f"tap:{stream}"
        http: HttpInfo | None = None
        if transport == "polling":
            jsonp = session.jsonp if session is not None else None
            b64 = session.b64 if session is not None else False
            if direction == "c2s":
                kind = ChunkKind.HTTP_REQUEST
                if jsonp is not None:
                    data = jsonp_request_body(packet, revision or 4)
                else:
                    data = polling_body(packet, revision or 4, b64=b64, jsonp=None)
                http = facts.request if facts is not None else None
            else:
                kind = ChunkKind.HTTP_RESPONSE
                data = polling_body(packet, revision or 4, b64=b64, jsonp=jsonp)
                if facts is not None:
                    http = facts.response
                    if session is not None and not session.handshake_answered:
                        # The handshake's response: its request time gives latency.handshake.
                        session.handshake_answered = True
                        http = attrs.evolve(http, request_ts=session.rts)
        elif transport == "websocket":
            kind = _WS_KINDS[isinstance(packet, bytes)]
            data = websocket_message(packet, revision or 4)
            http = facts.request if facts is not None else None
        else:
            raw = packet.encode("utf-8", "surrogatepass") if isinstance(packet, str) else packet
            return [
                self.error(
                    stream,
                    "collect.transport.unsupported",
                    f"packets on transport {transport!r} cannot be decoded from a tap",
                    raw,
                    record["ts"],
                )
            ]
        if http is None:
            http = _unknown_session_http(sid, transport, revision)
        self._seq += 1
        return [
            Chunk(
                ts=record["ts"],
                connection=connection,
                direction=direction,
                kind=kind,
                data=data,
                http=http,
                seq=self._seq,
                tags=VIA_TAP,
            )
        ]

    def _dropped(self, record: dict[str, Any], stream: str) -> ErrorRecord:
        return self.error(
            stream,
            "collect.tap.dropped",
            f"the tap dropped {record['n']} records ({record['b']} bytes) while its collector "
            f"could not keep up; {record['total_n']} records ({record['total_b']} bytes) in "
            "total: packets of those sessions are missing",
            ts=record["ts"],
        )
