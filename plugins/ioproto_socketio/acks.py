"""Ack pairing and per-session state for Socket.IO parsers. Public API.

Every Socket.IO parser (the default text parser of this plugin, ``ioproto_msgpack``'s
msgpack parser, a third-party one) has to do the same bookkeeping once it has made a
:class:`~ioproto_socketio.records.SocketIOPacket`:

* an EVENT with an ``id`` waits for the ACK with the same namespace and id travelling the
  other way; the ACK's ``answers`` field links to it;
* an EVENT still waiting when its session ends (the Engine.IO ``close``), when the input
  ends, or when its slot is reused becomes a
  :class:`~ioproto_socketio.records.SocketIOUnansweredAck` record;
* all of it is bounded by :class:`ioproto.components.Limits`: at most ``max_sessions``
  sessions (the oldest is forgotten first, with an error record if it still waited for
  something) and ``max_pending`` pending acks per session (the oldest is forgotten, with an
  error record).

:class:`AckBook` does exactly that, keyed by :func:`session_key` (the Engine.IO ``sid``,
falling back to the connection) and by direction. A parser with more per-session state
(partial binary packets, say) subclasses :class:`AckSession` and passes the subclass as
``session_factory``, overriding :meth:`AckSession.waiting` and :meth:`AckSession.flush` so
that eviction and session end report its own state too.

Use from a parser's stream: once it has decoded a packet, :meth:`AckBook.emit` makes the
record (the one way Socket.IO records are built, whichever parser decoded the packet),
pairs an ACK with its EVENT and has an EVENT with an id wait for its ACK::

    book = AckBook(context.limits)
    ...
    book.emit(record, out, wire_type=2, revision=5, nsp="/", ack_id=7, data=["chat", "hi"],
              raw=b'427["chat","hi"]')
    ...
    # on the Engine.IO close record:
    out = [close_record]; book.end_session(close_record, out)
    # at the end of the input:
    book.close(last_ts, out)

Error rules (layer ``socketio``): ``socketio.state.too-many-pending-acks`` and
``socketio.state.too-many-sessions``. Nothing here raises on any record.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from ioproto.components import Limits
from ioproto.fastrecords import positional_maker
from ioproto.model import Record, error_from

from .records import LAYER, SocketIOPacket, SocketIOUnansweredAck

__all__ = [
    "NAMES_V4",
    "NAMES_V5",
    "AckBook",
    "AckSession",
    "opposite",
    "session_key",
    "unanswered",
]

_OPPOSITE: dict[str | None, str | None] = {"c2s": "s2c", "s2c": "c2s", None: None}

#: Packet type names by wire type, protocol revision 5 (Socket.IO 3+) and 4 (Socket.IO 2).
NAMES_V5 = ("CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "EVENT", "ACK")
NAMES_V4 = ("CONNECT", "DISCONNECT", "EVENT", "ACK", "ERROR", "EVENT", "ACK")

#: The fields of a SocketIOPacket in the order the fast record maker takes them.
PACKET_FIELDS = (
    "ts",
    "connection",
    "direction",
    "sid",
    "transport",
    "parent",
    "type",
    "data",
    "revision",
    "raw",
    "notes",
    "wire_type",
    "nsp",
    "id",
    "event",
    "args",
    "attachments",
    "query",
    "answers",
    "attachment_records",
)
_make_packet = positional_maker(SocketIOPacket, PACKET_FIELDS)

#: (namespace, ack id) → the EVENT waiting for that ack.
Pending = dict[tuple[str, int], SocketIOPacket]


def session_key(record: Record) -> Hashable:
    """The key of ``record``'s session: its Engine.IO ``sid``, else its connection."""
    return record.sid if record.sid is not None else record.connection


def opposite(direction: str | None) -> str | None:
    """``"c2s"`` ↔ ``"s2c"``; ``None`` stays ``None``."""
    return _OPPOSITE.get(direction)


