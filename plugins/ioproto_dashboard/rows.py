"""Records as rows of the packet table and the session timeline, in bounded buffers.

A row is a small dict of JSON types (the ``/api/packets`` and ``/api/session`` items,
documented in docs/dashboard.md). Strings from the wire are kept as they are (the page shows
them as text, escaping control and bidi characters); payload previews are cut to
``PREVIEW_CHARS`` and already escaped by :func:`ioproto.render.render_value`.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any

from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_engineio.records import (
    EngineIOHttpError,
    EngineIOPacket,
    EngineIOTransportClose,
    closed_words,
)
from ioproto_http.records import Chunk
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck

from ioproto.model import ErrorRecord, Record
from ioproto.render import hex_preview, render_value, safe_text

from .budgets import ROW_BYTES, text_bytes

PREVIEW_CHARS = 160
_TIMELINE_HEAD = 32
_TIMELINE_TAIL = 96
#: What a full timeline costs at most, to turn the byte budget into a number of sessions.
TIMELINE_BYTES = (_TIMELINE_HEAD + _TIMELINE_TAIL) * (ROW_BYTES + 300)


def _chunk_of(record: Record) -> Chunk | None:
    current: Record | None = record
    while current is not None:
        if isinstance(current, Chunk):
            return current
        current = current.parent
    return None


def _text_preview(data: Any) -> str:
    if isinstance(data, bytes):
        return hex_preview(data)
    if isinstance(data, str):
        text = data if len(data) <= PREVIEW_CHARS else data[: PREVIEW_CHARS - 1] + "…"
        return safe_text(text)
    if data is None:
        return ""
    return render_value(data, limit=PREVIEW_CHARS)


def packet_row(record: Record, seq: int, kind: str | None, size: int) -> dict[str, Any]:
    """The row of ``record``: ``seq``, ``ts``, ``dir``, ``sid``, ``transport``, ``layer``,
    ``type``, ``size`` and, where they apply, ``nsp``, ``event``, ``id``, ``preview``,
    ``answers`` (an ACK: the event it answers and the round-trip), ``eio`` (the Engine.IO
    packet type a Socket.IO packet travelled in), ``rule``/``reason`` (errors) and
    ``chunk`` (the capture chunk: ``seq``, ``kind``, ``method``, ``status``)."""
    row: dict[str, Any] = {
        "seq": seq,
        "ts": record.ts,
        "dir": record.direction,
        "sid": record.sid,
        "transport": kind,
        "layer": record.layer,
        "type": record.type,
        "size": size,
    }
    if isinstance(record, SocketIOPacket):
        row["nsp"] = record.nsp
        if record.id is not None:
            row["id"] = record.id
        if record.type == "EVENT":
            row["event"] = _name(record.event)
            row["preview"] = render_value(record.args, limit=PREVIEW_CHARS)
        elif record.type == "ACK":
            row["preview"] = render_value(record.args, limit=PREVIEW_CHARS)
            answered = record.answers
            if answered is not None:
                row["event"] = _name(getattr(answered, "event", None))
                row["answers"] = {
                    "event": row["event"],
                    "ts": answered.ts,
                    "rtt": record.ts - answered.ts,
                }
        else:
            row["preview"] = _text_preview(record.data)
        if record.attachments:
            row["attachments"] = record.attachments
        parent = record.parent
        if isinstance(parent, EngineIOPacket):
            row["eio"] = parent.type
    elif isinstance(record, ErrorRecord):
        row["rule"] = record.rule
        row["reason"] = record.reason
        if record.raw:
            row["preview"] = hex_preview(record.raw)
    elif isinstance(record, EngineIOHttpError):
        row["rule"] = f"http {record.status}"
        row["reason"] = record.message or _text_preview(record.data)
    elif isinstance(record, EngineIOPacket):
        row["preview"] = _text_preview(record.data)
    elif isinstance(record, EngineIOTransportClose):
        code = "" if record.code is None else f"{record.code} "
        row["reason"] = f"{closed_words(record.transport)} {code}{record.message or ''}".rstrip()
    elif isinstance(record, SocketIOUnansweredAck):
        row["nsp"] = record.nsp
        row["id"] = record.id
        row["event"] = _name(record.event)
        row["reason"] = record.reason
    elif isinstance(record, HeartbeatTimeout):
        row["reason"] = record.reason
        row["preview"] = f"waited {record.waited:.3f} s"
    elif isinstance(record, Chunk):
        row["preview"] = hex_preview(record.data) if record.data else ""
    chunk = _chunk_of(record)
    if chunk is not None:
        info: dict[str, Any] = {"seq": chunk.seq, "kind": str(chunk.kind), "type": chunk.type}
        if chunk.http is not None:
            if chunk.http.method:
                info["method"] = chunk.http.method
            if chunk.http.status:
                info["status"] = chunk.http.status
        row["chunk"] = info
    return row


def row_bytes(row: dict[str, Any]) -> int:
    """An estimate of the bytes ``row`` takes (see :mod:`.budgets`)."""
    return ROW_BYTES + text_bytes(
        row.get("sid"), row.get("nsp"), row.get("event"), row.get("preview"), row.get("reason")
    )


def _name(event: Any) -> str:
    if event is None:
        return "?"
    return event if isinstance(event, str) else str(event)


def wanted_in_table(record: Record) -> bool:
    """Session summaries are not packets: they stay out of the packet table."""
    return not isinstance(record, SessionSummary)


class PacketRing:
    """The sampled packet table: rows in ``seq`` order within ``budget`` bytes.

    At most ``per_second`` rows enter per second of capture time; the others are counted in
    ``sampled_out``. ``seq`` numbers rows consecutively, so a reader can ask for the rows
    after the last one it has.
    """

    def __init__(self, budget: int, per_second: int) -> None:
        self.budget = budget
        self.per_second = per_second
        self.rows: deque[dict[str, Any]] = deque()
        self._sizes: deque[int] = deque()
        self.bytes = 0
        self.next_seq = 1
        self.sampled_out = 0
        self._second = -1
        self._in_second = 0

    def admit(self, ts: float) -> bool:
        """Whether a record at ``ts`` gets a row (the per-second sampling)."""
        second = int(ts)
        if second != self._second:
            self._second = second
            self._in_second = 0
        if self._in_second >= self.per_second:
            self.sampled_out += 1
            return False
        self._in_second += 1
        return True

    def append(self, row: dict[str, Any]) -> None:
        size = row_bytes(row)
        self.rows.append(row)
        self._sizes.append(size)
        self.bytes += size
        self.next_seq += 1
        while self.bytes > self.budget and len(self.rows) > 1:
            self.rows.popleft()
            self.bytes -= self._sizes.popleft()


class Timeline:
    """One session's rows: the first ``_TIMELINE_HEAD`` (handshake, upgrade) and the last
    ``_TIMELINE_TAIL``; ``skipped`` counts those in between."""

    __slots__ = ("bytes", "head", "skipped", "tail")

    def __init__(self) -> None:
        self.head: list[dict[str, Any]] = []
        self.tail: deque[dict[str, Any]] = deque(maxlen=_TIMELINE_TAIL)
        self.skipped = 0
        self.bytes = 0

    def add(self, row: dict[str, Any]) -> int:
        """Keep ``row``; returns the change in bytes."""
        size = row_bytes(row)
        if len(self.head) < _TIMELINE_HEAD:
            self.head.append(row)
            self.bytes += size
            return size
        if len(self.tail) == self.tail.maxlen:
            dropped = row_bytes(self.tail[0])
            self.skipped += 1
            self.bytes -= dropped
            self.tail.append(row)
            self.bytes += size
            return size - dropped
        self.tail.append(row)
        self.bytes += size
        return size

    def rows(self) -> list[dict[str, Any]]:
        return [*self.head, *self.tail]


class Timelines:
    """Timelines of the sessions that opened most recently, within ``budget`` bytes.

    A session gets a timeline when it opens (:meth:`follow`), taking the place of the least
    recently active one when ``budget // TIMELINE_BYTES`` are followed; only followed
    sessions cost a row per record, so 10,000 busy sessions cost no more than a hundred.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.limit = max(1, budget // TIMELINE_BYTES)
        self.bytes = 0
        self.sessions: OrderedDict[str, Timeline] = OrderedDict()
        self.evicted = 0

    def follow(self, sid: str) -> None:
        if sid in self.sessions:
            return
        while len(self.sessions) >= self.limit:
            self._evict()
        self.sessions[sid] = Timeline()

    def add(self, sid: str, row: dict[str, Any]) -> None:
        """Add ``row`` to ``sid``'s timeline (which must be followed)."""
        timeline = self.sessions[sid]
        self.sessions.move_to_end(sid)
        self.bytes += timeline.add(row)
        while self.bytes > self.budget and len(self.sessions) > 1:
            self._evict()

    def _evict(self) -> None:
        _, oldest = self.sessions.popitem(last=False)
        self.bytes -= oldest.bytes
        self.evicted += 1

    def get(self, sid: str) -> dict[str, Any] | None:
        timeline = self.sessions.get(sid)
        if timeline is None:
            return None
        return {"rows": timeline.rows(), "skipped": timeline.skipped}
