"""Items kept in the order they come within a memory budget (:class:`Spool`), what it and
:mod:`.ordering`'s time order share (:class:`Runs`: items held up to a budget, runs on disk
past it), and the pickled runs written to temporary files (:func:`write_run`,
:func:`read_run`).

A run is pickled in batches (records pickle as their class's maker and their fields'
values): one unpickling per batch, and a batch's items share what they shared before (a
WebSocket entry's messages, their HTTP message and its headers).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any, Self

#: What a spool's items held in memory may take, as their adder counts them.
BUDGET = 16 << 20

#: Items pickled together.
_BATCH = 256


def write_run(items: list[Any]) -> IO[bytes] | None:
    """``items`` written to a temporary file of their own, rewound for :func:`read_run`;
    ``None`` where no file can be written (a full disk, no temporary directory)."""
    try:
        run = tempfile.TemporaryFile(prefix="ioproto-har-")  # noqa: SIM115 (the caller closes it)
    except OSError:
        return None
    try:
        pickler = pickle.Pickler(run, protocol=pickle.HIGHEST_PROTOCOL)
        for start in range(0, len(items), _BATCH):
            pickler.dump(items[start : start + _BATCH])
            pickler.clear_memo()  # each batch read back alone
        run.flush()
        run.seek(0)
    except OSError:
        run.close()
        return None
    return run


def read_run(run: IO[bytes]) -> Iterator[Any]:
    """The items of a run that :func:`write_run` wrote, in order."""
    while True:
        try:
            # An unpickler per batch: one unpickler's memo keeps every object it has read.
            batch = pickle.load(run)
        except EOFError:
            return
        yield from batch


class Runs:
    """Items held in memory while their sizes (as the adder counts them) stay within a
    budget, and written to temporary files, a run at a time, past it: what :class:`Spool`
    and :class:`~.ordering.TimeOrder` share. Where no file can be written, the items stay in
    memory and the budget doubles before the next try: they are kept, at the cost of memory.

    Use as a context manager: :meth:`close` removes the temporary files."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._held: list[Any] = []
        self._held_bytes = 0
        self._runs: list[IO[bytes]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _hold(self, item: Any, size: int) -> None:
        self._held.append(item)
        self._held_bytes += size
        if self._held_bytes > self._budget:
            self._spill()

    def _spill(self) -> None:
        """Write the items held to a run of their own (as :meth:`_arrange` leaves them)."""
        self._arrange(self._held)
        run = write_run(self._held)
        if run is None:
            self._budget *= 2
            return
        self._runs.append(run)
        self._held = []
        self._held_bytes = 0

    def _arrange(self, held: list[Any]) -> None:
        """Put the items held in a run's order before it is written (as they are, here)."""

    def close(self) -> None:
        """Drop the items and remove the temporary files."""
        for run in self._runs:
            run.close()
        self._runs.clear()
        self._held = []
        self._held_bytes = 0


class Spool(Runs):
    """Items appended one at a time and read back once, in the order appended, within a
    memory budget (:class:`Runs`)."""

    def __init__(self, budget: int | None = None) -> None:
        super().__init__(BUDGET if budget is None else budget)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, item: Any, size: int) -> None:
        self._count += 1
        self._hold(item, size)

    def __iter__(self) -> Iterator[Any]:
        """The items in the order appended; once only."""
        for run in self._runs:
            yield from read_run(run)
        yield from self._held

    def close(self) -> None:
        super().close()
        self._count = 0
