"""Classifier ``latency``: handshake time, heartbeat and ack round-trips, missed pongs.

Tags:

* ``latency.handshake`` on the Engine.IO handshake: seconds from its HTTP request (the
  polling ``GET`` or the WebSocket upgrade request) to the handshake.
* ``latency.heartbeat`` on a ``pong``: seconds since the session's pending ``ping``.
  Pings and pongs are paired per session, not per connection (on polling they travel in
  different HTTP requests), and in opposite directions, which covers revision 3 (the client
  pings) and revision 4 (the server pings). ``2probe``/``3probe`` are not heartbeats.
* ``latency.ack`` on a Socket.IO ``ACK`` whose EVENT was seen: seconds from the EVENT.
* ``latency.ping_unanswered`` on an Engine.IO ``close``: seconds the session's last ping had
  waited without a pong.

At the end of the input a :class:`~ioproto_classify.records.HeartbeatTimeout` record is
emitted for every session still waiting for a pong (and one for each closed session that was).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from ioproto_engineio.records import EngineIOHandshake, EngineIOPacket, EngineIOTransportClose
from ioproto_socketio.records import SocketIOPacket

from ioproto.components import DecodeContext
from ioproto.model import Record, Tag, make_tag
from ioproto.sessions import INPUT_ENDED, Session, SessionEnd, SessionStore, session_key

from .common import PerSession, find_chunk
from .records import HeartbeatTimeout


@attrs.define(slots=True)
class _Session:
    ping: Record | None = None
    ping_timeout: float | None = None
    last: Record | None = None


#: Estimated bytes of what this classifier keeps per session (a _Session).
_COST = 200
_NAME = "latency"


class LatencyState:
    def __init__(self, sessions: SessionStore | None, max_kept: int) -> None:
        self._sessions: PerSession[_Session] = PerSession(sessions, _NAME, _Session, _COST)
        self._timeouts: list[HeartbeatTimeout] = []
        # pings still waiting when the input ended: reported at close(), after the others
        self._pending: list[tuple[Record, float | None]] = []
        self._max_kept = max_kept
        self._last_ts = 0.0

    def classify(self, record: Record) -> Record:
        added = self.tags(record)
        return record.with_tags(added) if added else record

    def tags(self, record: Record) -> tuple[Tag, ...]:
        """The tags this classifier adds to ``record`` (the pipeline adds them in one go)."""
        # The last record's time is when "the input ended" for pings still pending.
        self._last_ts = record.ts
        if isinstance(record, SocketIOPacket):
            if record.type == "ACK" and record.answers is not None:
                rtt = record.ts - record.answers.ts
                return (make_tag("latency.ack", rtt),)
            return ()
        if not isinstance(record, EngineIOPacket):
            if type(record) is EngineIOTransportClose:
                return self._closed(record)
            return ()
        kind = record.type
        if kind == "message":
            return ()
        key = session_key(record)
        if key is None:
            return ()
        if isinstance(record, EngineIOHandshake):
            return self._handshake(key, record)
        if kind == "ping" and record.data != "probe":
            session = self._sessions.of(key, record.ts)
            session.ping = record
            return ()
        if kind == "pong" and record.data != "probe":
            waiting = self._sessions.get(key)
            if waiting is None or waiting.ping is None:
                return ()
            ping = waiting.ping
            if record.direction is not None and record.direction == ping.direction:
                return ()
            waiting.ping = None
            return (Tag("latency.heartbeat", record.ts - ping.ts),)
        if kind == "close":
            return self._closed(record)
        return ()

    def _closed(self, record: Record) -> tuple[Tag, ...]:
        """A record that closes its session (an Engine.IO ``close``, its WebSocket closing):
        a ping still waiting is unanswered, kept as a heartbeat timeout ("session closed")
        and tagged on the record."""
        key = session_key(record)
        closed = self._sessions.get(key) if key is not None else None
        if closed is None or closed.ping is None:
            return ()
        ping, closed.ping = closed.ping, None
        self._keep(ping, closed.ping_timeout, record.ts, "session closed")
        return (Tag("latency.ping_unanswered", record.ts - ping.ts),)

    def session_ended(self, session: Session, end: SessionEnd) -> Iterable[Record]:
        """A session still waiting for a pong when the input ended is reported at close()."""
        state: _Session | None = session.state.get(_NAME)
        if state is not None and state.ping is not None and end.reason == INPUT_ENDED:
            self._pending.append((state.ping, state.ping_timeout))
        return ()

    def _handshake(self, key: str, record: EngineIOHandshake) -> tuple[Tag, ...]:
        session = self._sessions.of(key, record.ts)
        if record.ping_timeout is not None:
            session.ping_timeout = record.ping_timeout / 1000
        chunk = find_chunk(record)
        if chunk is None or chunk.http is None or chunk.http.request_ts is None:
            return ()
        return (Tag("latency.handshake", record.ts - chunk.http.request_ts),)

    def _keep(self, ping: Record, ping_timeout: float | None, now: float, reason: str) -> None:
        if len(self._timeouts) >= self._max_kept:
            return
        waited = now - ping.ts
        if ping_timeout is not None:
            timed_out = waited >= ping_timeout
        else:
            timed_out = reason == "session closed"
        self._timeouts.append(
            HeartbeatTimeout(
                ts=now,
                connection=ping.connection,
                direction=ping.direction,
                sid=ping.sid,
                transport=ping.transport,
                ping_ts=ping.ts,
                waited=waited,
                ping_timeout=ping_timeout,
                timed_out=timed_out,
                reason=reason,
            )
        )

    def input_ended_at(self, ts: float) -> None:
        """The last record's time in the whole run (a sharded worker sees only its share)."""
        self._last_ts = ts

    def close(self) -> Iterable[Record]:
        pending, self._pending = self._pending, []
        end = max((ping.ts for ping, _ in pending if ping), default=self._last_ts)
        end = max(end, self._last_ts)
        for ping, ping_timeout in pending:
            if ping is not None:
                self._keep(ping, ping_timeout, end, "input ended")
        timeouts, self._timeouts = self._timeouts, []
        return timeouts


class LatencyClassifier:
    name = "latency"
    description = (
        "tags latency.handshake, latency.heartbeat (ping→pong), latency.ack (EVENT→ACK); "
        "emits heartbeat-timeout records"
    )
    types: tuple[str, ...] = ("heartbeat-timeout",)

    def open(self, context: DecodeContext) -> LatencyState:
        return LatencyState(context.sessions, context.limits.max_sessions)
