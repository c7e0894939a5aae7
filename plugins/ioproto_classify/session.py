"""Classifier ``session``: one :class:`~ioproto_classify.records.SessionSummary` per session.

It runs after the other classifiers and reads their tags (``transport.kind``,
``upgrade.*``, ``client.*``, ``latency.*``, ``error.kind``), so it does no parsing of its
own: O(1) work per record. A session ends when the layer that owns it says so (its Engine.IO
``close`` packet, ``end_reason="closed"``; its WebSocket closing, ``"transport closed"``) or
at the end of the input (``"input ended"``). A summary is emitted as its session ends, so a
live run shows it then; those the end of the input ended come when the pipeline closes, in
the order of their last record. At most ``Limits.max_sessions`` sessions are followed at
once (the oldest is then summarised early, ``end_reason="evicted"``) and at most that many
summaries of sessions the input's end ended are kept. A later record of an evicted session
starts a summary of its continuation (``resumed=True``: not a new session).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from ioproto_engineio.records import (
    EngineIOHandshake,
    EngineIOHttpError,
    EngineIOPacket,
    EngineIOTransportClose,
)
from ioproto_http.records import CONNECTION_ENDS, Chunk
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck

from ioproto.components import DecodeContext
from ioproto.model import ErrorRecord, Record
from ioproto.sessions import (
    DEFAULT_MAX_EVICTED_BYTES,
    INPUT_ENDED,
    Session,
    SessionEnd,
    SessionStore,
    session_key,
)

from .common import BoundedMap
from .records import LAYER, HeartbeatTimeout, SessionSummary


@attrs.define(slots=True)
class _Session:
    key: str
    sid: str | None
    connection: str | None
    first_ts: float
    last_ts: float
    end_reason: str = "input ended"
    revision: int | None = None
    handshake_seen: bool = False
    transports: list[str] = attrs.field(factory=list)
    upgraded: bool = False
    upgrade_time: float | None = None
    probed: bool = False
    client: dict[str, str] = attrs.field(factory=dict)
    handshake_time: float | None = None
    heartbeats: int = 0
    hb_sum: float = 0.0
    hb_min: float | None = None
    hb_max: float | None = None
    ping_unanswered: bool = False
    packets_c2s: int = 0
    packets_s2c: int = 0
    events_c2s: int = 0
    events_s2c: int = 0
    acks: int = 0
    ack_sum: float = 0.0
    ack_timed: int = 0
    unanswered_acks: int = 0
    errors: int = 0
    #: it continues a session the store evicted
    resumed: bool = False

    def summary(self) -> SessionSummary:
        return SessionSummary(
            ts=self.last_ts,
            connection=self.connection,
            sid=self.sid,
            transport=self.transports[-1] if self.transports else None,
            revision=self.revision,
            started=self.first_ts,
            duration=self.last_ts - self.first_ts,
            end_reason=self.end_reason,
            handshake_seen=self.handshake_seen,
            transports=tuple(self.transports),
            upgraded=self.upgraded,
            upgrade_time=self.upgrade_time,
            upgrade_failed=self.probed and not self.upgraded,
            client_kind=self.client.get("client.kind"),
            client_name=self.client.get("client.name"),
            client_version=self.client.get("client.version"),
            client_os=self.client.get("client.os"),
            client_device=self.client.get("client.device"),
            handshake_time=self.handshake_time,
            heartbeats=self.heartbeats,
            heartbeat_rtt_min=self.hb_min,
            heartbeat_rtt_mean=self.hb_sum / self.heartbeats if self.heartbeats else None,
            heartbeat_rtt_max=self.hb_max,
            ping_unanswered=self.ping_unanswered,
            packets_c2s=self.packets_c2s,
            packets_s2c=self.packets_s2c,
            events_c2s=self.events_c2s,
            events_s2c=self.events_s2c,
            acks=self.acks,
            ack_rtt_mean=self.ack_sum / self.ack_timed if self.ack_timed else None,
            unanswered_acks=self.unanswered_acks,
            errors=self.errors,
            resumed=self.resumed,
        )


_CLIENT_TAGS = ("client.kind", "client.name", "client.version", "client.os", "client.device")


#: Records that make no session of their own when no sid or known connection claims them.
_UNCLAIMED = (Chunk, ErrorRecord, EngineIOHttpError, *CONNECTION_ENDS)

#: Estimated bytes of a session's accumulator (a _Session, its lists and dict).
_COST = 1500
#: Estimated bytes of one connection's entry in the map of connections to their sid.
_CONNECTION_COST = 200
_NAME = "session"


class SessionState:
    #: close() sorts the summaries by time (then by the order the sessions ended): a
    #: sharded run (ioproto.shard) merges the workers' summaries the same way
    close_order = "time"

    def __init__(
        self,
        sessions: SessionStore | None,
        max_sessions: int,
        max_evicted_bytes: int = DEFAULT_MAX_EVICTED_BYTES,
    ) -> None:
        self._limit = max(1, max_sessions)
        #: open sessions' accumulators live in the session store; closed ones are kept a
        #: while for late records (a WebSocket's close frames after the Engine.IO close)
        self._store = sessions if sessions is not None else SessionStore(max_sessions=max_sessions)
        self._closed: BoundedMap[_Session] = BoundedMap(max_sessions)
        self._finished: list[_Session] = []
        #: as long as the store remembers evicted sessions: a sid-less record on the
        #: connection of an evicted session continues that session
        self._sid_of_connection: BoundedMap[str] = BoundedMap(
            max(max_sessions, max_evicted_bytes // _CONNECTION_COST)
        )

    def _key(self, record: Record) -> str | None:
        sid = record.sid
        connection = record.connection
        if sid is not None:
            # (setting the same value again changes nothing: the map keeps its order)
            if connection is not None and self._sid_of_connection.get(connection) != sid:
                self._sid_of_connection.set(connection, sid)
            return sid
        if connection is not None:
            known = self._sid_of_connection.get(connection)
            if known is not None:
                return known
        # Records no session claims (HTTP errors before a handshake, WebSocket control frames,
        # refused requests) do not make sessions of their own; lines input without any sid
        # is one session per input.
        if isinstance(record, _UNCLAIMED):
            return None
        return session_key(record)

    def classify(self, record: Record) -> Record:
        if record.layer == LAYER and not isinstance(record, HeartbeatTimeout):
            return record
        key = self._key(record)
        if key is None:
            return record
        holder = self._store.sessions.get(key)
        session = holder.state.get(_NAME) if holder is not None else None
        if session is None:
            session = self._closed.get(key) or self._start(key, record)
        self._update(session, record)
        return record

    def session_ended(self, holder: Session, end: SessionEnd) -> Iterable[Record]:
        """The session's summary is final: emitted now, as its session ends (an Engine.IO
        ``close``, its WebSocket closing, an eviction), or at ``close()`` for the sessions
        the end of the input ended, in the order of their last record."""
        session: _Session | None = holder.state.get(_NAME)
        if session is None:
            return ()
        if end.evicted:
            session.end_reason = "evicted"
            return (session.summary(),)
        # late records (the other side's close frame, heartbeat timeouts reported when
        # the input ended) are taken for this ended session, not a new one
        self._closed.set(session.key, session)
        if end.reason == INPUT_ENDED:
            self._finish(session)
            return ()
        session.end_reason = end.reason
        return (session.summary(),)

    def _start(self, key: str, record: Record) -> _Session:
        sid = record.sid
        if sid is None and record.connection is not None:  # the connection's sid, if known
            sid = self._sid_of_connection.get(record.connection)
        session = _Session(
            key=key,
            sid=sid,
            connection=record.connection,
            first_ts=record.ts,
            last_ts=record.ts,
        )
        holder = self._store.session(key, record.ts)
        session.resumed = holder.resumed
        holder.state[_NAME] = session
        holder.charge(_COST)
        return session

    def _finish(self, session: _Session) -> None:
        if len(self._finished) < self._limit:
            self._finished.append(session)

    def _update(self, session: _Session, record: Record) -> None:
        if isinstance(record, HeartbeatTimeout):
            session.ping_unanswered = True
            return
        if record.ts > session.last_ts:
            session.last_ts = record.ts
        if session.sid is None and record.sid is not None:
            session.sid = record.sid
        tags = record.tags
        kind = record.tag("transport.kind") if tags else None
        if kind is not None and kind not in session.transports:
            session.transports.append(kind)
        if isinstance(record, ErrorRecord):
            session.errors += 1
            return
        if isinstance(record, SocketIOPacket | EngineIOPacket):
            # Packets only: application records (layer "app") and WebSocket control frames
            # ride on packets already counted.
            if record.direction == "c2s":
                session.packets_c2s += 1
            elif record.direction == "s2c":
                session.packets_s2c += 1
        if isinstance(record, SocketIOPacket):
            self._socketio(session, record)
        elif isinstance(record, EngineIOPacket):
            self._engineio(session, record)
        elif isinstance(record, SocketIOUnansweredAck):
            session.unanswered_acks += 1
        elif isinstance(record, EngineIOTransportClose):
            if record.tag("latency.ping_unanswered") is not None:
                session.ping_unanswered = True
        elif record.tag("error.kind") is not None:
            session.errors += 1

    def _socketio(self, session: _Session, record: SocketIOPacket) -> None:
        kind = record.type
        if kind == "EVENT":
            if record.direction == "c2s":
                session.events_c2s += 1
            else:
                session.events_s2c += 1
        elif kind == "ACK":
            session.acks += 1
            rtt = record.tag("latency.ack")
            if isinstance(rtt, float | int):
                session.ack_sum += rtt
                session.ack_timed += 1
        elif kind in ("CONNECT_ERROR", "ERROR"):
            session.errors += 1

    def _engineio(self, session: _Session, record: EngineIOPacket) -> None:
        if record.revision is not None:
            session.revision = record.revision
        kind = record.type
        if isinstance(record, EngineIOHandshake):
            session.handshake_seen = True
            session.first_ts = min(session.first_ts, record.ts)
            handshake_time = record.tag("latency.handshake")
            if handshake_time is not None:
                session.handshake_time = handshake_time
        elif kind == "pong" and record.data != "probe":
            rtt = record.tag("latency.heartbeat")
            if isinstance(rtt, float | int):
                session.heartbeats += 1
                session.hb_sum += rtt
                session.hb_min = rtt if session.hb_min is None else min(session.hb_min, rtt)
                session.hb_max = rtt if session.hb_max is None else max(session.hb_max, rtt)
        elif kind == "upgrade":
            session.upgraded = True
            session.upgrade_time = record.tag("upgrade.time")
        elif kind == "ping" and record.data == "probe":
            session.probed = True
        elif kind == "close" and record.tag("latency.ping_unanswered") is not None:
            session.ping_unanswered = True
        if not record.tags:
            return
        if not session.client and record.tag("client.kind") is not None:
            for name in _CLIENT_TAGS:
                value = record.tag(name)
                if value is not None:
                    session.client[name] = value
        if record.tag("error.kind") is not None:
            session.errors += 1

    def close(self) -> Iterable[Record]:
        finished, self._finished = self._finished, []
        # In the order the sessions ended (each summary's time is its session's last record).
        return sorted((session.summary() for session in finished), key=lambda summary: summary.ts)


class SessionClassifier:
    name = "session"
    description = "emits one session summary record per Engine.IO session at the end"
    types: tuple[str, ...] = ("summary",)

    def open(self, context: DecodeContext) -> SessionState:
        limits = context.limits
        return SessionState(context.sessions, limits.max_sessions, limits.max_evicted_bytes)
