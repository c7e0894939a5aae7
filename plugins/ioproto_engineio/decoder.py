"""The Engine.IO decoder layer: chunks in, Engine.IO packets and error records out.

Framing, per-connection session state and error reporting live here; the wire formats are
declared in :mod:`.wire`. The common forms (a text packet, a v4 ``\\x1e`` payload, a v3
``<len>:`` text payload, binary messages, the XHR2 payload) are framed in plain Python for
speed and agree with the construct declarations (checked by the ``*_matches_construct``
tests of ``tests/engineio/test_eio_wire.py``); JSONP wrappers and form bodies are parsed
with the declarations themselves.

Engine.IO's facts are derived here, from what the HTTP layer saw (nothing below knows
Engine.IO): the session id from the URL's ``sid`` parameter, else from the ``open`` handshake
seen earlier on the same connection (a WebSocket-only session); the revision from ``EIO``;
the transport from ``transport``, else from the kind of chunk (a WebSocket message or an HTTP
body). Which HTTP messages are Engine.IO's (:func:`is_engineio_request`): those with an
``EIO`` or ``transport`` parameter, or a ``/socket.io/`` or ``/engine.io/`` path.

Revision: the URL's ``EIO`` if given, else the ``revision`` decode option, else 4. With the
option ``force_revision`` true, the ``revision`` option overrides every chunk. A revision other
than 2, 3 or 4 is read as 3, as JS engine.io does for any ``EIO`` other than ``4``.

Never raises out of :meth:`EngineIOStream.feed` / :meth:`EngineIOStream.close`: bad input
becomes an :class:`~ioproto.model.ErrorRecord` whose ``rule`` names what was broken.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from ioproto_http.records import (
    ABNORMAL_CLOSURE,
    WS_CLOSE,
    Chunk,
    ChunkKind,
    HttpInfo,
    ReportedEnd,
    UnansweredRequest,
    WebSocketEnd,
    close_status,
)
from ioproto_http.records import LAYER as CHUNK_LAYER

from ioproto.components import DecodeContext, Limits, choice_option, flag_option
from ioproto.fastrecords import positional_maker
from ioproto.model import ErrorRecord, Record, record_context
from ioproto.sessions import TOMBSTONE_SHARE, EndedKeys

from . import fastwire
from .records import (
    CLIENT_SILENT,
    LAYER,
    PACKET_TYPES,
    PING_TIMEOUT,
    SERVER_REPORTED,
    TRANSPORT_CLOSED,
    EngineIOHandshake,
    EngineIOHttpError,
    EngineIOPacket,
    EngineIOTransportClose,
)

_KINDS = frozenset(
    {
        ChunkKind.WS_CONTROL,
        ChunkKind.HTTP_REQUEST,
        ChunkKind.HTTP_RESPONSE,
        ChunkKind.WS_TEXT,
        ChunkKind.WS_BINARY,
        ChunkKind.LINE,
        ChunkKind.LINE_BINARY,
    }
)
_TRANSPORTS = {
    ChunkKind.HTTP_REQUEST: "polling",
    ChunkKind.HTTP_RESPONSE: "polling",
    ChunkKind.WS_TEXT: "websocket",
    ChunkKind.WS_BINARY: "websocket",
    ChunkKind.WS_CONTROL: "websocket",
}
_DIRECTIONS = {ChunkKind.HTTP_REQUEST: "c2s", ChunkKind.HTTP_RESPONSE: "s2c"}

_TYPES = fastwire.PACKET_TYPES
_WS_TEXT = ChunkKind.WS_TEXT
_WS_MESSAGES = frozenset({ChunkKind.WS_TEXT, ChunkKind.WS_BINARY})
#: Lines of the ``lines`` source are Engine.IO by definition, whatever URL facts they state.
_LINE_KINDS = frozenset({ChunkKind.LINE, ChunkKind.LINE_BINARY})
_WS_CONTROL = ChunkKind.WS_CONTROL
_REVISIONS = frozenset({2, 3, 4})
_DIGIT_0 = 0x30
_DIGIT_6 = 0x36
_V3_LENGTH = re.compile("([0-9]{1,20}):")
_V3_LENGTH_BYTES = re.compile(rb"[0-9]+:")
_V3_TEXT_PAYLOAD_START = re.compile(rb"[0-9]+:")
_MAX_RESYNC_CANDIDATES = 256
_RESYNC_LOOKAHEAD = 3
_POST_ACKS = frozenset({b"ok", b"OK"})
_JSONP_PREFIX = b"___eio["
_MAX_ERROR_BODY_TEXT = 1000


_NO_FACTS: tuple[str | None, int | None, str | None] = (None, None, None)

#: The reasons Engine.IO's servers give for a session they ended without an Engine.IO
#: ``close`` of their own: its transport closed or failed under it (``ping timeout``: the
#: client went silent). A server's report of one of them (:class:`ReportedEnd`) ends the
#: session with a ``transport-close``. Not here: ``client disconnect`` (its ``close`` packet
#: ended the session already) and python-engineio's ``server disconnect``, reported before
#: the ``close`` packet it goes on to send, which ends the session as a capture sees it.
_TRANSPORT_ENDS = frozenset(
    {
        "transport close",
        "transport error",
        PING_TIMEOUT,
        "forced close",
        "forced server close",
        "server shutting down",
        "parse error",
    }
)


def is_engineio_request(http: HttpInfo) -> bool:
    """Whether an HTTP message belongs to Engine.IO: an ``EIO`` or ``transport`` parameter,
    or the usual ``/socket.io/`` and ``/engine.io/`` paths."""
    path = http.path or ""
    if "/socket.io/" in path or "/engine.io/" in path:
        return True
    return any(name in ("EIO", "transport") for name, _ in http.query)


class EngineIODecoder:
    """Decodes Engine.IO (revisions 2, 3, 4) from HTTP bodies, WebSocket messages and lines."""

    name = LAYER
    rides_on = CHUNK_LAYER
    scope = "connection"  # state (a connection's sid) is per connection: see ioproto.worker
    attributes_errors = True  # errors of the layers below get their session (see feed)
    description = (
        "Engine.IO packets, revisions 2-4: polling payloads (v4 \\x1e, v3 length-prefixed "
        "and XHR2 binary, JSONP), WebSocket messages, one packet or payload per line"
    )
    options = {
        "revision": "Engine.IO revision (2, 3, 4) when the input does not say (--revision)",
        "force_revision": "true: the revision option wins over what the input says",
    }
    types = (*PACKET_TYPES, "http-error", "transport-close")

    def ends_session(self, record: Record) -> str | None:
        """Whether ``record`` ends its session (the pipeline then has every component report
        what it held for it): ``"closed"`` for a ``close`` packet, ``"transport closed"``
        when the session's transport closed (:class:`EngineIOTransportClose`), and
        ``"ping timeout"`` when it closed because its server said the client went silent
        (a transport-close made of a :class:`ReportedEnd` of that reason)."""
        kind = record.type
        if kind == "close" and isinstance(record, EngineIOPacket):
            return "closed"
        if kind == "transport-close" and isinstance(record, EngineIOTransportClose):
            report = record.parent
            if isinstance(report, ReportedEnd) and report.reason == PING_TIMEOUT:
                return PING_TIMEOUT
            if report is None and _silent_client(record):
                return PING_TIMEOUT
            return TRANSPORT_CLOSED
        return None

    def accepts(self, record: Record) -> bool:
        """True for chunks holding lines, or the HTTP bodies and WebSocket messages of an
        Engine.IO request (:func:`is_engineio_request`), for error records and ``ws-end``
        records of the layers below (to attribute them to their session), for
        ``http-unanswered`` records of requests naming a session, and for a server's
        ``reported-end``."""
        if not isinstance(record, Chunk):
            if isinstance(record, UnansweredRequest):  # a request of a session: see _poll_cut
                return record.http is not None and record.http.query_value("sid") is not None
            return isinstance(record, ErrorRecord | WebSocketEnd | ReportedEnd)
        kind = record.kind
        if kind not in _KINDS:
            return False
        http = record.http
        return http is None or kind in _LINE_KINDS or is_engineio_request(http)

    def open(self, context: DecodeContext) -> EngineIOStream:
        """A stream decoder with its own per-connection session state."""
        return EngineIOStream(context)


def _declarations() -> tuple[Any, Callable[..., Any], type[Exception]]:
    """The construct declarations (:mod:`.wire`), :func:`ioproto.constructs.parse` and
    :class:`construct.ConstructError`, loaded on the first input the fast paths leave to
    them: a run whose packets all take the fast paths never loads construct."""
    from construct import ConstructError

    from ioproto.constructs import parse

    from . import wire

    return wire, parse, ConstructError


# -- JSON, as strict as JavaScript's JSON.parse --------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _bounded_int(literal: str) -> int:
    if len(literal.lstrip("-")) > 100:
        raise ValueError("integer literal longer than 100 digits")
    return int(literal)


_JSON = json.JSONDecoder(parse_constant=_refuse_constant, parse_int=_bounded_int)


def strict_json(text: str) -> Any:
    """``JSON.parse`` semantics: no NaN/Infinity, integers of at most 100 digits.

    Raises :class:`ValueError` (or :class:`RecursionError` for absurd nesting).
    """
    return _JSON.decode(text)


def _normalise_revision(revision: int) -> int:
    return revision if revision in (2, 3, 4) else 3


_PACKET_PARAMS = (
    "ts",
    "connection",
    "direction",
    "transport",
    "parent",
    "revision",
    "notes",
    "sid",
    "type",
    "data",
    "raw",
    "index",
    "binary",
)
_make_packet = positional_maker(EngineIOPacket, _PACKET_PARAMS)


class _Out:
    """What the records of one chunk share while it is decoded (cheap, per chunk).

    ``head`` holds the leading arguments of :data:`_make_packet` that are the same for every
    packet of the chunk; ``sid`` changes when a handshake inside the chunk names the session.
    """

    __slots__ = ("chunk", "head", "legacy", "records", "revision", "sid")

    def __init__(self, chunk: Chunk, revision: int, sid: str | None, transport: str | None) -> None:
        self.chunk = chunk
        self.revision = revision
        self.legacy = revision != 4
        self.sid = sid
        self.records: list[Record] = []
        kind = chunk.kind
        self.head: tuple[Any, ...] = (
            chunk.ts,
            chunk.connection,
            chunk.direction or _DIRECTIONS.get(kind),
            transport or _TRANSPORTS.get(kind),
            chunk,
            revision,
            (),
        )

    @property
    def notes(self) -> tuple[str, ...]:
        notes: tuple[str, ...] = self.head[6]
        return notes

    def add_note(self, note: str) -> None:
        self.head = (*self.head[:6], (*self.notes, note))

    def base(self) -> dict[str, Any]:
        """The common record fields, as keyword arguments (for the rarer record kinds)."""
        ts, connection, direction, transport, parent = self.head[:5]
        return {
            "ts": ts,
            "connection": connection,
            "direction": direction,
            "transport": transport,
            "parent": parent,
            "sid": self.sid,
        }


def _learned_cost(connection: str, sid: str) -> int:
    """Estimated bytes of one entry of the connection → session map."""
    return 200 + len(connection) + len(sid)


#: Seconds past ``pingInterval + pingTimeout`` of a client's silence before the end of
#: the input says its server timed it out (servers' timers fire late by milliseconds;
#: python-engineio checks a missed pong on its next pass).
SILENCE_GRACE = 1.0


def _silent_client(record: EngineIOTransportClose) -> bool:
    """Whether ``record`` is the end of the input's verdict on a silent client."""
    message = record.message
    return record.code is None and message is not None and message.startswith(CLIENT_SILENT)


