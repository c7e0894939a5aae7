"""Aggregating records into the figures of the ``stats`` sink, O(1) per record.

The collector reads the classifiers' tags (``transport.kind``, ``client.*``, ``latency.*``,
``upgrade.*``, ``event.bytes``, ``error.kind``) and falls back to the records themselves when
a classifier is turned off (transport from ``record.transport``, ack round-trip from the
ACK's ``answers`` link, sizes from ``raw``). Memory is bounded: each session's facts are
kept in the pipeline's session store while it is open (bounded in sessions and bytes) and
folded into :class:`SessionCounts` when it ends; without a store, at most ``max_sessions``
sessions are followed (the oldest folded first). At most ``max_events`` distinct
(namespace, event) pairs are counted separately (the rest under ``(other)``).

Why each session ended comes from the pipeline's session store (``session_ended``) or, for
a collector without one (the dashboard's), from the session summaries; how a transport
closed from the ``transport-close`` record that ends its session
(:func:`transport_close_how`). A session not ended when the figures are read is ``open``.

:meth:`StatsCollector.figures` returns the figures as plain JSON types; the layout is the
``format=json`` output documented in docs/formats.md.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import attrs
from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_engineio.records import (
    SERVER_REPORTED,
    TRANSPORT_CLOSED,
    EngineIOHandshake,
    EngineIOHttpError,
    EngineIOPacket,
    EngineIOTransportClose,
    counts_as_packet,
)
from ioproto_http.records import Chunk
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck

from ioproto.model import ErrorRecord, Record
from ioproto.sessions import Session, SessionEnd, SessionStore, is_sid_key

from .samples import Samples

OTHER = "(other)"
_TRANSPORTS = {"polling": "polling-xhr"}
#: Estimated bytes of one session's facts in the session store.
_FACTS_COST = 250
_COLLECTORS = itertools.count(1)
_CLIENT_TAGS = ("client.kind", "client.name", "client.version", "client.os", "client.device")
#: The end of a session not ended yet when the figures are read.
OPEN = "open"
#: The end of a session the session store evicted (its first end: what came after is
#: not counted as a session).
EVICTED = "evicted"
#: How a transport closed (:func:`transport_close_how`).
CLOSE_FRAME_CLIENT = "close frame from the client"
CLOSE_FRAME_SERVER = "close frame from the server"
NO_CLOSE_FRAME = "no close frame (1006)"
POLL_CUT_OFF = "poll cut off"
BROWSER_REPORTED = "reported by a browser"
SERVER_REPORTED_HOW = "reported by the server"


def end_reason(end: SessionEnd) -> str:
    """A session end's reason as the session summary's ``end_reason`` says it (an eviction,
    for either bound, is ``evicted``)."""
    return EVICTED if end.evicted else end.reason


def _first_continuation(session: Session) -> bool:
    """Whether ``session`` is the first continuation of an evicted session that the figures
    count (one named by its sid), whichever component started it."""
    return session.evictions == 1 and is_sid_key(session.key)


def transport_close_how(
    transport: str | None, code: int | None, message: str | None, direction: str | None
) -> str:
    """How a session's transport closed, from its ``transport-close`` record's fields (the
    same fields are columns of the stored ``engineio`` table): one its server said it closed
    (a tap: the ``message`` begins ``the server reported: ``, on either transport); a poll
    its connection's end left unanswered (``transport`` ``polling``); a WebSocket that ended
    without a close frame, as the bytes showed (``code`` 1006, which no close frame may
    carry); one a browser said ended (no code, a reason: a close frame without a code has no
    reason either); else the close frame, by the side that sent it."""
    if code is None and message is not None and message.startswith(SERVER_REPORTED):
        return SERVER_REPORTED_HOW
    if transport == "polling":
        return POLL_CUT_OFF
    if code == 1006:
        return NO_CLOSE_FRAME
    if code is None and message is not None:
        return BROWSER_REPORTED
    return CLOSE_FRAME_SERVER if direction == "s2c" else CLOSE_FRAME_CLIENT


@attrs.define(slots=True)
class SessionFacts:
    """What the figures need to know of one session (see :func:`assemble`)."""

    first: str | None = None
    last: str | None = None
    handshake: bool = False
    probed: bool = False
    upgraded: bool = False
    client: tuple[Any, ...] | None = None
    #: why it ended (a summary's ``end_reason``); ``None`` while open
    end: str | None = None
    #: how its transport closed, when a ``transport-close`` said so (the first one)
    transport_close: str | None = None
    #: evicted, and its records came again after (known when it is counted: from a
    #: stored archive, or a continuation's summary without a session store; with one, the
    #: store's continuations are counted as they come)
    seen_again: bool = False


@attrs.define(slots=True)
class SessionCounts:
    """The sessions' part of the figures, summed over sessions: each session's
    :class:`SessionFacts` are added once, when it ends (or when the figures are read while
    it is open), and then let go."""

    total: int = 0
    handshakes: int = 0
    probed: int = 0
    upgraded: int = 0
    failed: int = 0
    polling_start: int = 0
    stayed: int = 0
    ws_only: int = 0
    first: Counter[str] = attrs.field(factory=Counter)
    last: Counter[str] = attrs.field(factory=Counter)
    client_kind: Counter[str] = attrs.field(factory=Counter)
    browser: Counter[str] = attrs.field(factory=Counter)
    browser_version: Counter[str] = attrs.field(factory=Counter)
    os_names: Counter[str] = attrs.field(factory=Counter)
    devices: Counter[str] = attrs.field(factory=Counter)
    ends: Counter[str] = attrs.field(factory=Counter)
    transport_closes: Counter[str] = attrs.field(factory=Counter)
    #: sessions evicted (each counted once, in ``ends`` as evicted) whose records came
    #: again after their eviction (counted with it, not as new sessions)
    resumed: int = 0

    @classmethod
    def of(cls, sessions: Iterable[SessionFacts]) -> SessionCounts:
        counts = cls()
        for session in sessions:
            counts.add(session)
        return counts

    def add(self, session: SessionFacts) -> None:
        """Count one session."""
        self.total += 1
        self.first[session.first or "unknown"] += 1
        self.last[session.last or "unknown"] += 1
        self.handshakes += session.handshake
        self.probed += session.probed
        self.upgraded += session.upgraded
        self.failed += session.probed and not session.upgraded
        on_polling = (session.first or "").startswith("polling")
        self.polling_start += on_polling
        self.stayed += on_polling and not session.upgraded
        self.ws_only += session.first == "websocket"
        end = session.end or OPEN
        self.ends[end] += 1
        self.resumed += session.seen_again
        if end == TRANSPORT_CLOSED:
            self.transport_closes[session.transport_close or "unknown"] += 1
        if session.client is not None:
            kind, name, version, os_name, device = session.client
            self.client_kind[str(kind)] += 1
            self.browser[str(name)] += 1
            self.browser_version[f"{name} {version}" if version else str(name)] += 1
            self.os_names[str(os_name or "unknown")] += 1
            self.devices[str(device or "unknown")] += 1

    def copy(self) -> SessionCounts:
        """An independent copy (to add open sessions to without changing this one)."""
        copied = attrs.evolve(self)
        for name in _COUNTERS:
            setattr(copied, name, Counter(getattr(self, name)))
        return copied


_COUNTERS = (
    "first",
    "last",
    "client_kind",
    "browser",
    "browser_version",
    "os_names",
    "devices",
    "ends",
    "transport_closes",
)


@attrs.define(slots=True)
class EventFacts:
    """Counts of one (namespace, event) pair."""

    count_c2s: int = 0
    count_s2c: int = 0
    bytes_c2s: int = 0
    bytes_s2c: int = 0
    attachments: int = 0
    acks: int = 0


def transport_kind(record: Record) -> str | None:
    """The ``transport.kind`` tag, else the record's own transport (``polling`` read as
    ``polling-xhr``), else ``None``."""
    if record.tags:
        kind = record.tag("transport.kind")
        if kind is not None:
            return str(kind)
    transport = record.transport
    return _TRANSPORTS.get(transport, transport) if transport else None


def wire_size(record: Record) -> int:
    """The bytes a packet took on the wire: the ``event.bytes`` tag, else the raw bytes of
    the packet it travelled in, else its own."""
    tagged = record.tag("event.bytes") if record.tags else None
    if isinstance(tagged, int):
        return tagged
    parent = record.parent
    raw = getattr(parent, "raw", b"") if parent is not None else b""
    size = len(raw) if isinstance(raw, bytes) else 0
    if not size:
        own = getattr(record, "raw", b"")
        size = len(own) if isinstance(own, bytes) else 0
    return size


def pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def shares(counter: Counter[str], whole: int | None = None) -> list[dict[str, Any]]:
    """``[{"name", "count", "pct"}, ...]``, most common first (ties by name)."""
    total = whole if whole is not None else sum(counter.values())
    items = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return [{"name": name, "count": count, "pct": pct(count, total)} for name, count in items]


class StatsCollector:
    """Feed every record to :meth:`add`; read :meth:`figures` at any time."""

    def __init__(
        self,
        *,
        sessions: SessionStore | None = None,
        max_sessions: int = 100_000,
        max_events: int = 1000,
    ) -> None:
        self.max_sessions = max(1, max_sessions)
        self._store = sessions
        self._name = f"stats#{next(_COLLECTORS)}"  # several may share one pipeline's store
        self.max_events = max(1, max_events)
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.records = 0
        self.layers: Counter[str] = Counter()
        self.packets = 0
        self.packets_by_transport: Counter[str] = Counter()
        #: the sessions' facts when there is no session store (oldest first)
        self._sessions: dict[str, SessionFacts] = {}
        #: the sessions that ended (or were let go), counted
        self._ended = SessionCounts()
        self.handshake = Samples()
        self.heartbeat = Samples()
        self.ack = Samples()
        self.upgrade = Samples()
        self.ack_by_event: dict[tuple[str, str], Samples] = {}
        self.events: dict[tuple[str, str], EventFacts] = {}
        self.unanswered_acks: Counter[tuple[str, str]] = Counter()
        self.heartbeat_timeouts = 0
        self.heartbeat_pending = 0
        self.errors: Counter[str] = Counter()
        #: Every error counted so far (a reader can tell whether a record was one).
        self.errors_total = 0
        self.error_reasons: Counter[tuple[str, str]] = Counter()
        self.summaries = 0
        #: Sessions whose handshake came from an in-process tap (``capture.via = "tap"``),
        #: for which HTTP status and bytes on the wire are not known.
        self.tap_sessions = 0

    # -- feeding ------------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        self.records += 1
        ts = record.ts
        # An error record at time 0 has no time (a file that held no capture: empty, not a
        # capture): the span of a run with one beside real captures is theirs, not 56 years.
        if not (ts == 0 and isinstance(record, ErrorRecord)):
            if self.first_ts is None or ts < self.first_ts:
                self.first_ts = ts
            if self.last_ts is None or ts > self.last_ts:
                self.last_ts = ts
        layer = record.layer
        self.layers[layer] += 1
        if isinstance(record, ErrorRecord):
            self._error(record, record.tag("error.kind") or "decode", record.rule)
            self._session(record)
            return
        if isinstance(record, SessionSummary):
            self.summaries += 1
            self._summarised(record)
            return
        if isinstance(record, EngineIOTransportClose):
            self._transport_closed(record)
            return
        if isinstance(record, HeartbeatTimeout):
            if record.timed_out:
                self.heartbeat_timeouts += 1
            else:
                self.heartbeat_pending += 1
            return
        if isinstance(record, SocketIOUnansweredAck):
            self.unanswered_acks[(record.nsp, _name(record.event))] += 1
            return
        if counts_as_packet(record):
            self.packets += 1
            kind = transport_kind(record)
            self.packets_by_transport[kind or "unknown"] += 1
            session = self._session(record, kind)
            if isinstance(record, SocketIOPacket):
                self._socketio(record)
            elif isinstance(record, EngineIOPacket):
                self._engineio(record, session)
            elif isinstance(record, EngineIOHttpError):
                kind_tag = record.tag("error.kind") or "http"
                self._error(record, kind_tag, f"HTTP {record.status} {record.message or ''}")
        elif isinstance(record, Chunk):
            self._session(record, transport_kind(record))

    def _session(self, record: Record, kind: str | None = None) -> SessionFacts | None:
        sid = record.sid
        if sid is None:
            return None
        session = self._facts(sid, record.ts)
        if session is None:
            return None
        if kind is not None:
            if session.first is None:
                session.first = kind
            if not session.upgraded:  # stray polling answers after an upgrade do not count
                session.last = kind
        if session.client is None and record.tags:
            name = record.tag("client.name")
            if name is not None:
                session.client = tuple(record.tag(tag) for tag in _CLIENT_TAGS)
        return session

    def _facts(self, sid: str, ts: float) -> SessionFacts | None:
        """The facts of session ``sid``, started if needed; ``None`` for a record that came
        after its session ended, or that continues an evicted one (it is counted already:
        a continuation adds its records to the figures, not a session)."""
        store = self._store
        if store is None:
            facts = self._sessions.get(sid)
            if facts is None:
                if len(self._sessions) >= self.max_sessions:
                    oldest = next(iter(self._sessions))
                    self._ended.add(self._sessions.pop(oldest))
                facts = self._sessions[sid] = SessionFacts()
            return facts
        holder = store.get(sid)
        if holder is None:
            if store.has_ended(sid):
                return None
            holder = store.session(sid, ts)
        facts = holder.get(self._name)
        if facts is None:
            if holder.resumed:
                return None
            facts = SessionFacts()
            holder.put(self._name, facts)
            holder.charge(_FACTS_COST)
        return facts

    def _known_facts(self, sid: str | None) -> SessionFacts | None:
        """The facts of open session ``sid``, if it has any (none are started)."""
        if sid is None:
            return None
        if self._store is None:
            return self._sessions.get(sid)
        holder = self._store.get(sid)
        facts = holder.get(self._name) if holder is not None else None
        return facts if isinstance(facts, SessionFacts) else None

    def _transport_closed(self, record: EngineIOTransportClose) -> None:
        # Delivered before its session ends: the end that follows is "transport closed".
        facts = self._known_facts(record.sid)
        if facts is not None and facts.transport_close is None:
            facts.transport_close = transport_close_how(
                record.transport, record.code, record.message, record.direction
            )

    def _summarised(self, record: SessionSummary) -> None:
        # Without a session store no end is announced: the summary says it. With one, the
        # session ended (and was counted) before its summary came.
        facts = self._known_facts(record.sid)
        if facts is not None and facts.end is None:
            facts.end = record.end_reason
        elif facts is not None and record.resumed and facts.end == EVICTED:
            facts.seen_again = True

    def session_ended(self, session: Session, end: SessionEnd) -> None:
        """Count an ended session of the pipeline's store, and let its facts go (a
        continuation of an evicted session has none: it was counted with its eviction; its
        first continuation counts it as seen again)."""
        if _first_continuation(session):
            self._ended.resumed += 1
        facts = session.get(self._name)
        if facts is not None:
            facts.end = end_reason(end)
            self._ended.add(facts)

    def _open_facts(self) -> Iterator[SessionFacts]:
        if self._store is None:
            yield from self._sessions.values()
            return
        for holder in self._store.sessions.values():
            facts = holder.get(self._name)
            if facts is not None:
                yield facts

    def _socketio(self, record: SocketIOPacket) -> None:
        kind = record.type
        if kind == "EVENT":
            event = self._event(record.nsp, _name(record.event))
            size = wire_size(record)
            if record.direction == "s2c":
                event.count_s2c += 1
                event.bytes_s2c += size
            else:
                event.count_c2s += 1
                event.bytes_c2s += size
            event.attachments += record.attachments
        elif kind == "ACK":
            answered = record.answers
            rtt = record.tag("latency.ack") if record.tags else None
            if rtt is None and answered is not None:
                rtt = record.ts - answered.ts
            name = _name(getattr(answered, "event", None)) if answered is not None else "?"
            event = self._event(record.nsp, name)
            event.acks += 1
            event.attachments += record.attachments
            if isinstance(rtt, int | float):
                self.ack.add(rtt)
                key = (record.nsp, name) if (record.nsp, name) in self.events else ("", OTHER)
                samples = self.ack_by_event.get(key)
                if samples is None:
                    samples = self.ack_by_event[key] = Samples(cap=2000)
                samples.add(rtt)
        elif kind in ("CONNECT_ERROR", "ERROR"):
            reason = record.tag("error.reason") if record.tags else None
            if reason is None:
                data = record.data
                reason = data.get("message") if isinstance(data, dict) else data
            self._error(record, "connect-error", str(reason))

    def _event(self, nsp: str, name: str) -> EventFacts:
        key = (nsp, name)
        event = self.events.get(key)
        if event is None:
            if len(self.events) >= self.max_events:
                key = ("", OTHER)
                event = self.events.get(key)
            if event is None:
                event = self.events[key] = EventFacts()
        return event

    def _engineio(self, record: EngineIOPacket, session: SessionFacts | None) -> None:
        kind = record.type
        tags = record.tags
        if isinstance(record, EngineIOHandshake):
            if session is not None:
                session.handshake = True
            if _via_tap(record):
                self.tap_sessions += 1
            handshake = record.tag("latency.handshake") if tags else None
            if isinstance(handshake, int | float):
                self.handshake.add(handshake)
        elif kind == "pong":
            rtt = record.tag("latency.heartbeat") if tags else None
            if isinstance(rtt, int | float):
                self.heartbeat.add(rtt)
        elif kind == "ping" and record.data == "probe":
            if session is not None:
                session.probed = True
        elif kind == "upgrade":
            if session is not None:
                session.upgraded = True
                session.last = transport_kind(record) or session.last
            after = record.tag("upgrade.time") if tags else None
            if isinstance(after, int | float):
                self.upgrade.add(after)
        if tags:
            error = record.tag("error.kind")
            if error is not None:
                self._error(record, str(error), str(record.tag("error.reason", "")))

    def _error(self, record: Record, kind: str, reason: str) -> None:
        self.errors[kind] += 1
        self.errors_total += 1
        key = (kind, reason.strip()[:200])
        if key in self.error_reasons or len(self.error_reasons) < 1000:
            self.error_reasons[key] += 1
        else:
            self.error_reasons[(kind, OTHER)] += 1

    # -- reading ------------------------------------------------------------------------------

    def session_counts(self) -> SessionCounts:
        """The sessions so far, counted: those that ended and those still open."""
        counts = self._ended.copy()
        for facts in self._open_facts():
            counts.add(facts)
        if self._store is not None:
            counts.resumed += sum(map(_first_continuation, self._store.sessions.values()))
        return counts

    def figures(self, *, top: int | None = None) -> dict[str, Any]:
        """Every figure, as plain JSON types; ``top`` limits the event lists."""
        tally = Tally(
            records=self.records,
            packets=self.packets,
            layers=self.layers,
            first_ts=self.first_ts,
            last_ts=self.last_ts,
            sessions=self.session_counts(),
            summaries=self.summaries,
            packets_by_transport=self.packets_by_transport,
            upgrade=self.upgrade.summary(),
            handshake=self.handshake.summary(),
            heartbeat=self.heartbeat.summary(),
            ack=self.ack.summary(),
            ack_by_event={key: samples.summary() for key, samples in self.ack_by_event.items()},
            events=self.events,
            unanswered_acks=self.unanswered_acks,
            heartbeat_timeouts=self.heartbeat_timeouts,
            heartbeat_pending=self.heartbeat_pending,
            errors=self.errors,
            error_reasons=self.error_reasons,
            tap_sessions=self.tap_sessions,
        )
        return assemble(tally, top=top)


@attrs.define
class Tally:
    """Everything the figures are made of, however it was counted: by
    :class:`StatsCollector` from records as they stream, or by SQL from stored tables
    (:mod:`ioproto_stats.stored`). Latency values are :meth:`Samples.summary` dicts."""

    records: int
    packets: int
    layers: Counter[str]
    first_ts: float | None
    last_ts: float | None
    sessions: SessionCounts
    summaries: int
    packets_by_transport: Counter[str]
    upgrade: dict[str, Any]
    handshake: dict[str, Any]
    heartbeat: dict[str, Any]
    ack: dict[str, Any]
    ack_by_event: dict[tuple[str, str], dict[str, Any]]
    events: dict[tuple[str, str], EventFacts]
    unanswered_acks: Counter[tuple[str, str]]
    heartbeat_timeouts: int
    heartbeat_pending: int
    errors: Counter[str]
    error_reasons: Counter[tuple[str, str]]
    tap_sessions: int = 0


def assemble(tally: Tally, *, top: int | None = None) -> dict[str, Any]:
    """The figures (the ``format=json`` layout of docs/formats.md) from a :class:`Tally`;
    ``top`` limits the event lists."""
    sessions = tally.sessions
    total = sessions.total
    first, last = sessions.first, sessions.last
    client_kind, browser, browser_version = (
        sessions.client_kind,
        sessions.browser,
        sessions.browser_version,
    )
    os_names, devices = sessions.os_names, sessions.devices
    handshakes, probed, upgraded = sessions.handshakes, sessions.probed, sessions.upgraded
    failed, polling_start, stayed = sessions.failed, sessions.polling_start, sessions.stayed
    ws_only = sessions.ws_only
    known_clients = sum(client_kind.values())
    duration = 0.0
    if tally.first_ts is not None and tally.last_ts is not None:
        duration = tally.last_ts - tally.first_ts
    events: list[dict[str, Any]] = [
        {
            "nsp": nsp,
            "event": name,
            "count": event.count_c2s + event.count_s2c,
            "count_c2s": event.count_c2s,
            "count_s2c": event.count_s2c,
            "bytes": event.bytes_c2s + event.bytes_s2c,
            "bytes_c2s": event.bytes_c2s,
            "bytes_s2c": event.bytes_s2c,
            "attachments": event.attachments,
            "acks": event.acks,
        }
        for (nsp, name), event in tally.events.items()
    ]
    by_count = sorted(events, key=lambda e: (-e["count"], -e["acks"], e["nsp"], e["event"]))
    by_bytes = sorted(events, key=lambda e: (-e["bytes"], e["nsp"], e["event"]))
    if top is not None:
        by_count, by_bytes = by_count[:top], by_bytes[:top]
    ack_by_event = [
        {"nsp": nsp, "event": name, **summary}
        for (nsp, name), summary in sorted(
            tally.ack_by_event.items(), key=lambda item: (-item[1]["count"], item[0])
        )
    ]
    if top is not None:
        ack_by_event = ack_by_event[:top]
    unanswered = [
        {"nsp": nsp, "event": name, "count": count}
        for (nsp, name), count in sorted(
            tally.unanswered_acks.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    reasons = [
        {"kind": kind, "reason": reason, "count": count}
        for (kind, reason), count in sorted(
            tally.error_reasons.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    if top is not None:
        reasons = reasons[:top]
    ends: dict[str, Any] = {
        "by_reason": shares(sessions.ends, total),
        "transport_closed_by": shares(sessions.transport_closes, total),
    }
    if sessions.ends.get(EVICTED):
        ends["evicted_seen_again"] = {
            "count": sessions.resumed,
            "pct": pct(sessions.resumed, total),
        }
    return {
        "totals": {
            "records": tally.records,
            "packets": tally.packets,
            "layers": dict(sorted(tally.layers.items())),
            "first_ts": tally.first_ts,
            "last_ts": tally.last_ts,
            "duration": duration,
            "packets_per_second": tally.packets / duration if duration > 0 else None,
        },
        "sessions": {
            "total": total,
            "with_handshake": handshakes,
            "summaries": tally.summaries,
        },
        "transport": {
            "sessions_first": shares(first, total),
            "sessions_final": shares(last, total),
            "packets": shares(tally.packets_by_transport, tally.packets),
        },
        "upgrade": {
            "started_on_polling": polling_start,
            "probed": probed,
            "upgraded": upgraded,
            "upgraded_pct": pct(upgraded, polling_start),
            "failed": failed,
            "stayed_on_polling": stayed,
            "websocket_only": ws_only,
            "time": tally.upgrade,
        },
        "ends": ends,
        "clients": {
            "sessions": known_clients,
            "kind": shares(client_kind, known_clients),
            "browser": shares(browser, known_clients),
            "browser_version": shares(browser_version, known_clients),
            "os": shares(os_names, known_clients),
            "device": shares(devices, known_clients),
        },
        "latency": {
            "handshake": tally.handshake,
            "heartbeat": tally.heartbeat,
            "ack": tally.ack,
            "ack_by_event": ack_by_event,
            "unanswered_acks": sum(tally.unanswered_acks.values()),
            "unanswered_acks_by_event": unanswered,
            "heartbeat_timeouts": tally.heartbeat_timeouts,
            "heartbeat_pending_at_end": tally.heartbeat_pending,
        },
        "events": {
            "distinct": len(tally.events),
            "total": sum(e["count"] for e in events),
            "bytes": sum(e["bytes"] for e in events),
            "by_count": by_count,
            "by_bytes": by_bytes,
        },
        "errors": {
            "total": sum(tally.errors.values()),
            "by_kind": shares(tally.errors),
            "top_reasons": reasons,
            # A tap sees packets, not HTTP: refused requests and HTTP errors of its
            # sessions are not counted (the report says n/a) rather than counted as none.
            **({"http_unknown_sessions": tally.tap_sessions} if tally.tap_sessions else {}),
        },
    }


def _via_tap(record: Record) -> bool:
    """Whether ``record`` was decoded from a chunk an in-process tap reported."""
    current: Record | None = record
    while current is not None and not isinstance(current, Chunk):
        current = current.parent
    return current is not None and current.tag("capture.via") == "tap"


def _name(event: Any) -> str:
    if event is None:
        return "?"
    return event if isinstance(event, str) else str(event)
