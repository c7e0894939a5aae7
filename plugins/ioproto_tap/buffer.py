"""The bounded buffer between a server's threads (or event loop) and the tap's sender.

:meth:`RecordBuffer.put` is what the instrumented server calls for every packet: it never
blocks beyond a short uncontended lock, never raises, and when the buffer already holds
``max_bytes`` it drops the record and counts it. The sender takes everything at once with
:meth:`take`.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import attrs

#: Default bytes of records a tap holds for its sender.
DEFAULT_BUFFER_BYTES = 8 * 1024 * 1024

#: What one record costs in the buffer besides its packet data (tuple, strings, floats).
RECORD_OVERHEAD = 96


@attrs.define
class DropCounts:
    """Records and bytes dropped: ``since`` the last report and ``total``."""

    records: int = 0
    bytes: int = 0
    total_records: int = 0
    total_bytes: int = 0


class RecordBuffer:
    """A FIFO of records bounded by ``max_bytes``; see the module docstring."""

    __slots__ = ("_bytes", "_drops", "_items", "_lock", "max_bytes")

    def __init__(self, max_bytes: int = DEFAULT_BUFFER_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: deque[tuple[Any, ...]] = deque()
        self._bytes = 0
        self._drops = DropCounts()
        self._lock = threading.Lock()

    def put(self, item: tuple[Any, ...], size: int) -> bool:
        """Queue ``item`` (``size`` bytes of packet data); ``False`` if it was dropped."""
        size += RECORD_OVERHEAD
        with self._lock:
            if self._bytes + size > self.max_bytes:
                drops = self._drops
                drops.records += 1
                drops.bytes += size
                drops.total_records += 1
                drops.total_bytes += size
                return False
            self._bytes += size
            self._items.append(item)
            return True

    def take(self) -> tuple[list[tuple[Any, ...]], DropCounts | None]:
        """Every queued record, and the drops since the last call (``None`` if none)."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._bytes = 0
            drops = self._drops
            if drops.records:
                report = attrs.evolve(drops)
                drops.records = drops.bytes = 0
                return items, report
            return items, None

    def lost(self, records: int, size: int) -> None:
        """Count records taken but never delivered (the connection broke under them)."""
        with self._lock:
            drops = self._drops
            drops.records += records
            drops.bytes += size
            drops.total_records += records
            drops.total_bytes += size

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    @property
    def total_dropped(self) -> int:
        return self._drops.total_records