#: The longest pingInterval or pingTimeout a server can wait, in ms (a JavaScript timer's,
#: 2**31 - 1: about 24.8 days); a handshake that says more gets no silence verdict.
_LONGEST_TIMER_MS = 2**31 - 1


def _silence_cost(sid: str) -> int:
    """Estimated bytes of one entry of the map of sessions to their client's last sign."""
    return 180 + len(sid)


class EngineIOStream:
    """Running state of the Engine.IO layer for one pipeline (sans-IO).

    Keeps a bounded map from connection to the session id learned from an ``open``
    handshake on it (at most ``limits.max_state_bytes`` bytes, least recently learned
    forgotten first; not ``limits.max_sessions``, which counts sessions: a connection's sid
    outlives its session's eviction from the store, so that the connection's later records,
    its close above all, still name their session), so that packets of a WebSocket-only
    session carry their sid, and whether the connection's WebSocket is its session's
    transport (it was opened on it, or the client's ``upgrade`` packet came on it): the
    first close frame on such a WebSocket becomes an :class:`EngineIOTransportClose`,
    which ends the session. It is a map of connections, not of sessions, and the layer may
    run in a worker process: it is not kept in the pipeline's session store.

    It also keeps, for each session whose handshake it saw and that has not ended, its
    ``pingInterval + pingTimeout`` and when its client last sent a packet (at most
    ``limits.max_state_bytes`` bytes, the oldest handshake forgotten first), so that
    :meth:`input_ended` can end the sessions whose client had gone silent for longer than
    its server waits.
    """

    def __init__(self, context: DecodeContext) -> None:
        self._limits: Limits = context.limits
        options = context.options
        revision = choice_option(options, "revision", ("2", "3", "4"))
        self._option_revision = int(revision) if revision is not None else None
        forced = flag_option(options, "force_revision")
        self._forced = self._option_revision is not None and forced
        self._strict = context.strict
        #: connection -> (sid, transport, whether its WebSocket is the session's transport)
        self._sids: dict[str, tuple[str, str | None, bool]] = {}
        self._sids_cost = 0  # bytes of _sids, estimated (_learned_cost)
        #: sid -> [pingInterval + pingTimeout in s, time of the client's last packet, its
        #: connection, its transport, the revision] for sessions not ended
        self._silences: dict[str, list[Any]] = {}
        self._silences_cost = 0  # bytes of _silences, estimated (_silence_cost)
        #: sessions a ``close`` packet ended: their transport closing afterwards ends nothing
        #: (bounded as the session store's memory of ends is)
        self._closed_sids = EndedKeys(
            self._limits.max_sessions, self._limits.max_state_bytes // TOMBSTONE_SHARE
        )
        self._facts_of: HttpInfo | None = None
        self._last_facts = _NO_FACTS
        self._handlers: dict[ChunkKind, Callable[[_Out, bytes], None]] = {
            ChunkKind.HTTP_REQUEST: self._http_request,
            ChunkKind.HTTP_RESPONSE: self._http_response,
            ChunkKind.WS_TEXT: self._ws_text,
            ChunkKind.WS_BINARY: self._binary,
            ChunkKind.LINE_BINARY: self._binary,
            ChunkKind.LINE: self._line,
        }

    # -- the StreamDecoder protocol ------------------------------------------------------------

    def feed(self, record: Record) -> Iterable[Record]:
        """The Engine.IO records decoded from one chunk (never raises).

        A WebSocket control frame, or an error record of the layers below, comes back with
        the session and transport of its connection filled in (the layers below cannot know
        them), so that it is counted with its session.
        """
        if not isinstance(record, Chunk) or record.kind is _WS_CONTROL:
            if (record.type == WS_CLOSE and isinstance(record, Chunk)) or isinstance(
                record, WebSocketEnd
            ):
                closed = self._transport_closed(record)
                if closed is not None:
                    self._forget_silence(closed.sid)
                    return (closed,)
            elif isinstance(record, UnansweredRequest):
                cut = self._poll_cut(record)
                if cut is not None:
                    self._forget_silence(cut.sid)
                    return (cut,)
            elif isinstance(record, ReportedEnd):
                reported = self._reported_end(record)
                if reported is None:
                    return ()
                self._forget_silence(reported.sid)
                return (reported,)
            return (self._attributed(record),)
        try:
            if record.kind is _WS_TEXT:
                fast = self._fast_ws_text(record)
                if fast is not None:
                    return fast
            return self._feed(record)
        except Exception as exc:  # a bug must not stop the capture; report it as a record
            return [
                ErrorRecord(
                    **record_context(record),
                    layer=LAYER,
                    rule="engineio.internal",
                    reason=f"decoder failed: {type(exc).__name__}: {exc}",
                    raw=record.data[: self._limits.max_raw_kept],
                    plugin="ioproto_engineio",
                )
            ]

    def input_ended(self, ts: float) -> list[Record]:
        """The sessions still open whose client had sent nothing for longer than
        ``pingInterval + pingTimeout`` (and :data:`SILENCE_GRACE`) when an input of the run
        ended at ``ts`` (its last record's time; each input of a run is judged by its own,
        as another day's capture may follow): an :class:`EngineIOTransportClose` for each,
        at the time its server's wait ran out, in that order (then by sid). Their servers
        ended them (``ping timeout``) where no capture sees it: a polling client gone
        between two polls, a WebSocket whose close the capture missed. The others are
        forgotten: what the next input holds of them is another observation, and a reader
        process decodes each input with a fresh stream (:mod:`ioproto.worker`) anyway."""
        ended = self.time_passed(ts)
        self._silences.clear()
        self._silences_cost = 0
        return ended

    def time_passed(self, now: float) -> list[Record]:
        """As :meth:`input_ended`, while a live run goes on: the sessions whose client has
        been silent past its server's wait by the clock's ``now`` end."""
        silences = self._silences
        ended = sorted(
            (heard + wait, sid, now - heard, wait, connection, transport, revision)
            for sid, (wait, heard, connection, transport, revision) in silences.items()
            if now - heard > wait + SILENCE_GRACE
        )
        for _, sid, *_ in ended:
            self._forget_silence(sid)
        return [
            EngineIOTransportClose(
                ts=deadline,
                connection=connection,
                sid=sid,
                transport=transport,
                revision=revision,
                raw=b"",
                message=f"{CLIENT_SILENT}{silence:.1f} s, past pingInterval + pingTimeout "
                f"({wait:g} s)",
            )
            for deadline, sid, silence, wait, connection, transport, revision in ended
        ]

    def close(self) -> Iterable[Record]:
        """Nothing is pending between chunks; forget the session maps."""
        self._sids.clear()
        self._sids_cost = 0
        self._closed_sids.clear()
        self._silences.clear()
        self._silences_cost = 0
        return ()

    # -- the client's signs of life ------------------------------------------------------------

    def _expect(self, handshake: EngineIOHandshake) -> None:
        """Start waiting for the client of the session ``handshake`` opened (when it says
        how long its server waits)."""
        sid = handshake.sid
        interval, timeout = handshake.ping_interval, handshake.ping_timeout
        if sid is None or interval is None or timeout is None or sid in self._silences:
            return
        if not (0 <= interval <= _LONGEST_TIMER_MS and 0 <= timeout <= _LONGEST_TIMER_MS):
            return  # no server waits so (and 10**400 ms is no float): no verdict
        cost = _silence_cost(sid)
        silences = self._silences
        while silences and self._silences_cost + cost > self._limits.max_state_bytes:
            oldest = next(iter(silences))
            del silences[oldest]
            self._silences_cost -= _silence_cost(oldest)
        wait = (interval + timeout) / 1000
        silences[sid] = [
            wait,
            handshake.ts,
            handshake.connection,
            handshake.transport,
            handshake.revision,
        ]
        self._silences_cost += cost

    def _forget_silence(self, sid: str | None) -> None:
        """The session ``sid`` ended: its client's silence says nothing more."""
        if sid is not None and self._silences.pop(sid, None) is not None:
            self._silences_cost -= _silence_cost(sid)

    # -- per chunk -------------------------------------------------------------------------------

    def _known_sid(self, connection: str | None) -> str | None:
        known = self._sids.get(connection) if connection is not None else None
        return known[0] if known is not None else None

    def _facts(self, record: Record) -> tuple[str | None, int | None, str | None]:
        """``(sid, revision, transport)`` from the URL of ``record.http`` (cached: every
        message of a WebSocket shares one :class:`HttpInfo`). A sid in a URL is remembered
        for the record's connection."""
        http: HttpInfo | None = getattr(record, "http", None)
        if http is None:
            return _NO_FACTS
        if http is self._facts_of:
            return self._last_facts
        sid = transport = None
        revision: int | None = None
        seen_revision = False
        for name, value in http.query:
            if name == "sid" and sid is None:
                sid = value
            elif name == "EIO" and not seen_revision:
                seen_revision = True
                digits = value.isascii() and value.isdigit()  # not "²", which int() refuses
                revision = int(value) if digits and len(value) < 6 else None
            elif name == "transport" and transport is None:
                transport = value
        self._facts_of = http
        self._last_facts = (sid, revision, transport)
        if sid is not None and isinstance(record, Chunk):
            self._learn(record.connection, sid, transport or _TRANSPORTS.get(record.kind))
        return self._last_facts

    def _revision(self, stated: int | None) -> int:
        if self._forced or stated is None:
            revision = self._option_revision
            if revision is None:
                revision = stated if stated is not None else 4
        else:
            revision = stated
        return _normalise_revision(revision)

    def _fast_ws_text(self, chunk: Chunk) -> list[Record] | None:
        """The commonest message, one non-open packet in a text frame, decoded without the
        general path's per-chunk state; ``None`` sends it there. Gives exactly what the
        general path gives (tests/engineio/test_eio_wire.py)."""
        data = chunk.data
        if len(data) > self._limits.max_payload:
            return None
        sid, revision, transport = self._facts(chunk)
        if self._forced or revision not in _REVISIONS:
            revision = self._revision(revision)
        parsed = fastwire.fast_packet(data, revision != 4)
        if parsed is None or parsed[0] == "open":
            return None
        if sid is None:
            sid = self._known_sid(chunk.connection)
        kind, value = parsed
        if sid is not None and chunk.direction == "c2s":
            heard = self._silences.get(sid)
            if heard is not None:  # a sign of life (items, not a slice: the hot path)
                heard[1] = chunk.ts
                heard[2] = chunk.connection
                heard[3] = transport or "websocket"
        if kind == "upgrade":
            self._carries(chunk.connection)
        elif kind == "close" and sid is not None:
            self._closed_sids.add(sid)
            self._forget_silence(sid)
        binary = type(value) is bytes
        return [
            _make_packet(
                chunk.ts,
                chunk.connection,
                chunk.direction,
                transport or "websocket",
                chunk,
                revision,
                (),
                sid,
                kind,
                value,
                data,
                0,
                binary,
            )
        ]

    def _feed(self, chunk: Chunk) -> list[Record]:
        sid, revision, transport = self._facts(chunk)
        if sid is None:
            sid = self._known_sid(chunk.connection)
        out = _Out(chunk, self._revision(revision), sid, transport)
        data = chunk.data
        if len(data) > self._limits.max_payload:
            self._error(
                out,
                "engineio.payload.too-large",
                f"{len(data)} bytes is more than the limit of {self._limits.max_payload}",
                data,
                offset=0,
            )
            return out.records
        handler = self._handlers.get(chunk.kind)
        if handler is not None:
            handler(out, data)
        records = out.records
        for record in records:
            kind = record.type
            if kind == "close":
                if record.sid is not None:
                    self._closed_sids.add(record.sid)
                    self._forget_silence(record.sid)
            elif kind == "open" and isinstance(record, EngineIOHandshake):
                self._expect(record)
        if records and chunk.direction == "c2s":
            # one chunk, one sign of life: its records share its time and connection
            last = records[-1]
            heard = self._silences.get(last.sid) if last.sid is not None else None
            if heard is not None:
                heard[1] = last.ts
                heard[2] = last.connection
                heard[3] = last.transport
        return out.records

    def _learn(
        self, connection: str | None, sid: str, transport: str | None, carries: bool = False
    ) -> None:
        """Remember that ``connection`` carries session ``sid`` over ``transport`` (and, with
        ``carries``, that its WebSocket is the session's transport; learning the same sid
        again keeps what was known of that)."""
        if connection is None:
            return
        sids = self._sids
        known = sids.pop(connection, None)
        if known is not None:
            self._sids_cost -= _learned_cost(connection, known[0])
            carries = carries or (known[2] and known[0] == sid)
        limits = self._limits
        cost = _learned_cost(connection, sid)
        while sids and self._sids_cost + cost > limits.max_state_bytes:
            oldest = next(iter(sids))
            self._sids_cost -= _learned_cost(oldest, sids.pop(oldest)[0])
        sids[connection] = (sid, transport, carries)
        self._sids_cost += cost

    def _carries(self, connection: str | None) -> None:
        """The WebSocket of ``connection`` is now its session's transport (an ``upgrade``
        packet came on it)."""
        if connection is None:
            return
        known = self._sids.get(connection)
        if known is not None and not known[2]:
            self._sids[connection] = (known[0], known[1], True)

    def _transport_closed(self, chunk: Chunk | WebSocketEnd) -> EngineIOTransportClose | None:
        """The record saying that ``chunk``, a close frame, or the end of its WebSocket
        without one (:class:`WebSocketEnd`), closed its session's WebSocket; ``None`` when
        its WebSocket is not (or no longer) its session's transport."""
        connection = chunk.connection
        if connection is None:
            return None
        known = self._sids.get(connection)
        if known is None or not known[2]:
            return None
        sid, transport, _ = known
        self._sids[connection] = (sid, transport, False)
        if sid in self._closed_sids:
            return None
        code: int | None
        message: str | None
        if isinstance(chunk, WebSocketEnd):
            code, message, raw = chunk.code, chunk.reason, b""
            if code == ABNORMAL_CLOSURE:  # the bytes showed that no close frame came
                message = f"no close frame: {message}"
        else:
            code, message = close_status(chunk.data)
            raw = chunk.data[: self._limits.max_raw_kept]
        _, revision, _ = self._facts(chunk)
        return EngineIOTransportClose(
            ts=chunk.ts,
            connection=connection,
            direction=chunk.direction,
            sid=sid,
            transport="websocket",
            parent=chunk,
            revision=self._revision(revision),
            raw=raw,
            code=code,
            message=message,
        )

    def _poll_cut(self, request: UnansweredRequest) -> EngineIOTransportClose | None:
        """The record saying that ``request``, a polling request of a session left without
        its answer by its connection's end, closed its session's transport (as Engine.IO
        servers decide: "poll connection closed prematurely"); ``None`` for a request that
        names no session or is not a poll."""
        sid, revision, transport = self._facts(request)
        if sid is None or transport != "polling" or sid in self._closed_sids:
            return None
        method = request.http.method if request.http is not None else None
        what = {"GET": "a poll", "POST": "a POST of packets"}.get(method or "", "a request")
        return EngineIOTransportClose(
            ts=request.ts,
            connection=request.connection,
            direction=request.direction,
            sid=sid,
            transport="polling",
            parent=request,
            revision=self._revision(revision),
            raw=b"",
            code=None,
            message=f"{what} left unanswered: {request.reason}",
        )

    def _reported_end(self, report: ReportedEnd) -> EngineIOTransportClose | None:
        """The record saying that the session ``report`` names, which its server said it
        ended for one of :data:`_TRANSPORT_ENDS`, lost its transport: code unknown (no close
        frame was seen), the message the server's words; ``None`` for another reason or a
        session a ``close`` packet ended. A fact for this layer, passed on as nothing else."""
        sid, revision, transport = self._facts(report)
        if sid is None or report.reason not in _TRANSPORT_ENDS or sid in self._closed_sids:
            return None
        self._closed_sids.add(sid)  # a server ends a session once: a second report is stale
        return EngineIOTransportClose(
            ts=report.ts,
            connection=report.connection,
            direction=report.direction,
            sid=sid,
            transport=transport,
            parent=report,
            revision=self._revision(revision),
            raw=b"",
            code=None,
            message=f"{SERVER_REPORTED}{report.reason}",
        )

    def _attributed(self, record: Record) -> Record:
        """``record`` with the session and transport of its connection, when known."""
        if record.sid is not None or record.connection is None:
            return record
        parent = record.parent
        about = parent if isinstance(record, ErrorRecord) and isinstance(parent, Chunk) else record
        sid, _, transport = self._facts(about)
        known = self._sids.get(record.connection)
        if sid is None and known is not None:
            sid, transport = sid or known[0], transport or known[1]
        if sid is None:
            return record
        if transport is None and isinstance(about, Chunk):
            transport = _TRANSPORTS.get(about.kind)
        return attrs.evolve(record, sid=sid, transport=transport)

    # -- chunk kinds ---------------------------------------------------------------------------

    def _ws_text(self, out: _Out, data: bytes) -> None:
        self._packet(out, data, 0, 0)

    def _binary(self, out: _Out, data: bytes) -> None:
        if not out.legacy:
            self._emit(out, "message", data, data, 0, True)
            return
        if not data:
            self._error(out, "engineio.binary.empty", "empty v3 binary message", data, offset=0)
            return
        kind = data[0]
        if kind != 4:
            name = _TYPES[kind] if kind < len(_TYPES) else f"unknown type byte {kind}"
            self._error(
                out,
                "engineio.binary.bad-type",
                f"v3 binary message with type {name}; only message (4) may be binary",
                data,
                offset=0,
            )
            return
        self._emit(out, "message", data[1:], data, 0, True)

    def _line(self, out: _Out, data: bytes) -> None:
        if data.startswith(_JSONP_PREFIX):
            self._jsonp_response(out, data)
        elif data.startswith(b"d="):
            self._jsonp_post(out, data)
        elif not out.legacy:
            self._payload_v4(out, data)
        elif _V3_TEXT_PAYLOAD_START.match(data):
            self._payload_v3_text(out, data)
        else:
            self._packet(out, data, 0, 0)

    def _http_request(self, out: _Out, data: bytes) -> None:
        http = out.chunk.http
        if not data or (http is not None and http.method == "OPTIONS"):
            return
        if data.startswith(b"d=") or (http is not None and http.query_value("j") is not None):
            self._jsonp_post(out, data)
            return
        self._polling_body(out, data)

    def _http_response(self, out: _Out, data: bytes) -> None:
        http = out.chunk.http
        if http is not None:
            if http.method == "OPTIONS":
                return
            status = http.status
            if status is not None:
                if status >= 400:
                    self._http_error(out, status, data)
                    return
                if status < 200 or 300 <= status < 400:
                    return  # 101 switching protocols, redirects: no Engine.IO payload
        if not data or data in _POST_ACKS:
            return
        body = self._decompressed(out, data)
        if body is None:
            return
        data = body
        asked = http is not None and http.query_value("j") is not None
        # Unless the request asked for JSONP (`j=`), a body that only starts like the
        # wrapper (a damaged first packet) is read as a payload: its other packets stay.
        if (asked or data.startswith(_JSONP_PREFIX)) and self._jsonp_response(
            out, data, sniffed=not asked
        ):
            return
        self._polling_body(out, data)

    def _polling_body(self, out: _Out, data: bytes) -> None:
        if not out.legacy:
            self._payload_v4(out, data)
            return
        http = out.chunk.http
        content_type = http.header("content-type") if http is not None else None
        if (
            content_type is not None
            and content_type.split(";", 1)[0].strip().lower() == "application/octet-stream"
        ) or data[0] <= 1:
            self._payload_v3_binary(out, data)
        else:
            self._payload_v3_text(out, data)

    def _decompressed(self, out: _Out, data: bytes) -> bytes | None:
        """The body, inflated if it is still gzip/zlib compressed (T19); ``None`` on error."""
        http = out.chunk.http
        if http is None or len(data) < 2:
            return data
        gzip = data[:2] == b"\x1f\x8b"
        zlib_wrapped = data[0] == 0x78 and int.from_bytes(data[:2], "big") % 31 == 0
        if not (gzip or zlib_wrapped):
            return data
        encoding = (http.header("content-encoding") or "").lower()
        if "gzip" not in encoding and "deflate" not in encoding:
            return data
        limit = self._limits.max_payload
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        try:
            body = inflater.decompress(data, limit + 1)
        except zlib.error as exc:
            self._error(out, "engineio.http.bad-compression", f"cannot inflate: {exc}", data)
            return None
        if len(body) > limit:
            self._error(
                out,
                "engineio.payload.too-large",
                f"inflated body is more than the limit of {limit} bytes",
                data,
            )
            return None
        if not inflater.eof:
            self._error(out, "engineio.http.bad-compression", "compressed body is truncated", data)
            return None
        return body

    def _http_error(self, out: _Out, status: int, data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        code: int | None = None
        message: str | None = None
        try:
            value = strict_json(text) if len(text) <= 65536 else None
        except (ValueError, RecursionError):
            value = None
            stripped = text.strip()
            if stripped and len(stripped) <= _MAX_ERROR_BODY_TEXT:
                message = stripped
        if isinstance(value, dict):
            raw_code = value.get("code")
            if isinstance(raw_code, int) and not isinstance(raw_code, bool):
                code = raw_code
            raw_message = value.get("message")
            if isinstance(raw_message, str):
                message = raw_message
        elif isinstance(value, str):
            message = value
        out.records.append(
            EngineIOHttpError(
                **out.base(),
                revision=out.revision,
                data=text,
                raw=data[: self._limits.max_raw_kept],
                status=status,
                code=code,
                message=message,
            )
        )

    # -- payloads ----------------------------------------------------------------------------

    def _payload_v4(self, out: _Out, data: bytes) -> None:
        pieces = data.split(fastwire.SEPARATOR)
        limit = self._limits.max_packets_per_payload
        kept = pieces if len(pieces) <= limit else pieces[:limit]
        head = out.head
        sid = out.sid
        append = out.records.append
        make = _make_packet
        fast = fastwire.fast_packet
        # Byte offsets are only needed for the slow path: advance them lazily (amortised O(n)).
        known_index = 0
        known_offset = 0
        for index, piece in enumerate(kept):
            parsed = fast(piece, False)
            if parsed is not None and parsed[0] != "open":
                value = parsed[1]
                append(make(*head, sid, parsed[0], value, piece, index, type(value) is bytes))
                continue
            while known_index < index:
                known_offset += len(pieces[known_index]) + 1
                known_index += 1
            self._packet(out, piece, known_offset, index)
            head = out.head
            sid = out.sid
        if len(pieces) > limit:
            while known_index < limit:
                known_offset += len(pieces[known_index]) + 1
                known_index += 1
            self._too_many(out, data[known_offset:], known_offset, limit)

    def _payload_v3_text(self, out: _Out, data: bytes) -> None:
        # Linear in the payload: the astral characters are found once (utf16_end then
        # looks only at its own packet's), and byte offsets are counted forward.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            # Keep framing; only the packets holding the bad bytes become errors.
            text = data.decode("utf-8", "surrogateescape")
        ascii_only = text.isascii()
        astral = fastwire.astral_positions(text)
        offsets = _ByteOffsets(text, ascii_only)
        limit = self._limits.max_packets_per_payload
        length = len(text)
        position = 0
        index = 0
        while position < length:
            match = _V3_LENGTH.match(text, position)
            end = -1
            if match is not None:
                start = match.end()
                end = fastwire.utf16_end(text, start, int(match.group(1)), astral)
            if end < 0:
                resume = self._resync(text, position + 1, astral)
                bad = text[position:resume]
                self._error(
                    out,
                    "engineio.payload.bad-length",
                    "expected <length>:<packet> with the length in UTF-16 units"
                    if match is None
                    else f"length {match.group(1)} runs past the end of the payload",
                    bad.encode("utf-8", "surrogateescape"),
                    offset=offsets.at(position),
                    index=index,
                )
                index += 1
                position = resume
                continue
            if end > start:
                if index >= limit:
                    self._too_many(
                        out,
                        text[position:].encode("utf-8", "surrogateescape"),
                        offsets.at(position),
                        index,
                    )
                    return
                if ascii_only:
                    self._packet(out, data[start:end], start, index)
                else:
                    packet = text[start:end]
                    # Re-encoding restores any undecodable bytes, so _packet reports them.
                    raw = packet.encode("utf-8", "surrogateescape")
                    self._packet(out, raw, offsets.at(start), index)
                index += 1
            position = end

    def _resync(self, text: str, start: int, astral: list[int]) -> int:
        """The next position from ``start`` where ``<len>:`` framing parses consistently.

        Consistent: the next few records frame exactly, or the framing reaches the end of the
        text. Returns ``len(text)`` when no such position exists (a bounded search).
        """
        for tried, match in enumerate(_V3_LENGTH.finditer(text, start)):
            if tried >= _MAX_RESYNC_CANDIDATES:
                break
            candidate = match.start()
            if _frames(text, candidate, astral):
                return candidate
        return len(text)

    def _payload_v3_binary(self, out: _Out, data: bytes) -> None:
        limit = self._limits.max_packets_per_payload
        position = 0
        index = 0
        length = len(data)
        while position < length:
            kind = data[position]
            if kind > 1:
                self._error(
                    out,
                    "engineio.xhr2.bad-kind",
                    f"XHR2 record starts with {kind:#04x}, not 0x00 (string) or 0x01 (binary)",
                    data[position:],
                    offset=position,
                    index=index,
                )
                return
            terminator = data.find(b"\xff", position + 1, position + 2 + fastwire.MAX_XHR2_DIGITS)
            digits = data[position + 1 : terminator]
            if terminator < 0 or not digits or max(digits) > 9:
                self._error(
                    out,
                    "engineio.xhr2.bad-length",
                    "XHR2 length must be digit bytes 0x00-0x09 ended by 0xFF",
                    data[position:],
                    offset=position,
                    index=index,
                )
                return
            size = int(bytes(digit + _DIGIT_0 for digit in digits))
            start = terminator + 1
            end = start + size
            if end > length:
                self._error(
                    out,
                    "engineio.xhr2.bad-length",
                    f"XHR2 length {size} runs past the end of the payload",
                    data[position:],
                    offset=position,
                    index=index,
                )
                return
            if index >= limit:
                self._too_many(out, data[position:], position, index)
                return
            record = data[start:end]
            if kind == 0:
                if record:
                    self._packet(out, record, start, index)
                else:
                    self._error(out, "engineio.packet.empty", "empty packet", record, start, index)
            elif not record:
                self._error(
                    out, "engineio.binary.empty", "empty binary record", record, start, index
                )
            elif record[0] != 4:
                self._error(
                    out,
                    "engineio.binary.bad-type",
                    f"binary record with type byte {record[0]}; only message (4) may be binary",
                    record,
                    start,
                    index,
                )
            else:
                self._emit(out, "message", record[1:], record, index, True)
            index += 1
            position = end

    def _jsonp_response(self, out: _Out, data: bytes, *, sniffed: bool = False) -> bool:
        """Decode a ``___eio[N]("...");`` body; false, with nothing added to ``out``, when
        it is not one and JSONP was only ``sniffed`` from its start (not asked for), so
        that the caller reads it otherwise."""
        wire, parse, ConstructError = _declarations()
        try:
            payload = parse(wire.jsonp_response, data).payload
        except ConstructError:
            payload = _python_jsonp(data)
            if payload is None:
                if sniffed:
                    return False
                self._error(
                    out,
                    "engineio.jsonp.bad-wrapper",
                    'expected ___eio[N]("<JS string>");',
                    data,
                    offset=0,
                )
                return True
            out.add_note("jsonp.python-escaping")
        self._text_payload(out, payload)
        return True

    def _jsonp_post(self, out: _Out, data: bytes) -> None:
        wire, parse, ConstructError = _declarations()
        try:
            payload = parse(wire.jsonp_post, data)
        except ConstructError as exc:
            self._error(out, "engineio.jsonp.bad-form", f"JSONP POST body: {exc}", data, 0)
            return
        self._text_payload(out, payload)

    def _text_payload(self, out: _Out, payload: str) -> None:
        """A payload that arrived as text (JSONP): frame it by revision, never XHR2."""
        body = payload.encode("utf-8", "surrogatepass")
        if not body:
            self._error(out, "engineio.payload.empty", "empty payload", body, 0)
        elif out.legacy:
            self._payload_v3_text(out, body)
        else:
            self._payload_v4(out, body)

    # -- single packets -------------------------------------------------------------------------

    def _packet(self, out: _Out, raw: bytes, offset: int, index: int) -> None:
        """Decode one text-form packet: the fast path for the common forms, else the
        construct declaration, whose refusals become error records with their rules."""
        parsed = fastwire.fast_packet(raw, out.legacy)
        if parsed is None:
            wire, parse, ConstructError = _declarations()
            try:
                packet = parse(wire.packet_v3 if out.legacy else wire.packet_v4, raw)
            except ConstructError as exc:
                rule = getattr(exc, "rule", "engineio.packet.invalid")
                reason = getattr(exc, "reason", None) or f"not an Engine.IO packet: {exc}"
                self._error(out, rule, reason, raw, offset, index)
                return
            parsed = (packet.type, packet.data)
        kind, data = parsed
        if isinstance(data, bytes):
            if kind != "message":
                reason = f"binary {kind} packet; only message may be binary"
                self._error(out, "engineio.binary.bad-type", reason, raw, offset, index)
                return
            self._emit(out, kind, data, raw, index, True)
        elif kind == "open":
            self._handshake(out, data, raw, index)
        else:
            self._emit(out, kind, data, raw, index, False)

    def _handshake(self, out: _Out, text: str, raw: bytes, index: int) -> None:
        reason = None
        value: Any = None
        try:
            value = strict_json(text)
        except (ValueError, RecursionError) as exc:
            reason = f"handshake is not valid JSON: {exc}"
        if reason is None:
            if not isinstance(value, dict):
                reason = "handshake JSON is not an object"
            elif not isinstance(value.get("sid"), str) or not value["sid"]:
                reason = "handshake has no sid string"
        if reason is not None:
            self._error(out, "engineio.handshake.invalid", reason, raw, None, index)
            return
        notes: list[str] = []
        upgrades_value = value.get("upgrades", [])
        if isinstance(upgrades_value, list) and all(isinstance(u, str) for u in upgrades_value):
            upgrades = tuple(upgrades_value)
        else:
            upgrades = (
                tuple(u for u in upgrades_value if isinstance(u, str))
                if isinstance(upgrades_value, list)
                else ()
            )
            notes.append("handshake.bad-upgrades")
        sid: str = value["sid"]
        out.sid = sid
        self._learn(out.chunk.connection, sid, out.head[3], out.chunk.kind in _WS_MESSAGES)
        ping_interval = _milliseconds(value, "pingInterval", notes)
        ping_timeout = _milliseconds(value, "pingTimeout", notes)
        max_payload = _milliseconds(value, "maxPayload", notes)
        out.records.append(
            EngineIOHandshake(
                **out.base(),
                revision=out.revision,
                data=text,
                raw=raw,
                index=index,
                notes=out.notes + tuple(notes),
                upgrades=upgrades,
                ping_interval=ping_interval,
                ping_timeout=ping_timeout,
                max_payload=max_payload,
            )
        )

    # -- record making -------------------------------------------------------------------------

    def _emit(
        self, out: _Out, kind: str, data: str | bytes, raw: bytes, index: int, binary: bool
    ) -> None:
        out.records.append(_make_packet(*out.head, out.sid, kind, data, raw, index, binary))

    def _error(
        self,
        out: _Out,
        rule: str,
        reason: str,
        raw: bytes,
        offset: int | None = None,
        index: int | None = None,
    ) -> None:
        out.records.append(
            ErrorRecord(
                **out.base(),
                layer=LAYER,
                rule=rule,
                reason=reason,
                raw=raw[: self._limits.max_raw_kept],
                offset=offset,
                index=index,
            )
        )

    def _too_many(self, out: _Out, rest: bytes, offset: int, index: int) -> None:
        limit = self._limits.max_packets_per_payload
        self._error(
            out,
            "engineio.payload.too-many-packets",
            f"more than {limit} packets in one payload; the rest is not decoded",
            rest,
            offset,
            index,
        )


# -- helpers ------------------------------------------------------------------------------------


class _ByteOffsets:
    """UTF-8 byte offsets of character positions of ``text``, asked in increasing order.

    Each call encodes only the characters since the previous one, so a payload's offsets
    cost one pass over it (encoding each prefix anew was quadratic).
    """

    __slots__ = ("_byte", "_char", "_plain", "_text")

    def __init__(self, text: str, ascii_only: bool) -> None:
        self._text = text
        self._plain = ascii_only
        self._char = 0
        self._byte = 0

    def at(self, position: int) -> int:
        if self._plain:
            return position
        if position < self._char:  # not expected; correct, if slower
            return len(self._text[:position].encode("utf-8", "surrogateescape"))
        self._byte += len(self._text[self._char : position].encode("utf-8", "surrogateescape"))
        self._char = position
        return self._byte


def _frames(text: str, position: int, astral: list[int]) -> bool:
    """Whether ``<len>:`` framing from ``position`` holds for a few records or to the end."""
    for _ in range(_RESYNC_LOOKAHEAD):
        if position == len(text):
            return True
        match = _V3_LENGTH.match(text, position)
        if match is None:
            return False
        start = match.end()
        end = fastwire.utf16_end(text, start, int(match.group(1)), astral)
        if end < 0 or not (
            end == start or _DIGIT_0 <= ord(text[start]) <= _DIGIT_6 or text[start] == "b"
        ):
            return False
        position = end
    return True


_PYTHON_JSONP = re.compile(rb'___eio\[([0-9]{1,20})\]\("(?s:(.*))"\);?')


def _python_jsonp(data: bytes) -> str | None:
    """python-engineio's JSONP, which escapes only ``"``; ``None`` if not that either."""
    match = _PYTHON_JSONP.fullmatch(data)
    if match is None:
        return None
    try:
        return match.group(2).decode("utf-8").replace('\\"', '"')
    except UnicodeDecodeError:
        return None


def _milliseconds(value: dict[str, Any], key: str, notes: list[str]) -> int | None:
    number = value.get(key)
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int | float):
        notes.append(f"handshake.bad-{key}")
        return None
    if isinstance(number, float):
        if not number.is_integer():
            notes.append(f"handshake.bad-{key}")
            return None
        return int(number)
    return number
