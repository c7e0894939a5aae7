"""TCP stream reassembly for one direction of one connection.

Sequence numbers are compared modulo 2**32, so streams may wrap. In-order data goes straight
to ``on_data``; segments that arrive early wait in a bounded buffer keyed by stream offset.
Retransmitted and overlapping bytes are dropped: the first copy of a byte wins. When the buffer
overflows, or the stream ends with holes, the missing range is handed to ``on_gap`` and
delivery resumes after it. A hole that the peer has acknowledged is declared lost at once.
"""

from __future__ import annotations

from collections.abc import Callable

MOD = 1 << 32
HALF = 1 << 31


class Reassembler:
    """Orders the payloads of one TCP direction into a byte stream.

    ``offset`` is the number of stream bytes accounted for (delivered or declared lost).
    ``on_data(data)`` receives in-order bytes; ``on_gap(offset, length)`` a lost range.
    """

    __slots__ = (
        "fin_offset",
        "max_bytes",
        "max_segments",
        "next_seq",
        "offset",
        "on_data",
        "on_gap",
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
    ) -> None:
        self.on_data = on_data
        self.on_gap = on_gap
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
            key = self.offset + delta
            old = self.pending.get(key)
            if old is not None:
                if len(old) >= len(data):
                    return
                data = old + data[len(old) :]
                self.pending_bytes -= len(old)
            self.pending[key] = data
            self.pending_bytes += len(data)
            if len(self.pending) > self.max_segments or self.pending_bytes > self.max_bytes:
                self._skip_to_pending()
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
            skip = self.offset - first
            if skip < len(data):
                self._deliver(data[skip:] if skip else data)
