"""Ack pairing and per-session state for Socket.IO parsers. Public API.

Every Socket.IO parser (the default text parser of this plugin, ``ioproto_msgpack``'s
msgpack parser, a third-party one) has to do the same bookkeeping once it has made a
:class:`~ioproto_socketio.records.SocketIOPacket`:

* an EVENT with an ``id`` waits for the ACK with the same namespace and id travelling the
  other way; the ACK's ``answers`` field links to it;
* an EVENT still waiting when its session ends (the Engine.IO ``close``), when the input
  ends, or when its slot is reused becomes a
  :class:`~ioproto_socketio.records.SocketIOUnansweredAck` record;
* all of it is bounded, in entries and in bytes: the session store holds at most
  ``max_sessions`` sessions and ``max_state_bytes`` bytes of state in all of them (the
  least recently used session is forgotten first, with an error record if it still waited
  for something), and a session holds at most ``max_pending`` pending acks and
  ``max_pending_bytes`` bytes of this book's state (the oldest pending ack is forgotten,
  with an error record).

A pending ack keeps an :class:`~ioproto_socketio.records.AckRequest`, not the EVENT: its
arguments and the records below it are free to go as soon as the EVENT has been emitted.
Each session has a ``cost``: the estimated bytes of its state (:data:`ENTRY_COST` per
pending ack plus its event name and namespace, :data:`SESSION_COST` for the session, plus
whatever a subclass charges with :meth:`AckBook.charge`), also charged to the store.

:class:`AckBook` does exactly that, keyed by :func:`ioproto.sessions.session_key` (the
Engine.IO ``sid``, falling back to the connection) and by direction. A parser with more
per-session state (partial binary packets, say) subclasses :class:`AckSession` and passes
the subclass as ``session_factory``, overriding :meth:`AckSession.waiting` and
:meth:`AckSession.flush` so that eviction and session end report its own state too.

Use from a parser's stream: once it has decoded a packet, :meth:`AckBook.emit` makes the
record (the one way Socket.IO records are built, whichever parser decoded the packet),
pairs an ACK with its EVENT and has an EVENT with an id wait for its ACK::

    book = AckBook(context.limits)
    ...
    book.emit(record, out, wire_type=2, revision=5, nsp="/", ack_id=7, data=["chat", "hi"],
              raw=b'427["chat","hi"]')
    ...
    # from the stream's session_ended(session, end):
    return book.session_ended(session, end)

The sessions are those of the pipeline's :class:`~ioproto.sessions.SessionStore`
(``AckBook(limits, store=context.sessions)``): a session ends when the Engine.IO layer
closes it, when the store evicts it, or when the input ends, and the pipeline announces it.

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
from ioproto.model import ErrorRecord, Record, error_from
from ioproto.sessions import (
    EVICTED_BYTES,
    EVICTED_COUNT,
    INPUT_ENDED,
    Session,
    SessionEnd,
    SessionStore,
    is_sid_key,
    session_key,
)

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


def opposite(direction: str | None) -> str | None:
    """``"c2s"`` ↔ ``"s2c"``; ``None`` stays ``None``."""
    return _OPPOSITE.get(direction)


class AckSession:
    """What one session waits for: EVENTs pending an ack, per direction.

    Subclass (keeping ``__slots__``) to keep more per-session state; override
    :meth:`waiting` and :meth:`flush` to include it, and charge its bytes to ``cost``
    through :meth:`AckBook.charge`. ``cost`` is the estimated bytes of the session's state.
    """

    __slots__ = ("acks", "cost", "holder", "pending")

    def __init__(self) -> None:
        self.acks: dict[str | None, Pending] = {}
        self.pending = 0
        self.cost = SESSION_COST
        #: the store's session this state belongs to (charged with this state's bytes)
        self.holder: Session | None = None

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
    """Pending acks of sessions, bounded. See the module docstring.

    The sessions live in a :class:`~ioproto.sessions.SessionStore`: the pipeline's (give
    ``store=context.sessions``), where this book keeps its state under ``name`` and the
    pipeline announces their ends through :meth:`session_ended`; or, without one, a store of
    the book's own, whose ends :meth:`close` reports. ``session_factory`` makes a session's
    state (:class:`AckSession` or a subclass). ``count`` is the number of sessions with state
    in this book.
    """

    def __init__(
        self,
        limits: Limits,
        session_factory: Callable[[], S] = AckSession,  # type: ignore[assignment]
        *,
        store: SessionStore | None = None,
        name: str = "socketio",
    ) -> None:
        self._factory = session_factory
        self._max_pending = max(1, limits.max_pending)
        self.max_state_bytes = max(SESSION_COST, limits.max_state_bytes)
        #: what one session may hold (never more than all sessions together)
        self.max_pending_bytes = min(
            max(SESSION_COST, limits.max_pending_bytes), self.max_state_bytes
        )
        self.own_store = store is None
        self.store = store if store is not None else SessionStore.bounded_by(limits)
        self.name = name
        self.count = 0

    @property
    def cost(self) -> int:
        """The bytes held by every session of the store (this book's and others')."""
        return self.store.cost

    def get(self, record: Record) -> S | None:
        """``record``'s session if it has state, else ``None`` (nothing is created)."""
        holder = self.store.sessions.get(session_key(record))
        return holder.state.get(self.name) if holder is not None else None

    def session(self, record: Record, out: list[Record]) -> S:
        """``record``'s session, created if needed (the store may end older ones: their ends
        are reported when the pipeline announces them)."""
        key = session_key(record)
        holder = self.store.session(key, record.ts)
        state: S | None = holder.state.get(self.name)
        if state is None:
            state = self._factory()
            state.holder = holder
            state.cost += key_size(key)
            holder.state[self.name] = state
            self.count += 1
            holder.charge(state.cost)
        return state

    def charge(self, record: Record, session: S, size: int, out: list[Record]) -> None:
        """Add ``size`` bytes (negative: release) to ``session``'s cost and the store's.

        When all sessions together go over the store's byte bound, the least recently used
        other sessions end early (reported as they are announced).
        """
        session.cost += size
        if session.holder is not None:
            session.holder.charge(size)

    def answered(self, record: Record, nsp: str, ack_id: int) -> AckRequest | None:
        """What was kept of the EVENT that ACK ``record`` (namespace ``nsp``, id ``ack_id``)
        answers, if seen.

        The EVENT stops waiting. ``record`` is the ACK's parent (for its session and
        direction).
        """
        session = self.get(record)
        if session is None:
            return None
        acks = session.acks.get(_OPPOSITE.get(record.direction))
        if not acks:
            return None
        request = acks.pop((nsp, ack_id), None)
        if request is not None:
            session.pending -= 1
            self.charge(record, session, -_entry_cost(request), [])
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
        if ack_id is not None and (wire_type == 3 or wire_type == 6) and self.count:
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
        or ``max_pending_bytes``.
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
        # The session's own bounds first, on its own cost; then the store is told the net
        # change (which may end other sessions to stay within all sessions' bytes).
        net = _entry_cost(request)
        session.cost += net
        while session.pending > self._max_pending or (
            session.cost > self.max_pending_bytes and session.pending > 0
        ):
            biggest = max(session.acks.values(), key=len)
            oldest = biggest.pop(next(iter(biggest)))
            session.pending -= 1
            cost = _entry_cost(oldest)
            session.cost -= cost
            net -= cost
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
        if session.holder is not None:
            session.holder.charge(net)

    def session_ended(self, holder: Session, end: SessionEnd) -> list[Record]:
        """What the ended session ``holder`` still waited for, as records: an error record
        when the store ended it early, then its own state's and its unanswered acks."""
        state: S | None = holder.state.pop(self.name, None)
        if state is None:
            return []
        self.count -= 1
        out: list[Record] = []
        if end.evicted:
            if not state.waiting():
                return out
            rule, why, reason = _EVICTIONS[end.reason]
            out.append(
                ErrorRecord(
                    ts=end.ts,
                    sid=str(holder.key) if is_sid_key(holder.key) else None,
                    layer=LAYER,
                    rule=rule,
                    reason=f"{why}: forgot session {holder.key!r}",
                )
            )
            self.flush(state, end.ts, None, reason, out)
        elif end.reason == INPUT_ENDED:
            self.flush(state, end.ts, None, INPUT_ENDED, out)
        else:
            self.flush(state, end.ts, end.record, "session closed", out)
        return out

    def flush(
        self, session: S, ts: float, closing: Record | None, reason: str, out: list[Record]
    ) -> None:
        """Report and clear what ``session`` waits for: its own state, then unanswered acks."""
        session.flush(ts, closing, reason, out)
        for acks in session.acks.values():
            for request in acks.values():
                out.append(unanswered(request, ts, closing, reason))
        session.acks.clear()
        session.pending = 0
        session.cost = SESSION_COST

    def close(self, ts: float, out: list[Record]) -> None:
        """End of input, for a book with a store of its own: report every session's pending
        state ("input ended"). A pipeline's store is ended and announced by the pipeline."""
        if not self.own_store:
            return
        self.store.end_all(ts)
        for holder, end in self.store.take_ended():
            out.extend(self.session_ended(holder, end))


#: What an eviction by the store is reported as: (rule, why, unanswered reason).
_EVICTIONS = {
    EVICTED_COUNT: (
        "socketio.state.too-many-sessions",
        "more than the limit of sessions with state",
        "session forgotten (too many sessions)",
    ),
    EVICTED_BYTES: (
        "socketio.state.over-budget",
        "the state of all sessions is over its byte budget",
        "session forgotten (state over budget)",
    ),
}
