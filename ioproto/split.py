"""Reading an input once and splitting it between the workers of a sharded run.

Without this, every worker of :mod:`ioproto.shard` reads the whole input and routes its
records (:class:`~ioproto.routing.Router`): the reading is paid once per worker. A source
that can cut its input into small *units* (a capture: its frames) offers ``open_split``
instead; then one *dispatcher* process reads the input, routes each unit to the worker that
owns its connection (the same rule: all connections of an Engine.IO session to one worker),
and each worker decodes only its own units. The protocol:

* ``source.open_split(input, context)`` gives a :class:`SplitReading`;
* in the dispatcher, :meth:`SplitReading.dispatch` reads the input and hands each unit to
  a :class:`UnitSender` with its index (the unit's place in the input: units are numbered
  in input order, skipped ones too may leave gaps) and its owner, decided with a
  :class:`SplitRouter`;
* in each worker, :meth:`SplitReading.decoder` makes a :class:`UnitDecoder` that is fed the
  worker's units in index order and returns the records each made; records are placed in
  the merged output by ``(index, n)``, the n-th record the unit made, and at the end by
  what :meth:`UnitDecoder.finish` says;
* in the parent, :meth:`SplitReading.merge_summaries` makes the input's summary records of
  what each worker's decoder counted (:meth:`UnitDecoder.summary_part`).

A unit made by one worker must make the records it would make in one process: the units
of one connection all go to one worker, in order, and a unit's records belong to its
connection only. What a source does across connections (a capture's idle timeout, its cap
on connections followed at once) then holds per worker.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from typing import Any, Protocol

from .model import Record
from .optionvalues import size_option
from .routing import Router, claim_shown, route_limits

#: A place in the merged output: ``(index, n)`` for the n-th record unit ``index`` made; a
#: source's records at the end of input take tuples that sort after every index.
Position = tuple[Any, ...]

#: Units per message to a worker, and the units read after which every worker is told how
#: far the input has gone (its *floor*), so that none waits long for a unit that is not
#: coming: this bounds how far one worker's output runs ahead of another's.
UNIT_BATCH = 512
FLOOR_EVERY = 2048
#: Bytes of the dispatcher's tables of connections (running; ended, also at most
#: MAX_ENDED_KEYS) before the oldest are forgotten; about 500 bytes per connection (both
#: directions' keys).
DEFAULT_TABLE_BYTES = 64 << 20
ENTRY_BYTES = 500
#: Keys of ended connections remembered (for their late packets: the last ACK, a
#: retransmission, which come within seconds), at most; about 6 MB.
MAX_ENDED_KEYS = 32_768


class UnitDecoder(Protocol):
    """A worker's decoder of its units (see the module docstring)."""

    def feed(self, index: int, unit: Any) -> list[Record]:
        """The records unit ``index`` makes, in their order."""

    def finish(self) -> list[tuple[Position, Record]]:
        """The records of the end of input, with positions that sort after every unit's."""

    def summary_part(self) -> Any:
        """What this worker counted, for :meth:`SplitReading.merge_summaries` (picklable)."""


class SplitReading(Protocol):
    """One input read by a dispatcher and decoded by workers (see the module docstring)."""

    def dispatch(self, sender: UnitSender) -> None:
        """Read the input and hand every unit to ``sender``; raises what reading raises."""

    def decoder(self) -> UnitDecoder:
        """A decoder for one worker's units."""

    def merge_summaries(self, parts: list[Any]) -> list[Record]:
        """The input's summary records, of every worker's :meth:`UnitDecoder.summary_part`."""


class UnitSender:
    """Batches a dispatcher's units per worker; ``send(worker, items, floor)`` delivers
    ``items`` (``(index, unit)``) with the smallest index still to come to that worker
    (``None``: nothing more)."""

    def __init__(self, workers: int, send: Callable[[int, list[Any], Any], None]) -> None:
        self.workers = workers
        self._send = send
        #: units handed to each worker so far (its load, for :class:`SplitRouter`)
        self.load = [0] * workers
        self._batches: list[list[Any]] = [[] for _ in range(workers)]
        self._since = 0
        self._floor = 0

    def add(self, worker: int, index: int, unit: Any) -> None:
        self.load[worker] += 1
        batch = self._batches[worker]
        batch.append((index, unit))
        if len(batch) >= UNIT_BATCH:
            self._send(worker, batch, self._floor)
            self._batches[worker] = []

    def advance(self, floor: int) -> None:
        """No unit below ``floor`` is still to come (called once per unit read, floors
        never going down): every :data:`FLOOR_EVERY` calls each worker is told so, with
        what is batched for it."""
        self._floor = floor
        self._since += 1
        if self._since >= FLOOR_EVERY:
            self._since = 0
            for worker in range(self.workers):
                self._send(worker, self._batches[worker], floor)
                self._batches[worker] = []

    def end(self) -> None:
        for worker in range(self.workers):
            self._send(worker, self._batches[worker], None)
            self._batches[worker] = []