class AckSession:
    """What one session waits for: EVENTs pending an ack, per direction.

    Subclass (keeping ``__slots__``) to keep more per-session state; override
    :meth:`waiting` and :meth:`flush` to include it.
    """

    __slots__ = ("acks", "pending")

    def __init__(self) -> None:
        self.acks: dict[str | None, Pending] = {}
        self.pending = 0

    def waiting(self) -> bool:
        """Whether forgetting this session loses something worth an error record."""
        return self.pending > 0

    def flush(self, ts: float, closing: Record | None, reason: str, out: list[Record]) -> None:
        """Append records for what the session still waits for (before its unanswered acks).

        The base class has nothing to add; :meth:`AckBook.flush` then reports the acks.
        """


S = TypeVar("S", bound=AckSession)


def unanswered(
    event: SocketIOPacket, ts: float, closing: Record | None, reason: str
) -> SocketIOUnansweredAck:
    """The record saying that ``event`` got no ack, noticed at ``ts`` (``closing``: why)."""
    return SocketIOUnansweredAck(
        ts=ts,
        connection=event.connection,
        direction=event.direction,
        sid=event.sid,
        transport=event.transport,
        parent=closing,
        revision=event.revision,
        nsp=event.nsp,
        id=event.id if event.id is not None else 0,
        event=event.event,
        event_ts=event.ts,
        reason=reason,
        request=event,
    )


