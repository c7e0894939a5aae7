"""Turning records into Prometheus metrics (prometheus-client objects on a private registry).

Every figure is counted from the records the sink is given, the way the ``stats`` sink
counts them, so the two agree on the same traffic (tests/live/test_prometheus.py checks it
against a real Prometheus server). docs/metrics.md lists the metrics.

A session counts in ``ioproto_sessions_open`` from its handshake until the first of: an
Engine.IO ``close``; a Socket.IO ``DISCONNECT`` that leaves it no connected namespace (how
a Socket.IO client usually leaves); ``pingInterval + pingTimeout`` of capture time without a
record of it (as its server would time it out: a client that closed its WebSocket or went
away); the end of the input. These are the dashboard's rules, in one place
(:mod:`ioproto_classify.liveness`). Idle
sessions are looked for as records arrive, at most once a second of capture time, least
recently active first. The records of a live source (:class:`LiveMetrics`) arrive as the
traffic happens, so capture time also passes between them, as real time does
(:mod:`ioproto.liveclock`): a scrape
looks for idle sessions too, and a wire gone quiet does not hold the gauge up.

Tables keyed by traffic are bounded: sessions followed (open sessions, their pingTimeout,
whether their client was counted, their connected namespaces, at most 32, how their
transport closed) at most ``max_sessions`` (least recently active forgotten first; a session
id is kept to 64 characters; about 440 bytes an entry with a 20-character id and one
namespace: 44 MB at the default 100,000), and label values by :class:`~.labels.LabelCap`.

``sessions_ended`` counts the pipeline's ends, not the gauge's: one per session summary (the
session store's end: an Engine.IO ``close``, its transport closing, an eviction, the end of
the input; not the summary of a continuation of an evicted session, ``resumed``: a session
ends once, and an eviction is its end), labelled as ``ioproto stats`` says it (its
:func:`transport_close_how`, imported from its public collector so that the words are one
copy). A session the gauge ended itself
(a ``DISCONNECT``, idle) counts when its summary comes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from ioproto_classify.liveness import DEFAULT_IDLE, connected_after, disconnected, idle_after
from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_engineio.records import (
    PACKET_LAYERS,
    PING_TIMEOUT,
    TRANSPORT_CLOSED,
    EngineIOHandshake,
    EngineIOHttpError,
    EngineIOPacket,
    EngineIOTransportClose,
)
from ioproto_http.records import Chunk
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck
from ioproto_stats.collector import (
    BROWSER_REPORTED,
    CLOSE_FRAME_CLIENT,
    CLOSE_FRAME_SERVER,
    EVICTED,
    NO_CLOSE_FRAME,
    POLL_CUT_OFF,
    SERVER_REPORTED_HOW,
    transport_close_how,
)
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric

from ioproto.liveclock import LiveClock
from ioproto.model import ErrorRecord, Record
from ioproto.sessions import INPUT_ENDED

from .labels import LabelCap

PREFIX = "ioproto"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_TRANSPORTS = {"polling": "polling-xhr"}
_MAX_SID = 64
#: Seconds of capture time between two looks for idle sessions.
_EXPIRE_EVERY = 1.0
#: How a transport closed when its session's ``transport-close`` was not seen (filtered out,
#: or the session forgotten by the bounded table), as ``ioproto stats`` says it.
UNKNOWN_HOW = "unknown"
#: The ``direction`` label of a record whose input does not say (lines without ``>``/``<``).
UNKNOWN_DIRECTION = "unknown"
#: The ``(reason, how)`` series of ``sessions_ended``, there at 0 from the start (so that a
#: rate of abnormal ends is 0, not absent): a summary's ``end_reason`` (the pipeline's words,
#: not the wire's) and, for ``transport closed``, how (``ioproto stats``' words).
ENDS = (
    ("closed", ""),
    *((TRANSPORT_CLOSED, how) for how in (
        CLOSE_FRAME_CLIENT, CLOSE_FRAME_SERVER, NO_CLOSE_FRAME, POLL_CUT_OFF, BROWSER_REPORTED,
        SERVER_REPORTED_HOW, UNKNOWN_HOW,
    )),
    (PING_TIMEOUT, ""),
    (EVICTED, ""),
    (INPUT_ENDED, ""),
)  # fmt: skip


def _transport(record: Record) -> str:
    kind = record.tag("transport.kind") if record.tags else None
    if kind is not None:
        return str(kind)
    transport = record.transport
    return _TRANSPORTS.get(transport, transport) if transport else "unknown"


def _size(record: Record) -> int:
    tagged = record.tag("event.bytes") if record.tags else None
    if isinstance(tagged, int):
        return tagged
    parent = record.parent
    raw = getattr(parent, "raw", b"") if parent is not None else b""
    if isinstance(raw, bytes) and raw:
        return len(raw)
    own = getattr(record, "raw", b"")
    if isinstance(own, bytes) and own:
        return len(own)
    data = getattr(record, "data", None)
    return len(data) if isinstance(record, Chunk) and isinstance(data, bytes) else 0


def _name(event: Any) -> str:
    if event is None:
        return "?"
    return event if isinstance(event, str) else str(event)


class _Session:
    """What the metrics follow of one session: ``open`` is its current transport while it
    counts in the gauge; ``idle_transport`` the transport it had when it was ended as idle;
    ``transport_close`` how its first ``transport-close`` said its transport closed."""

    __slots__ = (
        "client", "idle", "idle_transport", "key", "last", "namespaces", "open", "ping_timeout",
        "transport_close",
    )  # fmt: skip

    def __init__(self, key: str) -> None:
        self.key = key
        self.open: str | None = None
        self.idle_transport: str | None = None
        self.last = 0.0
        self.idle = DEFAULT_IDLE
        self.ping_timeout: float | None = None
        self.namespaces: tuple[str, ...] = ()
        self.client = False
        self.transport_close: str | None = None


class _Sessions:
    """Per-session facts, at most ``limit`` sessions (least recently active forgotten
    first). ``active`` holds the open sessions (those with ``"open"``), least recently
    active first, for :meth:`Metrics.expire`."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.items: OrderedDict[str, _Session] = OrderedDict()
        self.active: OrderedDict[str, _Session] = OrderedDict()

    def get(self, sid: str | None, create: bool = False) -> _Session | None:
        """The facts of session ``sid`` (made if ``create``), marked as active now."""
        if sid is None:
            return None
        key = sid[:_MAX_SID]
        items = self.items
        found = items.get(key)
        if found is not None:
            items.move_to_end(key)
            if key in self.active:
                self.active.move_to_end(key)
        elif create:
            if len(items) >= self.limit:
                forgotten, _ = items.popitem(last=False)
                self.active.pop(forgotten, None)
            found = items[key] = _Session(key)
        return found


