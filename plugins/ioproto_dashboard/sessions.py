"""The dashboard's session table: which sessions are open now, on which transport.

A session opens with the first record carrying its sid and ends at the first of:

* ``closed``: an Engine.IO ``close`` packet;
* ``disconnected``: a Socket.IO ``DISCONNECT`` that leaves it no connected namespace (the
  usual end of a Socket.IO client, which closes its WebSocket without an Engine.IO close);
* ``idle``: no record for ``pingInterval + pingTimeout`` of capture time (45 s when the
  handshake was not seen), as a server would time it out; traffic after that reopens it;
* ``evicted``: the table is full (see :class:`~.budgets.Budgets`); its counts stay.

The ends but ``evicted`` follow :mod:`ioproto_classify.liveness`, which the Prometheus
sink's gauge of open sessions shares. Counts of open sessions per transport kind are kept
up to date in O(1) per record.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from typing import Any

from ioproto_classify.liveness import DEFAULT_IDLE, connected_after, disconnected, idle_after
from ioproto_engineio.records import (
    TRANSPORT_CLOSED,
    EngineIOHandshake,
    EngineIOPacket,
    EngineIOTransportClose,
)
from ioproto_socketio.records import SocketIOPacket

from ioproto.model import Record


class Session:
    __slots__ = (
        "client",
        "eio",
        "end",
        "end_ts",
        "first_kind",
        "first_ts",
        "handshake_ts",
        "idle",
        "kind",
        "last_ts",
        "namespaces",
        "packets",
        "probe_ts",
        "sid",
        "sio",
        "upgrade_ts",
    )

    def __init__(self, sid: str, ts: float) -> None:
        self.sid = sid
        self.first_ts = ts
        self.last_ts = ts
        self.kind: str | None = None
        self.first_kind: str | None = None
        self.eio: int | None = None
        self.sio: int | None = None
        self.namespaces: tuple[str, ...] = ()
        self.handshake_ts: float | None = None
        self.probe_ts: float | None = None
        self.upgrade_ts: float | None = None
        self.end: str | None = None
        self.end_ts: float | None = None
        self.client: str | None = None
        self.idle = DEFAULT_IDLE
        self.packets = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "transport": self.kind,
            "first_transport": self.first_kind,
            "eio": self.eio,
            "sio": self.sio,
            "handshake_ts": self.handshake_ts,
            "probe_ts": self.probe_ts,
            "upgrade_ts": self.upgrade_ts,
            "end": self.end,
            "end_ts": self.end_ts,
            "client": self.client,
            "packets": self.packets,
        }


class SessionTable:
    """Open and recently ended sessions, at most ``limit`` in all."""

    def __init__(self, limit: int) -> None:
        self.limit = max(2, limit)
        self.open: OrderedDict[str, Session] = OrderedDict()  # least recently active first
        self.ended: OrderedDict[str, Session] = OrderedDict()  # ended first first
        self.open_by_kind: Counter[str] = Counter()
        self.ends: Counter[str] = Counter()
        self.eio: Counter[str] = Counter()
        self.sio: Counter[str] = Counter()
        self.forgotten = 0
        #: Set whenever the open sessions or their transports change (the reader resets it).
        self.changed = False

    def __len__(self) -> int:
        return len(self.open) + len(self.ended)

    def touch(self, record: Record, kind: str | None) -> tuple[Session, bool]:
        """The session of ``record`` (which has a sid), and whether it is new."""
        sid = record.sid
        assert sid is not None
        session = self.open.get(sid)
        new = False
        if session is not None:
            self.open.move_to_end(sid)
        else:
            session = self.ended.get(sid)
            if session is not None and session.end == "idle":
                del self.ended[sid]
                session.end = session.end_ts = None
                self.open[sid] = session
                self.open_by_kind[session.kind or "unknown"] += 1
                self.changed = True
            elif session is None:
                self._make_room()
                session = self.open[sid] = Session(sid, record.ts)
                self.open_by_kind["unknown"] += 1
                self.changed = new = True
        if record.ts > session.last_ts:
            session.last_ts = record.ts
        if kind is not None and kind != session.kind and session.end is None:
            if session.first_kind is None:
                session.first_kind = kind
            if session.upgrade_ts is None or kind == "websocket":
                self.open_by_kind[session.kind or "unknown"] -= 1
                self.open_by_kind[kind] += 1
                session.kind = kind
                self.changed = True
        return session, new

    def note(self, session: Session, record: Record) -> str | None:
        """Learn what ``record`` says about its session; returns the end reason if it ended
        the session."""
        session.packets += 1
        if isinstance(record, SocketIOPacket):
            if session.sio is None and record.revision is not None:
                session.sio = record.revision
                self.sio[str(record.revision)] += 1
            before = session.namespaces
            session.namespaces = connected_after(before, record)
            return "disconnected" if disconnected(before, session.namespaces) else None
        if isinstance(record, EngineIOPacket):
            if session.eio is None and record.revision is not None:
                session.eio = record.revision
                self.eio[str(record.revision)] += 1
            if isinstance(record, EngineIOHandshake):
                session.handshake_ts = record.ts
                session.idle = idle_after(record) or session.idle
            kind = record.type
            if kind == "ping" and record.data == "probe" and session.probe_ts is None:
                session.probe_ts = record.ts
            elif kind == "upgrade" and session.upgrade_ts is None:
                session.upgrade_ts = record.ts
            elif kind == "close":
                return "closed"
        elif isinstance(record, EngineIOTransportClose):
            return TRANSPORT_CLOSED
        if session.client is None and record.tags:
            name = record.tag("client.name")
            if name is not None:
                version = record.tag("client.version")
                session.client = f"{name} {version}" if version else str(name)
        return None

    def finish(self, session: Session, ts: float, reason: str) -> None:
        """End an open session."""
        if session.end is not None:
            return
        self.open.pop(session.sid, None)
        self.open_by_kind[session.kind or "unknown"] -= 1
        self.changed = True
        session.end = reason
        session.end_ts = ts
        self.ends[reason] += 1
        self.ended[session.sid] = session
        while len(self) > self.limit and self.ended:
            self.ended.popitem(last=False)
            self.forgotten += 1

    def expire(self, now: float) -> list[Session]:
        """End the sessions idle for longer than their timeout at ``now``; returns them.

        O(open sessions): the aggregate calls it about once a second.
        """
        expired = [s for s in self.open.values() if s.last_ts + s.idle < now]
        for session in expired:
            self.finish(session, session.last_ts + session.idle, "idle")
        return expired

    def _make_room(self) -> None:
        while len(self) >= self.limit:
            if self.ended:
                self.ended.popitem(last=False)
            else:
                _, oldest = self.open.popitem(last=False)
                self.open_by_kind[oldest.kind or "unknown"] -= 1
                self.ends["evicted"] += 1
                self.changed = True
            self.forgotten += 1

    def get(self, sid: str) -> Session | None:
        return self.open.get(sid) or self.ended.get(sid)

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The ``limit`` most recently active open sessions, then the last ended ones."""
        picked: list[Session] = []
        for session in reversed(self.open.values()):
            if len(picked) >= limit:
                break
            picked.append(session)
        for session in reversed(self.ended.values()):
            if len(picked) >= limit:
                break
            picked.append(session)
        return [session.as_dict() for session in picked]
