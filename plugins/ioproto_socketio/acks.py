"""Ack pairing and per-session state for Socket.IO parsers. Public API.

Every Socket.IO parser (the default text parser of this plugin, ``ioproto_msgpack``'s
msgpack parser, a third-party one) has to do the same bookkeeping once it has made a
:class:`~ioproto_socketio.records.SocketIOPacket`:

* an EVENT with an ``id`` waits for the ACK with the same namespace and id travelling the
  other way; the ACK's ``answers`` field links to it;
* an EVENT still waiting when its session ends (the Engine.IO ``close``), when the input
  ends, or when its slot is reused becomes a
  :class:`~ioproto_socketio.records.SocketIOUnansweredAck` record;
* all of it is bounded by :class:`ioproto.components.Limits`, in entries and in bytes: at
  most ``max_sessions`` sessions and ``max_state_bytes`` bytes of state in all of them (the
  oldest session is forgotten first, with an error record if it still waited for
  something), ``max_pending`` pending acks and ``max_pending_bytes`` bytes of state per
  session (the oldest pending ack is forgotten, with an error record).

A pending ack keeps an :class:`~ioproto_socketio.records.AckRequest`, not the EVENT: its
arguments and the records below it are free to go as soon as the EVENT has been emitted.
Each session has a ``cost``: the estimated bytes of its state (:data:`ENTRY_COST` per
pending ack plus its event name and namespace, :data:`SESSION_COST` for the session, plus
whatever a subclass charges with :meth:`AckBook.charge`); the book keeps the sum.

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

Error rules (layer ``socketio``): ``socketio.state.too-many-pending-acks`` (a session over
``max_pending`` or ``max_pending_bytes``), ``socketio.state.too-many-sessions`` (over
``max_sessions``) and ``socketio.state.over-budget`` (all sessions over
``max_state_bytes``). Nothing here raises on any record.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from ioproto.components import Limits
from ioproto.fastrecords import positional_maker
from ioproto.model import Record, error_from

from .records import LAYER, AckRequest, SocketIOPacket, SocketIOUnansweredAck

__all__ = [
    "ENTRY_COST",
    "NAMES_V4",
    "NAMES_V5",
    "SESSION_COST",
    "AckBook",
    "AckSession",
    "key_size",
    "opposite",
    "session_key",
    "unanswered",
]

#: Estimated bytes of one pending ack besides its strings: the AckRequest, its key and its
#: table slot (measured with tracemalloc, tests/socketio/test_sio_budget.py).
ENTRY_COST = 400
#: Estimated bytes of one session's state object and its tables.
SESSION_COST = 1000

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

#: (namespace, ack id) → what is kept of the EVENT waiting for that ack.
Pending = dict[tuple[str, int], AckRequest]


def session_key(record: Record) -> Hashable:
    """The key of ``record``'s session: its Engine.IO ``sid``, else its connection."""
    return record.sid if record.sid is not None else record.connection


def opposite(direction: str | None) -> str | None:
    """``"c2s"`` ↔ ``"s2c"``; ``None`` stays ``None``."""
    return _OPPOSITE.get(direction)


class AckSession:
    """What one session waits for: EVENTs pending an ack, per direction.

    Subclass (keeping ``__slots__``) to keep more per-session state; override
    :meth:`waiting` and :meth:`flush` to include it, and charge its bytes to ``cost``
    through :meth:`AckBook.charge`. ``cost`` is the estimated bytes of the session's state.
    """

    __slots__ = ("acks", "cost", "pending")

    def __init__(self) -> None:
        self.acks: dict[str | None, Pending] = {}
        self.pending = 0
        self.cost = SESSION_COST

    def waiting(self) -> bool:
        """Whether forgetting this session loses something worth an error record."""
        return self.pending > 0

    def flush(self, ts: float, closing: Record | None, reason: str, out: list[Record]) -> None:
        """Append records for what the session still waits for (before its unanswered acks).

        The base class has nothing to add; :meth:`AckBook.flush` then reports the acks.
        """


S = TypeVar("S", bound=AckSession)


def key_size(key: Hashable) -> int:
    """Estimated bytes of a session key beyond what :data:`SESSION_COST` counts."""
    return len(key) if isinstance(key, str) else 0


def _entry_cost(request: AckRequest) -> int:
    event = request.event
    return ENTRY_COST + len(request.nsp) + (len(event) if isinstance(event, str) else 0)


def unanswered(
    event: AckRequest, ts: float, closing: Record | None, reason: str
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
        id=event.id,
        event=event.event,
        event_ts=event.ts,
        reason=reason,
        request=event,
    )