class _CollectedAfter:
    """A collector of ``metric`` that calls ``first`` before each collection (a scrape)."""

    def __init__(self, metric: Gauge, first: Callable[[], None]) -> None:
        self.metric = metric
        self.first = first

    def describe(self) -> Iterable[Metric]:
        return self.metric.describe()

    def collect(self) -> Iterable[Metric]:
        self.first()
        return self.metric.collect()


class Metrics:
    """The metrics of one sink. :meth:`add` every record (from one thread); the registry's
    collection (``registry``) may run on another thread at any time."""

    def __init__(self, *, top_events: int = 100, top_values: int = 50, max_sessions: int = 100_000):
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._sessions = _Sessions(max_sessions)
        self.packets = Counter(
            f"{PREFIX}_packets", "Records by layer, type and direction.",
            ["layer", "type", "direction"], registry=r,
        )  # fmt: skip
        self.packet_bytes = Counter(
            f"{PREFIX}_packet_bytes", "Bytes on the wire by layer, type and direction.",
            ["layer", "type", "direction"], registry=r,
        )  # fmt: skip
        self.events = Counter(
            f"{PREFIX}_events", "Socket.IO EVENTs by namespace, name and direction.",
            ["nsp", "event", "direction"], registry=r,
        )  # fmt: skip
        self.event_bytes = Counter(
            f"{PREFIX}_event_bytes", "Bytes of Socket.IO EVENTs on the wire.",
            ["nsp", "event", "direction"], registry=r,
        )  # fmt: skip
        self.acks = Counter(
            f"{PREFIX}_acks", "Socket.IO ACKs by the event they answer.",
            ["nsp", "event"], registry=r,
        )  # fmt: skip
        self.ack_rtt = Histogram(
            f"{PREFIX}_ack_rtt_seconds", "EVENT to ACK round trip, by event.",
            ["nsp", "event"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.unanswered = Counter(
            f"{PREFIX}_acks_unanswered", "EVENTs that asked for an ack and got none.",
            ["nsp", "event"], registry=r,
        )  # fmt: skip
        self.heartbeat_rtt = Histogram(
            f"{PREFIX}_heartbeat_rtt_seconds", "Engine.IO ping to pong round trip.",
            ["transport"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.handshake = Histogram(
            f"{PREFIX}_handshake_seconds", "HTTP request to Engine.IO handshake.",
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.ping_timeouts = Counter(
            f"{PREFIX}_ping_timeouts", "Pings whose pong did not come within pingTimeout.",
            registry=r,
        )  # fmt: skip
        self.opened = Counter(
            f"{PREFIX}_sessions_opened", "Engine.IO sessions opened, by first transport.",
            ["transport"], registry=r,
        )  # fmt: skip
        self.open = Gauge(
            f"{PREFIX}_sessions_open", "Engine.IO sessions open now, by current transport.",
            ["transport"], registry=None,
        )  # fmt: skip
        r.register(_CollectedAfter(self.open, self.before_scrape))
        self.ended = Counter(
            f"{PREFIX}_sessions_ended", "Sessions ended (their summaries), by why (closed, "
            "transport closed, evicted, input ended) and, for transport closed, how.",
            ["reason", "how"], registry=r,
        )  # fmt: skip
        for reason, how in ENDS:
            self.ended.labels(reason, how)
        self.upgrades = Counter(
            f"{PREFIX}_upgrades", "Upgrade outcomes: upgraded, failed (probed, no upgrade).",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.errors = Counter(
            f"{PREFIX}_errors", "Problems by kind (decode, protocol, limit, capture, http, "
            "connect-error, plugin).", ["kind"], registry=r,
        )  # fmt: skip
        self.decode_errors = Counter(
            f"{PREFIX}_decode_errors", "Error records by rule.", ["rule"], registry=r,
        )  # fmt: skip
        self.clients = Counter(
            f"{PREFIX}_clients", "Sessions by client kind and browser family (or library).",
            ["kind", "browser"], registry=r,
        )  # fmt: skip
        self.overflow = Counter(
            f"{PREFIX}_label_overflow", "Records counted under 'other' because a label had "
            "reached its cap of distinct values.", ["label"], registry=r,
        )  # fmt: skip
        self._next_expiry = 0.0
        self._events_cap = self._new_cap("event", top_events)
        self._caps = {
            name: self._new_cap(name, top_values)
            for name in ("packet", "rule", "client", "transport", "kind")
        }

    def before_scrape(self) -> None:
        """Called (on the scraping thread) before the open sessions' gauge is collected;
        nothing here: capture time moves only with the records."""

    def _new_cap(self, name: str, limit: int) -> LabelCap:
        overflow = self.overflow.labels(name)
        return LabelCap(name, limit, overflow.inc)

    # -- feeding ------------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        if record.ts >= self._next_expiry:
            self.expire(record.ts)
        if isinstance(record, ErrorRecord):
            self._error(str(record.tag("error.kind") or "decode"))
            (rule,) = self._cap("rule", record.rule)
            self.decode_errors.labels(rule).inc()
            return
        if isinstance(record, SessionSummary):
            self._summary(record)
            return
        if isinstance(record, HeartbeatTimeout):
            # Timeouts of closed sessions were counted at their close or transport-close.
            if record.timed_out and record.reason != "session closed":
                self.ping_timeouts.inc()
            return
        if isinstance(record, SocketIOUnansweredAck):
            nsp, event = self._event_labels(record.nsp, record.event)
            self.unanswered.labels(nsp, event).inc()
            return
        layer, kind, direction = self._cap(
            "packet", record.layer, record.type, record.direction or UNKNOWN_DIRECTION
        )
        self.packets.labels(layer, kind, direction).inc()
        self.packet_bytes.labels(layer, kind, direction).inc(_size(record))
        if record.tags:
            self._client(record)
        if record.layer not in PACKET_LAYERS:
            return
        if isinstance(record, SocketIOPacket):
            self._socketio(record)
        elif isinstance(record, EngineIOPacket):
            self._engineio(record)
        elif isinstance(record, EngineIOHttpError):
            self._error(str(record.tag("error.kind") or "http"))
        elif isinstance(record, EngineIOTransportClose):
            self._transport_closed(record)

    def _cap(self, name: str, *values: Any) -> tuple[str, ...]:
        return self._caps[name](*values)

    def _event_labels(self, nsp: str, event: Any) -> tuple[str, str]:
        labels = self._events_cap(nsp, _name(event))
        return labels[0], labels[1]

    def _error(self, kind: str) -> None:
        (label,) = self._cap("kind", kind)
        self.errors.labels(label).inc()

    def _client(self, record: Record) -> None:
        name = record.tag("client.name")
        if name is None:
            return
        session = self._sessions.get(record.sid, create=True)
        if session is None or session.client:
            return
        session.client = True
        kind, browser = self._cap("client", record.tag("client.kind") or "unknown", name)
        self.clients.labels(kind, browser).inc()

    def _socketio(self, record: SocketIOPacket) -> None:
        kind = record.type
        session = self._sessions.get(record.sid)
        if session is not None and self._seen(session, record.ts):
            before = session.namespaces
            session.namespaces = connected_after(before, record)
            if disconnected(before, session.namespaces):
                self._end(session)
        if kind == "EVENT":
            nsp, event = self._event_labels(record.nsp, record.event)
            direction = record.direction or UNKNOWN_DIRECTION
            self.events.labels(nsp, event, direction).inc()
            self.event_bytes.labels(nsp, event, direction).inc(_size(record))
        elif kind == "ACK":
            answered = record.answers
            name = getattr(answered, "event", None) if answered is not None else None
            nsp, event = self._event_labels(record.nsp, name)
            self.acks.labels(nsp, event).inc()
            rtt = record.tag("latency.ack") if record.tags else None
            if rtt is None and answered is not None:
                rtt = record.ts - answered.ts
            if isinstance(rtt, int | float):
                self.ack_rtt.labels(nsp, event).observe(rtt)
        elif kind in ("CONNECT_ERROR", "ERROR"):
            self._error("connect-error")

    def _engineio(self, record: EngineIOPacket) -> None:
        kind = record.type
        tags = record.tags
        session = self._sessions.get(record.sid, create=isinstance(record, EngineIOHandshake))
        if session is not None and kind != "close":
            self._seen(session, record.ts)
        if isinstance(record, EngineIOHandshake):
            (transport,) = self._cap("transport", _transport(record))
            self.opened.labels(transport).inc()
            if session is not None:
                self._move(session, transport)
                session.last = record.ts
                if record.ping_timeout is not None:
                    session.ping_timeout = record.ping_timeout / 1000
                session.idle = idle_after(record) or session.idle
            handshake = record.tag("latency.handshake") if tags else None
            if isinstance(handshake, int | float):
                self.handshake.observe(handshake)
        elif kind == "pong":
            rtt = record.tag("latency.heartbeat") if tags else None
            if isinstance(rtt, int | float):
                (transport,) = self._cap("transport", _transport(record))
                self.heartbeat_rtt.labels(transport).observe(rtt)
        elif kind == "upgrade":
            self.upgrades.labels("upgraded").inc()
            if session is not None and session.open is not None:
                self._move(session, self._cap("transport", _transport(record))[0])
        elif kind == "close":
            self._close(record, session)
        if tags:
            error = record.tag("error.kind")
            if error is not None:
                self._error(str(error))

    def _move(self, session: _Session, transport: str) -> None:
        previous = session.open
        if previous == transport:
            return
        if previous is not None:
            self.open.labels(previous).dec()
        self.open.labels(transport).inc()
        session.open = transport
        self._sessions.active[session.key] = session

    def _seen(self, session: _Session, ts: float) -> bool:
        """A record of ``session`` at ``ts``; whether the session is open. One that was
        ended as idle opens again (as on the dashboard: its server had not timed it out)."""
        transport, session.idle_transport = session.idle_transport, None
        if transport is not None:
            self._move(session, transport)
        if session.open is None:
            return False
        session.last = ts
        return True

    def _end(self, session: _Session, idle: bool = False) -> None:
        """Session ``session`` is over (``idle``: as far as we can tell): it leaves the open
        sessions' gauge."""
        previous, session.open = session.open, None
        if previous is not None:
            self.open.labels(previous).dec()
            self._sessions.active.pop(session.key, None)
            if idle:
                session.idle_transport = previous

    def expire(self, now: float) -> None:
        """End the open sessions without a record for longer than their ``pingInterval +
        pingTimeout`` at capture time ``now`` (least recently active first; the look stops at
        the first session still within its time)."""
        self._next_expiry = now + _EXPIRE_EVERY
        active = self._sessions.active
        while active:
            session = next(iter(active.values()))
            if session.last + session.idle >= now:
                return
            self._end(session, idle=True)

    def _close(
        self, record: EngineIOPacket | EngineIOTransportClose, session: _Session | None
    ) -> None:
        """The session's Engine.IO ``close`` or its WebSocket closing: a ping it left
        unanswered past its pingTimeout counts, and it leaves the open sessions."""
        if record.tags:
            if record.tag("upgrade.failed"):
                self.upgrades.labels("failed").inc()
            waited = record.tag("latency.ping_unanswered")
            if isinstance(waited, int | float):
                limit = session.ping_timeout if session is not None else None
                if limit is None or waited >= limit:
                    self.ping_timeouts.inc()
        if session is not None:
            self._end(session)

    def _transport_closed(self, record: EngineIOTransportClose) -> None:
        """Its session's transport closed: how (the first one) is kept for the summary that
        follows, which counts the session's end."""
        session = self._sessions.get(record.sid, create=True)
        if session is not None and session.transport_close is None:
            session.transport_close = transport_close_how(
                record.transport, record.code, record.message, record.direction
            )
        self._close(record, session)

    def _summary(self, record: SessionSummary) -> None:
        """A session's summary, emitted as it ends (or at the end of the input): its end is
        counted (once: not that of a connection no session id named, which ``ioproto stats``
        counts as no session either, nor that of a continuation of an evicted session, whose
        eviction was its end), and it leaves the open sessions, if it had not yet."""
        session = self._sessions.get(record.sid)
        counted = record.sid is not None and not record.resumed
        if record.end_reason != "closed" and record.upgrade_failed and not record.resumed:
            self.upgrades.labels("failed").inc()
        if counted:
            how = ""
            if record.end_reason == TRANSPORT_CLOSED:
                known = session.transport_close if session is not None else None
                how = known or UNKNOWN_HOW
            self.ended.labels(record.end_reason, how).inc()
        if session is not None:
            self._end(session)


class LiveMetrics(Metrics):
    """The metrics of a live source's records (``SinkContext.live``): they arrive as the
    traffic happens, so capture time passes between them as real time does. Capture time
    *now* is :class:`~ioproto.liveclock.LiveClock`'s (the latest record's time plus the time
    elapsed since a record last arrived, as the dashboard keeps it), and a scrape first ends
    the sessions idle by then.
    :meth:`add` and the scrape's look take turns (a lock): both change the sessions' table.
    """

    def __init__(self, **bounds: int) -> None:
        self._lock = threading.Lock()
        self._clock = LiveClock()
        super().__init__(**bounds)

    def add(self, record: Record) -> None:
        with self._lock:
            super().add(record)
            self._clock.arrived(record.ts)

    def now(self) -> float | None:
        """Capture time now (``None`` before the first record)."""
        return self._clock.now()

    def before_scrape(self) -> None:
        with self._lock:
            now = self.now()
            if now is not None:
                self.expire(now)
