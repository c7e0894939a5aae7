"""Everything the dashboard shows, aggregated from the records, in bounded memory.

:class:`Aggregate` feeds every record to the ``stats`` plugin's
:class:`~ioproto_stats.collector.StatsCollector` (so ``/api/summary`` is the document
``ioproto stats --format json`` prints) and adds what the views need on top: time series
(:mod:`.series`), latency and size histograms, the session table (:mod:`.sessions`), the
errors by rule, the sampled packet table and per-session timelines (:mod:`.rows`). Each is
bounded by :class:`~.budgets.Budgets`. Not thread-safe: :class:`~.hub.Hub` serialises
access.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_engineio.records import EngineIOPacket, counts_as_packet
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck
from ioproto_stats.collector import StatsCollector, transport_kind, wire_size

from ioproto.model import ErrorRecord, Record

from .budgets import ERROR_BYTES, HISTOGRAM_BYTES, SESSION_BYTES, Budgets, text_bytes
from .rows import PacketRing, Timelines, packet_row, wanted_in_table
from .series import LogHistogram, TimeSeries
from .sessions import SessionTable

OTHER = "(other)"
#: Transport kinds in the order the page shows them (the classifier's ``transport.kind``).
TRANSPORTS = ("websocket", "polling-xhr", "polling-jsonp", "webtransport", "unknown")
_SESSION_RECORDS = (SessionSummary, HeartbeatTimeout, SocketIOUnansweredAck)
#: How many items of each list of the stats figures the live snapshot carries.
SNAPSHOT_TOP = 50
_EXPIRE_EVERY = 1.0


def trimmed(figures: dict[str, Any], top: int) -> dict[str, Any]:
    """``figures`` with every list cut to ``top`` items (totals untouched)."""
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            out[key] = trimmed(value, top)
        elif isinstance(value, list):
            out[key] = value[:top]
        else:
            out[key] = value
    return out


class ErrorTable:
    """Errors by (kind, rule) with their last reason, and the most recent errors."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.bytes = 0
        self.rules: dict[tuple[str, str], dict[str, Any]] = {}
        self.recent: deque[dict[str, Any]] = deque(maxlen=max(10, budget // (4 * ERROR_BYTES)))

    def add(self, record: Record, kind: str) -> None:
        if isinstance(record, ErrorRecord):
            rule, reason = record.rule, record.reason
        else:
            rule = f"{record.layer}.{record.type}"
            reason = str(record.tag("error.reason", "")) if record.tags else ""
        reason = reason[:300]
        key = (kind, rule)
        entry = self.rules.get(key)
        if entry is None:
            cost = ERROR_BYTES + text_bytes(rule, reason)
            if self.bytes + cost > self.budget // 2:
                key = (kind, OTHER)
                entry = self.rules.get(key)
            if entry is None:
                self.bytes += cost
                entry = self.rules[key] = {
                    "kind": kind,
                    "rule": key[1],
                    "layer": record.layer,
                    "count": 0,
                    "first_ts": record.ts,
                }
        entry["count"] += 1
        entry["last_ts"] = record.ts
        entry["reason"] = reason
        entry["sid"] = record.sid
        self.recent.append(
            {
                "ts": record.ts,
                "kind": kind,
                "rule": rule,
                "layer": record.layer,
                "reason": reason,
                "sid": record.sid,
                "dir": record.direction,
            }
        )

    def view(self) -> dict[str, Any]:
        rules = sorted(self.rules.values(), key=lambda e: (-e["count"], e["kind"], e["rule"]))
        return {"by_rule": [dict(entry) for entry in rules], "recent": list(self.recent)[::-1]}


class EventHistograms:
    """One histogram per (namespace, event), at most ``limit`` of them (then ``(other)``)."""

    def __init__(self, limit: int, make: Any) -> None:
        self.limit = limit
        self.make = make
        self.items: OrderedDict[tuple[str, str], LogHistogram] = OrderedDict()

    def add(self, nsp: str, event: str, value: float) -> None:
        key = (nsp, event)
        histogram = self.items.get(key)
        if histogram is None:
            if len(self.items) >= self.limit:
                key = ("", OTHER)
                histogram = self.items.get(key)
            if histogram is None:
                histogram = self.items[key] = self.make()
        histogram.add(value)

    def view(self, top: int) -> list[dict[str, Any]]:
        ordered = sorted(self.items.items(), key=lambda item: (-item[1].count, item[0]))
        return [
            {"nsp": nsp, "event": event, "count": hist.count, "counts": hist.as_list()}
            for (nsp, event), hist in ordered[:top]
        ]


class Aggregate:
    """Feed every record to :meth:`add`; read :meth:`snapshot` (and the tables) between."""

    def __init__(self, budgets: Budgets | None = None) -> None:
        self.budgets = budgets = budgets or Budgets()
        self.stats = StatsCollector()
        self.series = TimeSeries(
            counters=(
                "connects",
                "disconnects",
                "errors",
                "packets_c2s",
                "packets_s2c",
                "packets_other",
                "bytes_c2s",
                "bytes_s2c",
                "events",
            ),
            gauges=("sessions", *TRANSPORTS),
            histograms=("heartbeat", "ack"),
        )
        self.sessions = SessionTable(budgets.max_sessions)
        self.heartbeat = LogHistogram.latency()
        self.ack = LogHistogram.latency()
        self.upgrade = LogHistogram.latency()
        self.sizes = LogHistogram.size()
        per_kind = budgets.max_event_histograms
        self.ack_by_event = EventHistograms(per_kind, LogHistogram.latency)
        self.size_by_event = EventHistograms(per_kind, LogHistogram.size)
        self.errors = ErrorTable(budgets.errors)
        self.ring = PacketRing(budgets.packets, budgets.rows_per_second)
        self.timelines = Timelines(budgets.timelines)
        self.first_ts: float | None = None
        self.last_ts: float | None = None
        self.records = 0
        self._next_expiry = 0.0

    # -- feeding ------------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        self.records += 1
        stats = self.stats
        errors_before = stats.errors_total
        stats.add(record)
        ts = record.ts
        if self.first_ts is None or ts < self.first_ts:
            self.first_ts = ts
        if self.last_ts is None or ts > self.last_ts:
            self.last_ts = ts
        series = self.series
        kind = transport_kind(record)
        sid = record.sid
        if sid is not None and not isinstance(record, _SESSION_RECORDS):
            self._session(record, sid, kind)
        size = 0
        if counts_as_packet(record):
            size = wire_size(record)
            direction = record.direction
            slot = series.slot(ts)
            counters = series.counters
            if direction == "c2s":
                counters["packets_c2s"][slot] += 1
                counters["bytes_c2s"][slot] += size
            elif direction == "s2c":
                counters["packets_s2c"][slot] += 1
                counters["bytes_s2c"][slot] += size
            else:
                counters["packets_other"][slot] += 1
            if isinstance(record, SocketIOPacket):
                self._socketio(record, size)
            elif isinstance(record, EngineIOPacket) and record.tags:
                self._engineio(record)
        if stats.errors_total != errors_before:
            series.add("errors", ts)
            self.errors.add(record, str(record.tag("error.kind") or _error_kind(record)))
        if wanted_in_table(record):
            sampled = self.ring.admit(ts)
            keep_timeline = sid is not None and sid in self.timelines.sessions
            keep_timeline = keep_timeline and not isinstance(record, _SESSION_RECORDS)
            if sampled or keep_timeline:
                row = packet_row(record, self.ring.next_seq if sampled else 0, kind, size)
                if sampled:
                    self.ring.append(row)
                if keep_timeline:
                    assert sid is not None
                    self.timelines.add(sid, row)

    def _session(self, record: Record, sid: str, kind: str | None) -> None:
        table = self.sessions
        session, new = table.touch(record, kind)
        ts = record.ts
        if new:
            self.series.add("connects", ts)
            self.timelines.follow(sid)
        end = table.note(session, record)
        if end is not None:
            table.finish(session, ts, end)
            self.series.add("disconnects", ts)
        if table.changed:
            table.changed = False
            self._gauges(ts)

    def _gauges(self, ts: float) -> None:
        series = self.series
        table = self.sessions
        series.set("sessions", ts, len(table.open))
        for kind in TRANSPORTS:
            series.set(kind, ts, table.open_by_kind.get(kind, 0))

    def _socketio(self, record: SocketIOPacket, size: int) -> None:
        kind = record.type
        if kind == "EVENT":
            name = _name(record.event)
            self.series.add("events", record.ts)
            self.sizes.add(size)
            self.size_by_event.add(record.nsp, name, size)
        elif kind == "ACK":
            rtt = record.tag("latency.ack") if record.tags else None
            answered = record.answers
            if rtt is None and answered is not None:
                rtt = record.ts - answered.ts
            if isinstance(rtt, int | float) and rtt >= 0:
                self.ack.add(rtt)
                self.series.observe("ack", record.ts, rtt)
                name = _name(getattr(answered, "event", None)) if answered is not None else "?"
                self.ack_by_event.add(record.nsp, name, rtt)

    def _engineio(self, record: EngineIOPacket) -> None:
        if record.type == "pong":
            rtt = record.tag("latency.heartbeat")
            if isinstance(rtt, int | float) and rtt >= 0:
                self.heartbeat.add(rtt)
                self.series.observe("heartbeat", record.ts, rtt)
        elif record.type == "upgrade":
            after = record.tag("upgrade.time")
            if isinstance(after, int | float) and after >= 0:
                self.upgrade.add(after)

    # -- reading ------------------------------------------------------------------------------

    def expire(self, now: float, wall: float) -> None:
        """End sessions idle at ``now`` (at most once per second of ``wall`` time)."""
        if wall < self._next_expiry:
            return
        self._next_expiry = wall + _EXPIRE_EVERY
        expired = self.sessions.expire(now)
        for session in expired:
            assert session.end_ts is not None
            self.series.add("disconnects", session.end_ts)
        if expired:
            self._gauges(now)

    def snapshot(self, figures: dict[str, Any], now: float | None) -> dict[str, Any]:
        """What the page draws, as plain JSON types (docs/dashboard.md, ``/api/snapshot``)."""
        table = self.sessions
        ring = self.ring
        return {
            "summary": trimmed(figures, SNAPSHOT_TOP),
            "series": self.series.view(now),
            "histograms": {
                "latency_edges": list(self.heartbeat.edges[1:-1]),
                "size_edges": list(self.sizes.edges[1:-1]),
                "heartbeat": self.heartbeat.as_list(),
                "ack": self.ack.as_list(),
                "upgrade": self.upgrade.as_list(),
                "size": self.sizes.as_list(),
                "ack_by_event": self.ack_by_event.view(SNAPSHOT_TOP),
                "size_by_event": self.size_by_event.view(SNAPSHOT_TOP),
            },
            "sessions": {
                "open": len(table.open),
                "by_transport": {kind: table.open_by_kind.get(kind, 0) for kind in TRANSPORTS},
                "ends": dict(table.ends),
                "eio": dict(table.eio),
                "sio": dict(table.sio),
                "tracked": len(table),
                "forgotten": table.forgotten,
            },
            "errors": self.errors.view(),
            "packets": {
                "first_seq": ring.rows[0]["seq"] if ring.rows else ring.next_seq,
                "last_seq": ring.next_seq - 1,
                "kept": len(ring.rows),
                "sampled_out": ring.sampled_out,
                "rows_per_second": ring.per_second,
            },
            "memory": {
                "packets": ring.bytes,
                "timelines": self.timelines.bytes,
                "timeline_sessions": len(self.timelines.sessions),
                "sessions": len(table) * SESSION_BYTES,
                "events": (len(self.ack_by_event.items) + len(self.size_by_event.items))
                * HISTOGRAM_BYTES,
                "errors": self.errors.bytes,
                "series": self.series.memory_bytes(),
            },
        }

    def session_view(self, sid: str) -> dict[str, Any] | None:
        session = self.sessions.get(sid)
        timeline = self.timelines.get(sid)
        if session is None and timeline is None:
            return None
        return {
            "session": session.as_dict() if session is not None else {"sid": sid},
            "rows": timeline["rows"] if timeline else [],
            "skipped": timeline["skipped"] if timeline else 0,
        }


def _error_kind(record: Record) -> str:
    if isinstance(record, ErrorRecord):
        return "decode"
    if isinstance(record, SocketIOPacket):
        return "connect-error"
    return "http" if record.type == "http-error" else "protocol"


def _name(event: Any) -> str:
    if event is None:
        return "?"
    return event if isinstance(event, str) else str(event)
