"""The tap: hands proxied messages to the pipeline without ever slowing the proxy down.

The proxy's event loop calls :meth:`TapWriter.put_chunk` / :meth:`TapWriter.put_error` for
every message it forwards. Two taps implement that: :class:`Tap` here (in-process: the
pipeline consumer, another thread, calls :meth:`Tap.get`) and
:class:`~.channel.ChannelTap` (the proxy in a child process, records sent to the parent).
Both are bounded: when full, the record is dropped and counted instead of waiting, so a slow
sink costs tap records, never proxied traffic.
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

from ioproto.model import ChunkKind, Direction, ErrorRecord, HttpInfo, Record

from .chunks import make_chunk


class TapWriter(Protocol):
    """What the proxy calls for each message; neither method may block or raise."""

    def put_chunk(
        self,
        ts: float,
        connection: str,
        direction: Direction,
        kind: ChunkKind,
        data: bytes,
        info: HttpInfo,
    ) -> None: ...

    def put_error(
        self, ts: float, connection: str, info: HttpInfo, rule: str, reason: str
    ) -> None: ...


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

    def put_chunk(
        self,
        ts: float,
        connection: str,
        direction: Direction,
        kind: ChunkKind,
        data: bytes,
        info: HttpInfo,
    ) -> None:
        seq = self.next_seq()
        self.put(
            make_chunk(
                ts=ts,
                connection=connection,
                direction=direction,
                kind=kind,
                data=data,
                http=info,
                seq=seq,
            )
        )

    def put_error(self, ts: float, connection: str, info: HttpInfo, rule: str, reason: str) -> None:
        self.put(proxy_error(ts, connection, info, rule, reason))

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


def proxy_error(ts: float, connection: str, info: HttpInfo, rule: str, reason: str) -> ErrorRecord:
    """An error of the proxy about one request (sid and transport from its query)."""
    return ErrorRecord(
        ts=ts,
        connection=connection,
        sid=info.query_value("sid"),
        transport=info.query_value("transport"),
        layer="proxy",
        rule=rule,
        reason=reason,
    )
