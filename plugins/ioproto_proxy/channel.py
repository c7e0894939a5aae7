"""The tap between processes: the relay (child) sends copies of what it forwards, the parent
decodes them.

The wire is a pipe of frames: a 17-byte header (one type byte, then the payload's length
and the bytes of traffic it copies, unsigned 64-bit big-endian) and a pickled payload; the
parent's :class:`~.spool.Spool` splits and counts frames by the header alone. ``R`` (ready)
carries the bound ``(host, port)``, ``F`` (failed) ``(category, message, errno)`` with category
``config`` (errno ``None``), ``listen`` or ``crash`` (anything else; errno ``None``), ``B``
(batch) a list of events. An event is a tuple ``(op, conn, ts, payload)``:

====  =========================  ===========================================
op    meaning                    payload
====  =========================  ===========================================
0, 1  bytes of side 0 / side 1   the bytes (side 0: client to server)
2, 3  side 0 / side 1 half-close ``None``
4, 5  bytes of side 0 / 1 lost   how many (the tap dropped them)
6     connection opened          ``(client address, server address)``
7     connection closed          ``"closed"``, ``"reset"`` (a peer reset it)
8     the proxy's own error      ``(rule, reason, request target or None)``
====  =========================  ===========================================

A batch holds what the relay forwarded in a few milliseconds (sent :data:`FLUSH_SECONDS`
after its first event, or sooner when :data:`MAX_BATCH` events or :data:`MAX_BATCH_BYTES`
are waiting): one write and one wake-up of the parent per batch, not per message.

The bound is in bytes of traffic: the child counts what it sent (published once a batch),
the parent what it took off the pipe (:class:`TapCounters`, each written by one side
only). When
``sent - taken`` would pass the limit, the child drops the bytes, counts them and, before
that connection's next bytes on that side, sends a "lost" event so the decoder knows there is a
gap and resynchronises. Opens, closes and errors are never dropped. The pipe is written
through asyncio, so a full pipe never blocks forwarding.
"""

from __future__ import annotations

import asyncio
import pickle
import struct
from multiprocessing.context import BaseContext
from typing import Any, Protocol, cast

import attrs

HEADER = struct.Struct("!cQQ")
READY, FAILED, BATCH = b"R", b"F", b"B"
DATA, FIN, LOST, OPEN, CLOSE, ERROR = 0, 2, 4, 6, 7, 8
#: A batch is sent this long after its first event (or sooner when full).
FLUSH_SECONDS = 0.005
MAX_BATCH = 1024
MAX_BATCH_BYTES = 1 << 20

Event = tuple[int, int, float, Any]


class Counter(Protocol):
    """A shared 64-bit integer (``multiprocessing.RawValue("q")``)."""

    value: int


@attrs.frozen
class TapCounters:
    """What the two processes share. The child writes ``dropped_bytes``, ``dropped_segments``
    and ``sent`` (data bytes handed to the pipe); the parent writes ``taken`` (data bytes it
    started decoding). ``sent - taken`` is what waits for the decoder."""

    dropped_bytes: Counter
    dropped_segments: Counter
    sent: Counter
    taken: Counter

    @classmethod
    def shared(cls, context: BaseContext) -> TapCounters:
        return cls(*(cast(Counter, context.RawValue("q", 0)) for _ in range(4)))


def frame(kind: bytes, payload: object, data_bytes: int = 0) -> bytes:
    """One frame; ``data_bytes``: the bytes of traffic in ``payload`` (a batch's)."""
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(kind, len(data), data_bytes) + data


class ChannelTap:
    """The child's tap (a :class:`~.relay.TapWriter`): batches events and writes them to
    ``transport``, the pipe to the parent, keeping at most ``limit`` data bytes waiting."""

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        loop: asyncio.AbstractEventLoop,
        limit: int,
        counters: TapCounters,
    ) -> None:
        self._transport = transport
        self._loop = loop
        self._limit = max(1, limit)
        self._counters = counters
        self._dropped_bytes = counters.dropped_bytes
        self._dropped_segments = counters.dropped_segments
        self._taken = counters.taken
        self._taken_seen = 0
        self._sent = 0  # data bytes handed to the pipe, batched ones included
        self._batch: list[Event] = []
        self._batch_bytes = 0
        self._lost: dict[tuple[int, int], int] = {}

    def send(self, kind: bytes, payload: object, data_bytes: int = 0) -> None:
        if not self._transport.is_closing():
            self._transport.write(frame(kind, payload, data_bytes))

    # -- TapWriter ---------------------------------------------------------------------------

    def open(self, conn: int, ts: float, client: str, server: str) -> None:
        self._add((OPEN, conn, ts, (client, server)))

    def data(self, conn: int, side: int, ts: float, data: bytes) -> None:
        size = len(data)
        if self._sent + size - self._taken_seen > self._limit:
            self._taken_seen = self._taken.value
            if self._sent + size - self._taken_seen > self._limit:
                key = (conn, side)
                self._lost[key] = self._lost.get(key, 0) + size
                self._dropped_bytes.value += size
                self._dropped_segments.value += 1
                return
        if self._lost:
            self._report_lost(conn, side, ts)
        self._sent += size
        self._batch_bytes += size
        self._add((side, conn, ts, data))

    def fin(self, conn: int, side: int, ts: float) -> None:
        if self._lost:
            self._report_lost(conn, side, ts)
        self._add((FIN + side, conn, ts, None))

    def close(self, conn: int, ts: float, reason: str = "closed") -> None:
        if self._lost:
            self._report_lost(conn, 0, ts)
            self._report_lost(conn, 1, ts)
        self._add((CLOSE, conn, ts, reason))

    def error(self, conn: int, ts: float, rule: str, reason: str, target: str | None) -> None:
        self._add((ERROR, conn, ts, (rule, reason, target)))

    # -- batching ----------------------------------------------------------------------------

    def flush(self) -> None:
        """Send what is batched."""
        batch = self._batch
        if not batch:
            return
        self._batch = []
        size, self._batch_bytes = self._batch_bytes, 0
        self.send(BATCH, batch, size)
        self._counters.sent.value = self._sent

    def _add(self, event: Event) -> None:
        batch = self._batch
        batch.append(event)
        if len(batch) == 1:
            self._loop.call_later(FLUSH_SECONDS, self.flush)
        elif len(batch) >= MAX_BATCH or self._batch_bytes >= MAX_BATCH_BYTES:
            self.flush()

    def _report_lost(self, conn: int, side: int, ts: float) -> None:
        """Send the "lost" event of ``conn``'s ``side``, if bytes were dropped since."""
        lost = self._lost.pop((conn, side), 0)
        if lost:
            self._add((LOST + side, conn, ts, lost))
