"""Records put in time order within a memory budget (:class:`TimeOrder`).

A HAR's records come out sorted by time, and the last entry may hold the first message.
Sorting them in memory held every record of the file at once; here a run of records up to
the budget is sorted and written to a temporary file (:func:`.spool.write_run`), and the
runs are merged as they are read back, so that memory holds one run and one batch of each
written run. A file whose records fit in
the budget is sorted in memory, as before.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from .spool import Runs, read_run

#: What the records held in memory may take, as estimated by :func:`_size`.
BUDGET = 32 << 20
#: What a record costs besides its bytes (its object, fields, key), as a round figure.
_OVERHEAD = 512

_Key = tuple[float, int]


class TimeOrder(Runs):
    """Records added with their time, given back sorted by it (ties in the order added),
    within a memory budget (:class:`~.spool.Runs`: a run is sorted before it is written).

    Use as a context manager: :meth:`close` removes the temporary files."""

    def __init__(self, budget: int = BUDGET) -> None:
        super().__init__(budget)
        self._added = 0
        self._last_http: object = None

    def __len__(self) -> int:
        return self._added

    def add(self, ts: float, record: Any) -> None:
        self._hold(((ts, self._added), record), self._size(record))
        self._added += 1

    def __iter__(self) -> Iterator[Any]:
        """The records in time order; once only."""
        self._held.sort(key=_key)
        if not self._runs:
            for _, record in self._held:
                yield record
            return
        streams = [read_run(run) for run in self._runs]
        for _, record in heapq.merge(*streams, iter(self._held), key=_key):
            yield record

    def _arrange(self, held: list[Any]) -> None:
        held.sort(key=_key)

    def _size(self, record: Any) -> int:
        """About what ``record`` holds: its bytes, and its HTTP headers unless the record
        added just before shares them (a WebSocket entry's messages do)."""
        size = _OVERHEAD + len(getattr(record, "data", b"") or b"")
        size += len(getattr(record, "raw", b"") or b"")
        http = getattr(record, "http", None)
        if http is not None and http is not self._last_http:
            self._last_http = http
            size += sum(len(name) + len(value) + 100 for name, value in http.headers)
        return size


def _key(item: tuple[_Key, Any]) -> _Key:
    return item[0]
