"""The tap's sender: a daemon thread that takes records from the buffer and delivers them.

Delivery is to a collector (:class:`CollectorLink`, TCP or unix socket, the stream format
of :mod:`.wire`) or straight into a pipeline in this process (:class:`PipelineLink`). The
server never waits for either: it only puts records into the :class:`.RecordBuffer`.

When the collector is absent the link retries with exponential backoff (0.1 s doubling to
5 s) and takes nothing from the buffer meanwhile, so the buffer fills and further records
are dropped and counted. A collector that stops reading makes ``sendall`` block this
thread (never the server) until ``send_timeout``; then the connection is dropped, the
batch counted as lost, and the link reconnects. Drops are reported in the stream (a
``drop`` record, at most once a second) and in the ``hello`` of every reconnection.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ioproto.model import Record

from . import wire
from .buffer import DropCounts, RecordBuffer
from .chunks import TapChunker
from .collector import Address

#: How long the sender sleeps when the buffer is empty (the latency a record may wait).
IDLE_INTERVAL = 0.005

_BACKOFF_START = 0.1
_BACKOFF_MAX = 5.0
_DROP_REPORT_EVERY = 1.0


def as_record(item: tuple[Any, ...], *, for_wire: bool) -> dict[str, Any]:
    """A buffered item as a stream record; with ``for_wire`` bytes become ``$bytes``."""
    kind = item[0]
    if kind == "p":
        _, ts, sid, direction, transport, packet = item
        if for_wire and not isinstance(packet, str):
            packet = wire.encode_bytes(packet)
        return {"t": "p", "ts": ts, "sid": sid, "d": direction, "tr": transport, "p": packet}
    if kind == "open":
        _, ts, sid, transport, revision, request, rts = item
        return {
            "t": "open",
            "ts": ts,
            "sid": sid,
            "tr": transport,
            "eio": revision,
            "req": request,
            "rts": rts,
        }
    if kind == "upgrade":
        _, ts, sid, transport, request = item
        return {"t": "upgrade", "ts": ts, "sid": sid, "tr": transport, "req": request}
    _, ts, sid, reason = item
    return {"t": "close", "ts": ts, "sid": sid, "reason": reason}


def drop_record(drops: DropCounts) -> dict[str, Any]:
    return {
        "t": "drop",
        "ts": time.time(),
        "n": drops.records,
        "b": drops.bytes,
        "total_n": drops.total_records,
        "total_b": drops.total_bytes,
    }


class Link(Protocol):
    """Where a sender delivers: ``deliver`` returns ``False`` when it could not (yet)."""

    def ready(self) -> bool: ...

    def deliver(self, items: list[tuple[Any, ...]], drops: DropCounts | None) -> bool: ...

    def close(self) -> None: ...


class CollectorLink:
    """Delivers to a collector at ``address``; see the module docstring."""

    def __init__(
        self,
        address: Address,
        hello: dict[str, Any],
        buffer: RecordBuffer,
        *,
        send_timeout: float = 30.0,
    ) -> None:
        self.address = address
        self.hello = hello
        self.buffer = buffer
        self.send_timeout = send_timeout
        self.sock: socket.socket | None = None
        self.connects = 0
        self._backoff = _BACKOFF_START
        self._next_try = 0.0

    def ready(self) -> bool:
        """Connected, or connected now; ``False`` while the collector cannot be reached."""
        if self.sock is not None:
            return True
        now = time.monotonic()
        if now < self._next_try:
            return False
        try:
            sock = self._connect()
            hello = dict(self.hello, dropped=self.buffer.total_dropped)
            sock.sendall(wire.dumps(hello))
        except OSError:
            self._next_try = now + self._backoff
            self._backoff = min(self._backoff * 2, _BACKOFF_MAX)
            return False
        self.sock = sock
        self.connects += 1
        self._backoff = _BACKOFF_START
        return True

    def _connect(self) -> socket.socket:
        address = self.address
        if address.path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            target: Any = address.path
        else:
            family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            target = (address.host, address.port)
        sock.settimeout(2.0)
        try:
            sock.connect(target)
        except OSError:
            sock.close()
            raise
        sock.settimeout(self.send_timeout)
        return sock

    def deliver(self, items: list[tuple[Any, ...]], drops: DropCounts | None) -> bool:
        assert self.sock is not None
        parts = [wire.dumps(as_record(item, for_wire=True)) for item in items]
        if drops is not None:
            parts.append(wire.dumps(drop_record(drops)))
        blob = b"".join(parts)
        try:
            self.sock.sendall(blob)
        except OSError:
            self.close()
            self.buffer.lost(len(items), len(blob))
            return False
        return True

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None


class PipelineLink:
    """Delivers into ``feed`` (a pipeline's ``feed``) in this process, via a chunker.
    ``urls``: where its sinks that serve can be reached (see :attr:`.api.Tap.urls`)."""

    def __init__(
        self,
        feed: Callable[[Record], object],
        close: Callable[[], object],
        urls: Mapping[str, str] | None = None,
    ) -> None:
        self._feed = feed
        self._close = close
        self.urls = dict(urls or {})
        self.chunker = TapChunker()

    def ready(self) -> bool:
        return True

    def deliver(self, items: list[tuple[Any, ...]], drops: DropCounts | None) -> bool:
        records = [as_record(item, for_wire=False) for item in items]
        if drops is not None:
            records.append(drop_record(drops))
        for record in records:
            for produced in self.chunker.feed(_normalised(record), "in-process"):
                self._feed(produced)
        return True

    def close(self) -> None:
        self._close()


def _normalised(record: dict[str, Any]) -> dict[str, Any]:
    """A record as :func:`.wire.check` would give it (headers as pairs, defaults filled)."""
    if "req" in record:
        request = dict(record["req"])
        request["h"] = [tuple(pair) for pair in request.get("h", ())]
        record["req"] = request
    if record["t"] == "close":
        record.setdefault("reason", None)
    return record


class Sender:
    """Runs a :class:`Link` in a daemon thread; see the module docstring."""

    def __init__(self, buffer: RecordBuffer, link: Link) -> None:
        self.buffer = buffer
        self.link = link
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending_drops: DropCounts | None = None
        self._last_drop_report = 0.0
        self._stopped = False
        self.failures = 0

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ioproto-tap-sender", daemon=True)
        self._thread.start()

    def restart_after_fork(self) -> None:
        """In a forked child: the thread did not survive the fork; start a new one."""
        if not self._stopped:
            self._thread = None
            self.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Deliver what is queued (waiting at most ``timeout``), then stop the thread."""
        self._stopped = True
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.link.close()

    def _run(self) -> None:
        while True:
            stopping = self._stop.is_set()
            try:
                sent = self._once()
            except Exception:  # never let the thread die: the server would fill its buffer
                self.failures += 1
                sent = False
            if stopping:
                return
            if not sent:
                self._stop.wait(IDLE_INTERVAL)

    def _once(self) -> bool:
        """One round: ``True`` if records were delivered."""
        if not self.link.ready():
            return False
        items, drops = self.buffer.take()
        if drops is not None:
            self._pending_drops = _merged(self._pending_drops, drops)
        report = None
        now = time.monotonic()
        if self._pending_drops is not None and now - self._last_drop_report >= _DROP_REPORT_EVERY:
            report, self._pending_drops = self._pending_drops, None
            self._last_drop_report = now
        if not items and report is None:
            return False
        self.link.deliver(items, report)
        return True


def _merged(earlier: DropCounts | None, later: DropCounts) -> DropCounts:
    if earlier is None:
        return later
    return DropCounts(
        records=earlier.records + later.records,
        bytes=earlier.bytes + later.bytes,
        total_records=later.total_records,
        total_bytes=later.total_bytes,
    )


def hello_record(tap: str, lib: str, app: str | None) -> dict[str, Any]:
    """The ``hello`` this process sends (``dropped`` is added at each connection)."""
    return {
        "t": "hello",
        "v": wire.VERSION,
        "tap": tap,
        "lib": lib,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "app": app,
    }