class AckBook(Generic[S]):
    """Sessions with their pending acks, bounded. See the module docstring.

    ``session_factory`` makes a new session object (:class:`AckSession` or a subclass).
    ``sessions`` maps :func:`session_key` → session, oldest first; a parser may read it and
    create sessions through :meth:`session`.
    """

    def __init__(
        self,
        limits: Limits,
        session_factory: Callable[[], S] = AckSession,  # type: ignore[assignment]
    ) -> None:
        self._factory = session_factory
        self._max_pending = max(1, limits.max_pending)
        self._max_sessions = max(1, limits.max_sessions)
        self.sessions: dict[Hashable, S] = {}

    def get(self, record: Record) -> S | None:
        """``record``'s session if it has state, else ``None`` (nothing is created)."""
        return self.sessions.get(session_key(record))

    def session(self, record: Record, out: list[Record]) -> S:
        """``record``'s session, created if needed (possibly evicting the oldest into ``out``)."""
        key = session_key(record)
        session = self.sessions.get(key)
        if session is not None:
            return session
        # A session's state object is kept until its Engine.IO close (creating one per
        # packet would cost more than it saves); past max_sessions the oldest goes, silently
        # if it waits for nothing.
        if len(self.sessions) >= self._max_sessions:
            oldest_key = next(iter(self.sessions))
            oldest = self.sessions.pop(oldest_key)
            if oldest.waiting():
                out.append(
                    error_from(
                        record,
                        layer=LAYER,
                        rule="socketio.state.too-many-sessions",
                        reason=f"more than {self._max_sessions} sessions with state: "
                        f"forgot session {oldest_key!r}",
                    )
                )
                self.flush(oldest, record.ts, None, "session forgotten (too many sessions)", out)
        session = self.sessions[key] = self._factory()
        return session

    def answered(self, record: Record, nsp: str, ack_id: int) -> SocketIOPacket | None:
        """The EVENT that ACK ``record`` (namespace ``nsp``, id ``ack_id``) answers, if seen.

        The EVENT stops waiting. ``record`` is the ACK's parent (for its session and
        direction).
        """
        session = self.sessions.get(session_key(record))
        if session is None:
            return None
        acks = session.acks.get(_OPPOSITE.get(record.direction))
        if not acks:
            return None
        event = acks.pop((nsp, ack_id), None)
        if event is not None:
            session.pending -= 1
        return event

    def emit(
        self,
        record: Record,
        out: list[Record],
        *,
        wire_type: int,
        revision: int,
        nsp: str,
        ack_id: int | None,
        data: Any,
        raw: bytes,
        notes: tuple[str, ...] = (),
        query: str | None = None,
        attachments: int = 0,
        parts: tuple[Record, ...] = (),
    ) -> SocketIOPacket:
        """Append to ``out`` the :class:`SocketIOPacket` of a decoded packet, and return it.

        ``record`` is the Engine.IO record it came from (its parent: time, session,
        direction); ``wire_type`` 0-6 and ``revision`` (4 or 5) name its type; ``data`` is its
        JSON payload, already checked (an EVENT's is a non-empty list: the event name, then
        the arguments; an ACK's a list). An ACK gets the EVENT it answers (``answers``); an
        EVENT with an ``ack_id`` starts waiting for its ACK (:meth:`remember`).
        """
        event = None
        args: list[Any] = []
        if (wire_type == 2 or wire_type == 5) and data:
            event = data[0]
            args = data[1:]
        elif (wire_type == 3 or wire_type == 6) and isinstance(data, list):
            args = data
        answers = None
        if ack_id is not None and (wire_type == 3 or wire_type == 6) and self.sessions:
            answers = self.answered(record, nsp, ack_id)
        packet: SocketIOPacket = _make_packet(
            record.ts,
            record.connection,
            record.direction,
            record.sid,
            record.transport,
            record,
            (NAMES_V5 if revision >= 5 else NAMES_V4)[wire_type],
            data,
            revision,
            raw,
            notes,
            wire_type,
            nsp,
            ack_id,
            event,
            args,
            attachments,
            query,
            answers,
            parts,
        )
        out.append(packet)
        if ack_id is not None and event is not None:
            self.remember(record, packet, out)
        return packet

    def remember(self, record: Record, packet: SocketIOPacket, out: list[Record]) -> None:
        """Start waiting for the ack of EVENT ``packet`` (decoded from ``record``).

        Appends to ``out`` an unanswered-ack record if ``packet`` reuses a pending slot, and
        an error record if the session goes over ``max_pending``.
        """
        session = self.session(record, out)
        acks = session.acks.get(record.direction)
        if acks is None:
            acks = session.acks[record.direction] = {}
        slot = (packet.nsp, packet.id if packet.id is not None else 0)
        replaced = acks.pop(slot, None)
        if replaced is not None:
            session.pending -= 1
            out.append(unanswered(replaced, record.ts, None, "ack id reused"))
        acks[slot] = packet
        session.pending += 1
        if session.pending > self._max_pending:
            biggest = max(session.acks.values(), key=len)
            oldest = biggest.pop(next(iter(biggest)))
            session.pending -= 1
            out.append(
                error_from(
                    record,
                    layer=LAYER,
                    rule="socketio.state.too-many-pending-acks",
                    reason=f"more than {self._max_pending} unanswered acks in this session: "
                    f"forgot the event {oldest.event!r} (nsp {oldest.nsp}, id {oldest.id})",
                )
            )

    def end_session(self, closing: Record, out: list[Record]) -> S | None:
        """Forget ``closing``'s session, reporting what it waited for ("session closed")."""
        session = self.sessions.pop(session_key(closing), None)
        if session is not None:
            self.flush(session, closing.ts, closing, "session closed", out)
        return session

    def flush(
        self, session: S, ts: float, closing: Record | None, reason: str, out: list[Record]
    ) -> None:
        """Report and clear what ``session`` waits for: its own state, then unanswered acks."""
        session.flush(ts, closing, reason, out)
        for acks in session.acks.values():
            for event in acks.values():
                out.append(unanswered(event, ts, closing, reason))
        session.acks.clear()
        session.pending = 0

    def close(self, ts: float, out: list[Record]) -> None:
        """End of input: report every session's pending state ("input ended") and forget all."""
        sessions, self.sessions = self.sessions, {}
        for session in sessions.values():
            self.flush(session, ts, None, "input ended", out)
