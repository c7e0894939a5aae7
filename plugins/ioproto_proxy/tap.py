"""The tap: hands proxied messages to the pipeline without ever slowing the proxy down.

The proxy's event loop calls :meth:`Tap.put` for every message it forwards; the pipeline
consumer (another thread) calls :meth:`Tap.get`. The queue is bounded: when it is full the
record is dropped and counted instead of waiting, so a slow sink costs tap records, never
proxied traffic.
"""

from __future__ import annotations

import queue
import threading

from ioproto.model import Record

DEFAULT_QUEUE_SIZE = 10_000


class Tap:
    """A bounded, thread-safe hand-off of records with a drop counter.

    ``put`` never blocks (safe from an event loop); ``get`` blocks up to ``timeout`` seconds
    and returns ``None`` when nothing came. ``dropped`` counts records refused because the
    queue was full; ``seq`` hands out the running chunk numbers (only the producer thread
    calls it).
    """

    def __init__(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> None:
        self._queue: queue.Queue[Record] = queue.Queue(maxsize=max(1, maxsize))
        self._lock = threading.Lock()
        self._seq = 0
        self.dropped = 0
        self.accepted = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def put(self, record: Record) -> bool:
        """Queue ``record``; ``False`` (and one more drop counted) when the queue is full."""
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return False
        self.accepted += 1
        return True

    def get(self, timeout: float) -> Record | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def get_nowait(self) -> Record | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def qsize(self) -> int:
        return self._queue.qsize()
