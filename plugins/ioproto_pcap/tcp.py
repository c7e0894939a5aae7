"""TCP stream reassembly for one direction of one connection.

Sequence numbers are compared modulo 2**32, so streams may wrap. In-order data goes straight
to ``on_data``; segments that arrive early wait in a bounded buffer keyed by stream offset.
Retransmitted and overlapping bytes are dropped: the first copy of a byte wins. When the buffer
overflows, or the stream ends with holes, the missing range is handed to ``on_gap`` and
delivery resumes after it. A hole that the peer has acknowledged is declared lost at once.

The streams of one capture share a :class:`ReorderBudget`: what all of them hold out of order
together, in bytes. Past it, the stream whose hole has waited longest gives up: its holes are
declared lost and what it holds is delivered, as at its end.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

MOD = 1 << 32
HALF = 1 << 31

#: What a waiting segment costs beyond its bytes (the bytes object and its dict entry), so
#: that a flood of one-byte segments is bounded as well as a few large ones.
SEGMENT_OVERHEAD = 100


class ReorderBudget:
    """The out-of-order bytes all streams of a capture hold together, bounded by ``max_bytes``.

    ``held`` counts each waiting segment's bytes plus :data:`SEGMENT_OVERHEAD`; ``waiting``
    holds the streams with segments waiting, the one whose wait began first at the head.
    Once ``held`` passes ``max_bytes`` streams give up from the head (:meth:`relieve`),
    at constant cost per stream: the hole that waited longest is the least likely to be
    filled by a retransmission still to come.
    """

    __slots__ = ("held", "max_bytes", "waiting")

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.held = 0
        self.waiting: OrderedDict[Reassembler, None] = OrderedDict()

    def relieve(self) -> None:
        """Give up the longest-waiting streams' holes until within ``max_bytes``."""
        waiting = self.waiting
        while self.held > self.max_bytes and waiting:
            next(iter(waiting)).give_up()


class Reassembler:
    """Orders the payloads of one TCP direction into a byte stream.

    ``offset`` is the number of stream bytes accounted for (delivered or declared lost).
    ``on_data(data)`` receives in-order bytes; ``on_gap(offset, length)`` a lost range.
    With a shared ``budget``, ``on_give_up(held)`` is told before the stream gives up the
    ``held`` bytes it had waiting because the streams together held too much.
    """

    __slots__ = (
        "budget",
        "fin_offset",
        "max_bytes",
        "max_segments",
        "next_seq",
        "offset",
        "on_data",
        "on_gap",
        "on_give_up",
        "pending",
        "pending_bytes",
    )

    def __init__(
        self,
        on_data: Callable[[bytes], None],
        on_gap: Callable[[int, int], None],
        *,
        max_segments: int = 512,
        max_bytes: int = 4 << 20,
        budget: ReorderBudget | None = None,
        on_give_up: Callable[[int], None] | None = None,
    ) -> None:
        self.on_data = on_data
        self.on_gap = on_gap
        self.budget = budget
        self.on_give_up = on_give_up
        self.max_segments = max_segments
        self.max_bytes = max_bytes
        self.next_seq: int | None = None
        self.offset = 0
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.fin_offset: int | None = None

    def syn(self, seq: int) -> None:
        """The SYN of this direction: stream byte 0 is ``seq + 1``."""
        if self.next_seq is None:
            self.next_seq = (seq + 1) % MOD

    def fin(self, seq: int, length: int) -> None:
        """A FIN at the end of a segment of ``length`` bytes starting at ``seq``."""
        if self.next_seq is None:
            self.next_seq = seq
        delta = (seq + length - self.next_seq) % MOD
        if delta < HALF:
            self.fin_offset = self.offset + delta

    @property
    def finished(self) -> bool:
        """All bytes up to the FIN were accounted for."""
        return self.fin_offset is not None and self.offset >= self.fin_offset

    def add(self, seq: int, data: bytes) -> None:
        """One segment's payload (possibly empty) at sequence number ``seq``."""
        if not data:
            return
        if seq == self.next_seq and not self.pending:
            # In order with nothing waiting (nearly every segment on a clean capture): deliver
            # without the general bookkeeping below.
            self.offset += len(data)
            self.next_seq = (seq + len(data)) % MOD
            self.on_data(data)
            return
        if self.next_seq is None:
            self.next_seq = seq  # mid-stream pick-up: the first segment seen starts the stream
        delta = (seq - self.next_seq) % MOD
        if delta == 0:
            self._deliver(data)
        elif delta >= HALF:
            skip = MOD - delta  # bytes already seen: a retransmission or an overlap
            if skip >= len(data):
                return
            self._deliver(data[skip:])
        else:
            self._hold(self.offset + delta, data)
            return
        if self.pending:
            self._drain()

    def acked(self, ack: int) -> None:
        """The peer acknowledged up to ``ack``: holes below it were received but not captured,
        so they will never be filled; declare them lost and deliver what follows."""
        while self.pending and self.next_seq is not None:
            delta = (ack - self.next_seq) % MOD
            if delta == 0 or delta >= HALF:
                return
            self._skip_to_pending()

    def flush(self) -> None:
        """End of the stream: declare the holes lost and deliver everything buffered."""
        while self.pending:
            self._skip_to_pending()
        if self.fin_offset is not None and self.fin_offset > self.offset:
            self._lose(self.fin_offset - self.offset)

    def give_up(self) -> None:
        """The streams together hold too much: declare this one's holes lost and deliver
        what it holds, as at its end (its FIN, if any, still counts)."""
        if self.on_give_up is not None:
            self.on_give_up(self.pending_bytes)
        while self.pending:
            self._skip_to_pending()

    def _hold(self, key: int, data: bytes) -> None:
        """Keep ``data``, ahead of the stream at offset ``key``, until the hole is filled."""
        pending = self.pending
        old = pending.get(key)
        charge = len(data) + SEGMENT_OVERHEAD
        if old is not None:
            if len(old) >= len(data):
                return
            data = old + data[len(old) :]
            self.pending_bytes -= len(old)
            charge = len(data) - len(old)
        budget = self.budget
        if budget is not None and not pending:
            budget.waiting[self] = None
        pending[key] = data
        self.pending_bytes += len(data)
        if budget is not None:
            budget.held += charge
        if len(pending) > self.max_segments or self.pending_bytes > self.max_bytes:
            self._skip_to_pending()
        if budget is not None and budget.held > budget.max_bytes:
            budget.relieve()

    def _deliver(self, data: bytes) -> None:
        self.offset += len(data)
        self.next_seq = (self.next_seq + len(data)) % MOD  # type: ignore[operator]
        self.on_data(data)

    def _lose(self, length: int) -> None:
        start = self.offset
        self.offset += length
        self.next_seq = (self.next_seq + length) % MOD  # type: ignore[operator]
        self.on_gap(start, length)

    def _skip_to_pending(self) -> None:
        first = min(self.pending)
        if first > self.offset:
            self._lose(first - self.offset)
        self._drain()

    def _drain(self) -> None:
        pending = self.pending
        while pending:
            first = min(pending)
            if first > self.offset:
                return
            data = pending.pop(first)
            self.pending_bytes -= len(data)
            budget = self.budget
            if budget is not None:
                budget.held -= len(data) + SEGMENT_OVERHEAD
                if not pending:
                    del budget.waiting[self]
            skip = self.offset - first
            if skip < len(data):
                self._deliver(data[skip:] if skip else data)