class AckBook(Generic[S]):
    """Sessions with their pending acks, bounded. See the module docstring.

    ``session_factory`` makes a new session object (:class:`AckSession` or a subclass).
    ``sessions`` maps :func:`session_key` → session, oldest first; a parser may read it and
    create sessions through :meth:`session`. ``cost`` is the sum of the sessions' costs.
    """

    def __init__(
        self,
        limits: Limits,
        session_factory: Callable[[], S] = AckSession,  # type: ignore[assignment]
    ) -> None:
        self._factory = session_factory
        self._max_pending = max(1, limits.max_pending)
        self._max_sessions = max(1, limits.max_sessions)
        self.max_state_bytes = max(SESSION_COST, limits.max_state_bytes)
        #: what one session may hold (never more than all sessions together)
        self.max_pending_bytes = min(
            max(SESSION_COST, limits.max_pending_bytes), self.max_state_bytes
        )
        self.sessions: dict[Hashable, S] = {}
        self.cost = 0

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
            self._forget_oldest(
                record,
                out,
                "socketio.state.too-many-sessions",
                f"more than {self._max_sessions} sessions with state",
                "session forgotten (too many sessions)",
            )
        session = self.sessions[key] = self._factory()
        session.cost += key_size(key)
        self.cost += session.cost
        if self.cost > self.max_state_bytes:
            self._shrink(record, session, out)
        return session

    def charge(self, record: Record, session: S, size: int, out: list[Record]) -> None:
        """Add ``size`` bytes (negative: release) to ``session``'s cost and the book's.

        When all sessions together go over ``max_state_bytes``, the oldest other sessions are
        forgotten (error records and their unanswered acks into ``out``) until they fit.
        """
        session.cost += size
        self.cost += size
        if size > 0 and self.cost > self.max_state_bytes:
            self._shrink(record, session, out)

    def _shrink(self, record: Record, keep: S, out: list[Record]) -> None:
        while self.cost > self.max_state_bytes and len(self.sessions) > 1:
            oldest = next(iter(self.sessions.values()))
            if oldest is keep:
                # the session being charged is the oldest: forget the next one instead
                key = next(k for k, s in self.sessions.items() if s is not keep)
            else:
                key = next(iter(self.sessions))
            self._forget(
                key,
                record,
                out,
                "socketio.state.over-budget",
                f"the state of all sessions is over {self.max_state_bytes} bytes",
                "session forgotten (state over budget)",
            )

    def _forget_oldest(
        self, record: Record, out: list[Record], rule: str, why: str, reason: str
    ) -> None:
        self._forget(next(iter(self.sessions)), record, out, rule, why, reason)

    def _forget(
        self, key: Hashable, record: Record, out: list[Record], rule: str, why: str, reason: str
    ) -> None:
        session = self.sessions.pop(key)
        self.cost -= session.cost
        if session.waiting():
            out.append(
                error_from(record, layer=LAYER, rule=rule, reason=f"{why}: forgot session {key!r}")
            )
            self.flush(session, record.ts, None, reason, out)

    def answered(self, record: Record, nsp: str, ack_id: int) -> AckRequest | None:
        """What was kept of the EVENT that ACK ``record`` (namespace ``nsp``, id ``ack_id``)
        answers, if seen.

        The EVENT stops waiting. ``record`` is the ACK's parent (for its session and
        direction).
        """
        session = self.sessions.get(session_key(record))
        if session is None:
            return None
        acks = session.acks.get(_OPPOSITE.get(record.direction))
        if not acks:
            return None
        request = acks.pop((nsp, ack_id), None)
        if request is not None:
            session.pending -= 1
            cost = _entry_cost(request)
            session.cost -= cost
            self.cost -= cost
        return request

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

        Keeps an :class:`~ioproto_socketio.records.AckRequest` of ``packet``. Appends to
        ``out`` an unanswered-ack record if ``packet`` reuses a pending slot, and an error
        record for each pending ack forgotten because the session went over ``max_pending``
        or ``max_pending_bytes`` (and what :meth:`charge` reports).
        """
        session = self.session(record, out)
        acks = session.acks.get(record.direction)
        if acks is None:
            acks = session.acks[record.direction] = {}
        request = AckRequest.of(packet)
        slot = (request.nsp, request.id)
        replaced = acks.pop(slot, None)
        if replaced is not None:
            session.pending -= 1
            self.charge(record, session, -_entry_cost(replaced), out)
            out.append(unanswered(replaced, record.ts, None, "ack id reused"))
        acks[slot] = request
        session.pending += 1
        session.cost += _entry_cost(request)
        self.cost += _entry_cost(request)
        while session.pending > self._max_pending or (
            session.cost > self.max_pending_bytes and session.pending > 0
        ):
            biggest = max(session.acks.values(), key=len)
            oldest = biggest.pop(next(iter(biggest)))
            session.pending -= 1
            cost = _entry_cost(oldest)
            session.cost -= cost
            self.cost -= cost
            limit = (
                f"{self._max_pending} unanswered acks"
                if session.pending >= self._max_pending
                else f"{self.max_pending_bytes} bytes of state"
            )
            out.append(
                error_from(
                    record,
                    layer=LAYER,
                    rule="socketio.state.too-many-pending-acks",
                    reason=f"more than {limit} in this session: "
                    f"forgot the event {oldest.event!r} (nsp {oldest.nsp}, id {oldest.id})",
                )
            )
        if self.cost > self.max_state_bytes:
            self._shrink(record, session, out)

    def end_session(self, closing: Record, out: list[Record]) -> S | None:
        """Forget ``closing``'s session, reporting what it waited for ("session closed")."""
        session = self.sessions.pop(session_key(closing), None)
        if session is not None:
            self.cost -= session.cost
            self.flush(session, closing.ts, closing, "session closed", out)
        return session

    def flush(
        self, session: S, ts: float, closing: Record | None, reason: str, out: list[Record]
    ) -> None:
        """Report and clear what ``session`` waits for: its own state, then unanswered acks.

        ``session`` must no longer be in :attr:`sessions` (its cost has been taken off).
        """
        session.flush(ts, closing, reason, out)
        for acks in session.acks.values():
            for request in acks.values():
                out.append(unanswered(request, ts, closing, reason))
        session.acks.clear()
        session.pending = 0
        session.cost = SESSION_COST

    def close(self, ts: float, out: list[Record]) -> None:
        """End of input: report every session's pending state ("input ended") and forget all."""
        sessions, self.sessions = self.sessions, {}
        self.cost = 0
        for session in sessions.values():
            self.flush(session, ts, None, "input ended", out)
