"""One bounded table of sessions per pipeline, shared by its layers, classifiers and sinks.

A *session* is what a layer that owns sessions says it is (the Engine.IO layer: its ``sid``);
records name theirs in ``record.sid``, and records of no known session are counted with
their connection (:func:`session_key`). Every component that keeps something per session
keeps it in the pipeline's :class:`SessionStore` (``DecodeContext.sessions``), under a name
of its own, instead of a table of its own:

* :meth:`SessionStore.session` finds or starts a session (the most recently used last);
  :meth:`Session.charge` tells the store how many bytes a component holds for it;
* the store is bounded by the number of sessions and by the bytes they hold together; past
  either bound the least recently used sessions end early (:attr:`SessionEnd.evicted`);
  a later record of an evicted session starts a *continuation* of it
  (:attr:`Session.resumed`), which components do not count as a new session;
* a session *ends* when the layer that owns it says so (a decoder's optional
  ``ends_session``: the Engine.IO ``close``), when it is evicted, or when the input ends
  (``"input ended"``). The pipeline then calls, in pipeline order, the optional
  ``session_ended(session, ending)`` of every layer stream, classifier state and sink, which
  report what the session still held (unanswered acks, a session summary) and let it go.

Nothing here is protocol-specific: the store knows keys, bytes and ends.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Protocol

import attrs

from .model import Record

#: Bytes counted for a session besides what components charge (its object, key and slot).
SESSION_OVERHEAD = 400

DEFAULT_MAX_SESSIONS = 100_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # as Limits.max_state_bytes
#: The bytes the memory of evicted sessions' keys may take (as Limits.max_evicted_bytes):
#: about 35,000 keys of 20 characters (an Engine.IO sid), 120 bytes each.
DEFAULT_MAX_EVICTED_BYTES = 4 * 1024 * 1024

#: Bytes counted for remembering that a session ended (besides its key's length).
TOMBSTONE_OVERHEAD = 100
#: The share of ``max_bytes`` the memory of ended sessions may take.
TOMBSTONE_SHARE = 16

#: The reasons of the ends the store itself decides.
EVICTED_COUNT = "evicted (too many sessions)"
EVICTED_BYTES = "evicted (state over budget)"
INPUT_ENDED = "input ended"


class StoreLimits(Protocol):
    """The bounds of a :class:`SessionStore` (:class:`ioproto.contexts.Limits` has them)."""

    @property
    def max_sessions(self) -> int: ...
    @property
    def max_state_bytes(self) -> int: ...
    @property
    def max_evicted_bytes(self) -> int: ...


class EndedKeys:
    """A bounded memory of keys whose sessions ended: at most ``max_keys`` of them and
    ``max_bytes`` (:data:`TOMBSTONE_OVERHEAD` plus a string key's length each), the oldest
    forgotten first (the newest is always kept). It also counts how many times each key
    was added (:meth:`times`)."""

    __slots__ = ("_cost", "_keys", "max_bytes", "max_keys")

    def __init__(self, max_keys: int, max_bytes: int) -> None:
        self.max_keys = max(1, max_keys)
        self.max_bytes = max(TOMBSTONE_OVERHEAD, max_bytes)
        #: each key remembered -> the times it was added
        self._keys: dict[Hashable, int] = {}
        self._cost = 0

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def cost(self) -> int:
        """The bytes the keys are counted for."""
        return self._cost

    def times(self, key: Hashable) -> int:
        """How many times ``key`` was added (0: not remembered, or forgotten)."""
        return self._keys.get(key, 0)

    def add(self, key: Hashable) -> None:
        """Remember ``key`` (already remembered: it is counted once more, and keeps its
        place), forgetting the oldest keys beyond the bounds."""
        keys = self._keys
        if key in keys:
            keys[key] += 1
            return
        keys[key] = 1
        self._cost += _key_cost(key)
        while len(keys) > self.max_keys or (self._cost > self.max_bytes and len(keys) > 1):
            oldest = next(iter(keys))
            del keys[oldest]
            self._cost -= _key_cost(oldest)

    def clear(self) -> None:
        """Forget every key."""
        self._keys.clear()
        self._cost = 0


def _key_cost(key: Hashable) -> int:
    return TOMBSTONE_OVERHEAD + (len(key) if isinstance(key, str) else 0)


#: How :func:`session_key` begins the key of a session the capture never named.
CONNECTION_KEY = "conn:"


def session_key(record: Record) -> str | None:
    """The key of ``record``'s session: its ``sid``, else ``"conn:"`` and its connection (a
    session the capture never named), else ``None``."""
    if record.sid is not None:
        return record.sid
    if record.connection is not None:
        return CONNECTION_KEY + record.connection
    return None


def is_sid_key(key: Hashable) -> bool:
    """Whether ``key`` is a session id (:func:`session_key`: not a connection's key)."""
    return isinstance(key, str) and not key.startswith(CONNECTION_KEY)


@attrs.frozen(slots=True)
class SessionEnd:
    """Why and when a session ended: ``reason`` is ``"closed"`` (or another word of the layer
    that ended it), :data:`EVICTED_COUNT`, :data:`EVICTED_BYTES` or :data:`INPUT_ENDED`;
    ``record`` is the record that ended it (the Engine.IO ``close``), if one did; ``ts`` the
    time it ended."""

    @property
    def evicted(self) -> bool:
        """Whether the store ended it early, to stay within its bounds."""
        return self.reason in (EVICTED_COUNT, EVICTED_BYTES)

    key: Hashable
    ts: float
    reason: str
    record: Record | None = None


class Session:
    """One session's state: what each component keeps for it, by the component's name.

    ``cost`` is the bytes the components said they hold (see :meth:`charge`).
    ``evictions`` is how many times the store had evicted a session of this key before this
    one started (as far as its memory of evicted keys goes): more than 0, this session
    continues an evicted one (:attr:`resumed`), and what was kept for it before its
    eviction is gone.
    """

    __slots__ = ("cost", "evictions", "key", "last_ts", "origin", "seq", "state", "store")

    def __init__(
        self, key: Hashable, store: SessionStore, ts: float, seq: int, evictions: int = 0
    ) -> None:
        self.key = key
        self.seq = seq  # the order sessions began in
        self.evictions = evictions
        #: where in the input it began (the store's ``origin`` then): a sharded run
        #: (ioproto.shard) orders sessions of different workers by it
        self.origin = store.origin
        self.state: dict[str, Any] = {}
        self.cost = SESSION_OVERHEAD
        self.last_ts = ts
        self.store = store

    @property
    def resumed(self) -> bool:
        """Whether this session continues one the store evicted (it is not a new session:
        count it once, with the evicted one)."""
        return self.evictions > 0

    def get(self, name: str) -> Any:
        """What component ``name`` keeps for this session, or ``None``."""
        return self.state.get(name)

    def put(self, name: str, value: Any) -> None:
        """Keep ``value`` for component ``name``."""
        self.state[name] = value

    def charge(self, size: int) -> None:
        """``size`` more bytes held for this session (negative: released). Past the store's
        byte bound, other sessions (least recently used first) end early."""
        self.cost += size
        store = self.store
        store.cost += size
        if size > 0 and store.cost > store.max_bytes and store.sessions.get(self.key) is self:
            store.shrink(self)


class SessionStore:
    """The sessions of one pipeline (see the module docstring).

    ``max_sessions`` and ``max_bytes`` bound it; ``cost`` is the bytes held by all sessions
    together; ``ended`` lists the sessions that ended and whose end the pipeline has not yet
    announced, oldest first.

    The store also remembers the keys of the sessions that ended (:meth:`has_ended`), so
    that a record arriving after its session's end (a poll answered with ``noop`` after the
    ``close``) is known as late rather than taken for a new session. That memory is bounded
    too: at most ``max_sessions`` keys and ``max_bytes / 16`` bytes, oldest forgotten first.

    The keys of evicted sessions are remembered apart, in ``max_evicted_bytes``
    (:data:`TOMBSTONE_OVERHEAD` plus the key's length each; not bounded by
    ``max_sessions``, which would forget them as fast as it evicts): a session of such a key
    that starts again is a continuation (:attr:`Session.resumed`, :meth:`evictions`), not a
    new session. ``evicted`` counts the evictions.
    """

    def __init__(
        self,
        *,
        max_sessions: int = DEFAULT_MAX_SESSIONS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_evicted_bytes: int = DEFAULT_MAX_EVICTED_BYTES,
    ) -> None:
        self.max_sessions = max(1, max_sessions)
        self.max_bytes = max(SESSION_OVERHEAD, max_bytes)
        self.sessions: dict[Hashable, Session] = {}
        self.cost = 0
        self.ended: list[tuple[Session, SessionEnd]] = []
        #: the position in the input being decoded, which new sessions take as their
        #: ``origin``; stays 0 unless a sharded run (ioproto.shard) sets it
        self.origin = 0
        self._started = 0
        self._tombstones = EndedKeys(self.max_sessions, self.max_bytes // TOMBSTONE_SHARE)
        self._evicted = EndedKeys(max_evicted_bytes // TOMBSTONE_OVERHEAD, max_evicted_bytes)
        self.evicted = 0

    @classmethod
    def bounded_by(cls, limits: StoreLimits) -> SessionStore:
        """A store bounded by ``limits``' ``max_sessions``, ``max_state_bytes`` and
        ``max_evicted_bytes``."""
        return cls(
            max_sessions=limits.max_sessions,
            max_bytes=limits.max_state_bytes,
            max_evicted_bytes=limits.max_evicted_bytes,
        )

    def __len__(self) -> int:
        return len(self.sessions)

    def get(self, key: Hashable) -> Session | None:
        """The session of ``key`` if it is open (nothing is started)."""
        return self.sessions.get(key)

    def session(self, key: Hashable, ts: float) -> Session:
        """The session of ``key``, started if needed, now the most recently used."""
        sessions = self.sessions
        session = sessions.pop(key, None)
        if session is None:
            if len(sessions) >= self.max_sessions:
                self.end(next(iter(sessions)), ts, EVICTED_COUNT)
            self._started += 1
            session = Session(key, self, ts, self._started, self._evicted.times(key))
            self.cost += session.cost
        sessions[key] = session
        session.last_ts = ts
        if self.cost > self.max_bytes:
            self.shrink(session)
        return session

    def shrink(self, keep: Session) -> None:
        """End the least recently used sessions other than ``keep`` until the bytes fit."""
        while self.cost > self.max_bytes and len(self.sessions) > 1:
            key = next(iter(self.sessions))
            if self.sessions[key] is keep:
                key = next(k for k, s in self.sessions.items() if s is not keep)
            self.end(key, keep.last_ts, EVICTED_BYTES)

    def end(self, key: Hashable, ts: float, reason: str, record: Record | None = None) -> None:
        """End the session of ``key`` (if open): it leaves the store, and its end waits in
        :attr:`ended` for the pipeline to announce."""
        session = self.sessions.pop(key, None)
        if session is not None:
            self.cost -= session.cost
            end = SessionEnd(key, ts, reason, record)
            self.ended.append((session, end))
            self._tombstones.add(key)
            if end.evicted:
                self.evicted += 1
                self._evicted.add(key)

    def has_ended(self, key: Hashable) -> bool:
        """Whether a session of ``key`` ended (as far as the bounded memories of ends and
        of evictions go)."""
        return key in self._tombstones or key in self._evicted

    def evictions(self, key: Hashable) -> int:
        """How many times sessions of ``key`` were evicted (as far as that memory goes)."""
        return self._evicted.times(key)

    def end_all(self, ts: float, reason: str = INPUT_ENDED) -> None:
        """End every open session, in the order they began (their ``origin``, then ``seq``:
        a sharded worker may start a session later than one that began after it)."""
        ordered = sorted(self.sessions.values(), key=lambda session: (session.origin, session.seq))
        for session in ordered:
            self.end(session.key, ts, reason)

    def take_ended(self) -> list[tuple[Session, SessionEnd]]:
        """The ends not yet announced (and forget them)."""
        ended, self.ended = self.ended, []
        return ended
