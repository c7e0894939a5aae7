"""Records of one DevTools connection, released in the order of the browser's times.

Two things keep a record back for a moment:

* A few records need one more round trip to the browser (a response body is fetched with
  ``Network.getResponseBody`` when ``loadingFinished`` arrives, a long request body with
  ``Network.getRequestPostData``): such a record *holds* its place until the reply comes. A
  reply takes a millisecond or two; a hold that waits past its deadline, or whose tab went
  away, is finished without its reply (an error record in its place), so output never
  stalls.
* Events may arrive slightly out of the order of their own times (the browser reports
  from several processes: a worker's, a second tab's). Records wait ``window`` seconds
  after they arrived (0.2 s by default) and leave sorted by time; none leaves while a hold
  with an earlier time is pending.

Chunks are numbered (``seq``) as they leave. The bytes of what is kept back are counted
(:attr:`Outbox.size`) for the source's budget.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from ioproto_http.records import Chunk

from ioproto.model import Record

#: Finishes a hold: given the reply's ``result`` (``None`` without one) and an error message
#: (``None`` on success), returns the records that take the hold's place.
Finish = Callable[[Mapping[str, Any] | None, str | None], list[Record]]

#: Default seconds a record waits so that records arriving a little late can go first.
DEFAULT_WINDOW = 0.2


@attrs.define(slots=True, eq=False)
class _Slot:
    records: list[Record] | None
    arrived: float
    ts: float = 0.0
    finish: Finish | None = None
    deadline: float = 0.0
    owner: str | None = None


def record_size(record: Record) -> int:
    """Roughly the bytes a record holds (its data, if any, plus a fixed overhead)."""
    data = getattr(record, "data", b"")
    return 200 + (len(data) if isinstance(data, bytes | str) else 0)


class Outbox:
    """The ordered output of one DevTools connection; see the module docstring."""

    def __init__(self, window: float = DEFAULT_WINDOW) -> None:
        self.window = window
        self._slots: deque[_Slot] = deque()
        self._holds: dict[int, _Slot] = {}
        self._sorting: list[tuple[float, int, float, Record]] = []
        self._order = itertools.count()
        self._seq = 0
        self.size = 0

    def put(self, now: float, *records: Record) -> None:
        """Records that arrived at ``now`` (local time), after everything already here."""
        self.size += sum(record_size(record) for record in records)
        self._slots.append(_Slot(list(records), now))

    def hold(
        self, key: int, finish: Finish, *, now: float, ts: float, deadline: float, owner: str | None
    ) -> None:
        """A place for the records (of time ``ts``) that command ``key``'s reply will give;
        ``owner`` (a DevTools session) lets :meth:`abandon` finish it early."""
        slot = _Slot(None, now, ts, finish, deadline, owner)
        self._slots.append(slot)
        self._holds[key] = slot

    def holds(self, key: int) -> bool:
        """Whether command ``key``'s reply is awaited by a hold."""
        return key in self._holds

    def has_holds(self) -> bool:
        """Whether any record waits for a reply."""
        return bool(self._holds)

    def answer(self, key: int, result: Mapping[str, Any] | None, error: str | None) -> None:
        """Finish the hold of command ``key`` with its reply."""
        slot = self._holds.pop(key, None)
        if slot is not None:
            self._finish(slot, result, error)

    def expire(self, now: float) -> None:
        """Finish, without a reply, every hold whose deadline has passed."""
        for key, slot in list(self._holds.items()):
            if slot.deadline <= now:
                del self._holds[key]
                self._finish(slot, None, "the browser did not answer in time")

    def abandon(self, reason: str, owner: str | None = None) -> None:
        """Finish, without a reply, the holds of session ``owner`` (every hold if ``None``)."""
        for key, slot in list(self._holds.items()):
            if owner is None or slot.owner == owner:
                del self._holds[key]
                self._finish(slot, None, reason)

    def give_up_oldest(self, reason: str) -> bool:
        """Finish the oldest hold without its reply; False if there is none."""
        if not self._holds:
            return False
        key = next(iter(self._holds))
        self._finish(self._holds.pop(key), None, reason)
        return True

    def ready(self, now: float, *, flush: bool = False) -> list[Record]:
        """The records due at ``now`` (every one that can leave, with ``flush``), by time."""
        slots = self._slots
        sorting = self._sorting
        while slots and slots[0].records is not None:
            slot = slots.popleft()
            for record in slot.records or ():
                heapq.heappush(sorting, (record.ts, next(self._order), slot.arrived, record))
        limit = min((slot.ts for slot in self._holds.values()), default=None)
        due = now - self.window
        out: list[Record] = []
        while sorting:
            ts, _, arrived, record = sorting[0]
            if limit is not None and ts > limit:
                break
            if not flush and arrived > due:
                break
            heapq.heappop(sorting)
            self.size -= record_size(record)
            if isinstance(record, Chunk):
                self._seq += 1
                record = attrs.evolve(record, seq=self._seq)
            out.append(record)
        return out

    def _finish(self, slot: _Slot, result: Mapping[str, Any] | None, error: str | None) -> None:
        finish = slot.finish
        slot.finish = None
        records: list[Record] = []
        try:
            if finish is not None:
                records = finish(result, error)
        finally:
            slot.records = records  # never left unfinished, even by a bug (re-raised)
            self.size += sum(record_size(record) for record in records)