class SplitRouter:
    """Who owns each unit's connection, for a dispatcher: a :class:`Router` for all workers
    (``me`` ``None``) for the connections not decided yet, then a table of the decided
    ones by direction key (:attr:`owners`). A session goes to the worker with the fewest
    units so far (``load``: :attr:`UnitSender.load`), and stays there.

    A connection leaves the table when it ends (:meth:`close`: both FINs, or a RST) for a
    smaller one of ended connections, so that their late units (the last ACK, a
    retransmission) still go to their owner. The tables are bounded by ``table_bytes``
    (option ``route_table_bytes``): beyond it the oldest entries are forgotten, a forgotten
    connection still running being decided again from its next unit (by its address, as it
    shows no session id mid-stream): it may go to another worker, which then sees it begin
    in the middle, as a capture started late would show it.

    :meth:`route` returns ``(index, unit, owner)`` for what can go now: nothing until the
    connection is decided, then all its kept units at once.
    """

    def __init__(self, workers: int, options: Any, load: list[int] | None = None) -> None:
        self.router = Router(
            workers,
            None,
            "tcp",
            **route_limits(options),
            assign=self._assign,
        )
        self.load = load if load is not None else [0] * workers
        #: the worker of each session id (or connection name) assigned, oldest first
        self.assigned: dict[str, int] = {}
        #: the owner of each decided connection, under both directions' keys
        self.owners: dict[Hashable, int] = {}
        #: the owners of ended connections, for their late units
        self.ended: dict[Hashable, int] = {}
        self.keys: dict[str, tuple[Hashable, Hashable]] = {}
        self.finished: set[Hashable] = set()  # direction keys that sent a FIN
        table_bytes = size_option(options, "route_table_bytes", DEFAULT_TABLE_BYTES)
        self.max_entries = max(2, table_bytes // (ENTRY_BYTES // 2))

    def _assign(self, key: str) -> int:
        """The worker of ``key``: the one it had, else the least loaded so far (hashing,
        as workers that decide on their own must, leaves shares uneven when sessions are
        few or their sizes differ)."""
        assigned = self.assigned
        owner = assigned.get(key)
        if owner is None:
            load = self.load
            owner = load.index(min(load))
            if len(assigned) >= self.max_entries:
                del assigned[next(iter(assigned))]
            assigned[key] = owner
        return owner

    def follow(self, owner: int, data: bytes) -> None:
        """``data`` of a decided connection, owned by ``owner``: a session id it shows that
        no worker has yet goes to ``owner`` too. So when a keep-alive connection carries
        several sessions (a browser's tabs, a reverse proxy's pool), the later sessions'
        other connections (their WebSocket) meet their requests in one worker."""
        claim_shown(self.assigned, data, owner, self.max_entries)

    def floor(self, next_index: int) -> int:
        """The smallest index that may still be handed out: the oldest kept unit's."""
        watermark = self.router.watermark() if self.router.pending else None
        return next_index if watermark is None else watermark

    def route(
        self,
        index: int,
        key: Hashable,
        reverse: Hashable,
        connection: str,
        side: int,
        data: bytes,
        unit: Any,
        closing: bool = False,
    ) -> Iterator[tuple[int, Any, int]]:
        """Route unit ``index`` of a connection not decided yet: ``key`` its direction's key
        in :attr:`owners` (``reverse``: the other direction's), ``connection`` its name (the
        same for both directions), ``side`` 0 or 1 (the same for all units of a direction),
        ``data`` the bytes it carries, ``closing`` when it ends the connection (then it is
        decided at once). The caller looks up :attr:`owners` first."""
        self.keys.setdefault(connection, (key, reverse))
        item = _Item(connection, side, data, unit, "close" if closing else "data")
        return self._owned(self.router.route(index, item))  # type: ignore[arg-type]

    def fin(self, key: Hashable, reverse: Hashable) -> None:
        """Direction ``key`` of a decided connection sent a FIN: once both have, it ended."""
        if reverse in self.finished:
            self.close(key, reverse)
        else:
            if len(self.finished) >= self.max_entries:
                self.finished.clear()
            self.finished.add(key)

    def close(self, key: Hashable, reverse: Hashable) -> None:
        """The decided connection of ``key`` ended (both FINs, or a RST)."""
        owner = self.owners.pop(key, None)
        self.owners.pop(reverse, None)
        self.finished.discard(key)
        self.finished.discard(reverse)
        if owner is not None:
            ended = self.ended
            if len(ended) >= min(self.max_entries, MAX_ENDED_KEYS):
                ended.clear()  # like a capture decoder's memory of ended connections
            ended[key] = ended[reverse] = owner

    def forget(self, key: Hashable, reverse: Hashable) -> None:
        """The connection of ``key`` starts again (a new SYN): decide it again."""
        for table in (self.owners, self.ended):
            table.pop(key, None)
            table.pop(reverse, None)

    def finish(self) -> Iterator[tuple[int, Any, int]]:
        return self._owned(self.router.finish())

    def _owned(self, ready: list[tuple[int, Any]]) -> Iterator[tuple[int, Any, int]]:
        """``ready`` with each unit's owner, the decided connections moved to the table."""
        decided: dict[str, int] = {}
        owners = self.owners
        for at, item in ready:
            connection = item.connection
            owner = decided.get(connection)
            if owner is None:
                owner = decided[connection] = self.router.owners.pop(connection)
                key, reverse = self.keys.pop(connection)
                owners[key] = owners[reverse] = owner
            yield at, item.unit, owner
        if len(owners) > self.max_entries:  # forget the oldest half (both keys of each)
            drop = len(owners) - self.max_entries // 2
            for old in list(owners)[: drop + drop % 2]:
                del owners[old]
                self.finished.discard(old)


class _Item:
    """A unit as the router sees a record: its connection, side and data."""

    __slots__ = ("connection", "data", "side", "type", "unit")

    layer = "tcp"

    def __init__(self, connection: str, side: int, data: bytes, unit: Any, type: str) -> None:
        self.connection = connection
        self.side = side
        self.data = data
        self.unit = unit
        self.type = type
