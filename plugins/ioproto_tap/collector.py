"""The collector's listening end: many tap streams in, records out (one thread, no locks).

:class:`Collector` listens on TCP and/or unix-socket addresses, accepts taps, reads their
streams with :mod:`selectors` and turns them into records with a :class:`.TapChunker`.
:meth:`Collector.poll` waits up to ``timeout`` for input and returns the records it made, so
the source that drives it can hand each record to the pipeline as soon as it arrives.

Every sender is untrusted. What a hostile or broken one can cost is bounded
(:class:`CollectLimits`, defaults documented in docs/taps.md):

* a line longer than ``max_line`` bytes is skipped (``collect.record.too-large``), never
  buffered whole;
* the partial lines of all connections together are held to ``max_buffered`` bytes: past
  that, the connection holding the most is closed (``collect.buffer.full``);
* at most ``max_connections`` taps at once; more are closed as they connect
  (``collect.connections.full``);
* the session table is held to ``session_bytes`` (:class:`.TapChunker`).

Bad lines become error records and reading goes on; a stream that does not start with a
``hello`` of a version this collector reads is closed (``collect.hello.missing``,
``collect.version.unsupported``). Nothing a sender does raises out of :meth:`poll`.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import stat
import time
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ioproto import listening
from ioproto.model import Record
from ioproto.writable import why_not

from . import wire
from .chunks import DEFAULT_SESSION_BYTES, TapChunker

DEFAULT_MAX_BUFFERED = 64 * 1024 * 1024
DEFAULT_MAX_CONNECTIONS = 256
_READ_SIZE = 256 * 1024
#: What to do when a unix socket cannot be listened on.
_ANOTHER = "pick another with --listen unix:PATH"
_OTHER = f"; {_ANOTHER}"
#: Bytes read from one connection per poll before the others get their turn.
_FAIR_SHARE = 1024 * 1024


@attrs.frozen
class CollectLimits:
    """Bounds on what senders can make the collector hold (see the module docstring)."""

    max_line: int = wire.DEFAULT_MAX_LINE
    max_buffered: int = DEFAULT_MAX_BUFFERED
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    session_bytes: int = DEFAULT_SESSION_BYTES


@attrs.frozen
class Address:
    """Where to listen: ``host``/``port`` for TCP, or ``path`` for a unix socket."""

    host: str = "127.0.0.1"
    port: int = 0
    path: str | None = None

    def __str__(self) -> str:
        if self.path is not None:
            return f"unix:{self.path}"
        return listening.hostport(self.host, self.port)


def parse_address(text: str) -> Address:
    """``"unix:/path"``, ``"127.0.0.1:9000"``, ``"[::1]:9000"`` or ``"9000"`` (and the other
    forms of :func:`ioproto.listening.parse_listen`) → an address.

    Raises :class:`ValueError` with a readable message for anything else.
    """
    text = text.strip()
    if text.startswith("unix:"):
        path = text[len("unix:") :]
        if not path:
            raise ValueError("unix: needs a path, e.g. unix:/tmp/ioproto.sock")
        return Address(path=path)
    host, port = listening.parse_listen(text, forms="HOST:PORT, PORT or unix:PATH")
    return Address(host=host, port=port)


@attrs.define
class _Connection:
    sock: socket.socket
    name: str
    splitter: wire.LineSplitter
    hello: dict[str, Any] | None = None


class Collector:
    """Listens for taps and turns their streams into records; see the module docstring.

    ``on_event(message)`` is told, in words, when a tap connects or leaves (the command
    prints it on stderr).
    """

    def __init__(
        self,
        addresses: Sequence[Address],
        limits: CollectLimits | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.addresses = list(addresses)
        self.limits = limits or CollectLimits()
        self.chunker = TapChunker(max_bytes=self.limits.session_bytes)
        self.on_event = on_event or (lambda message: None)
        self.listening: list[Address] = []
        self._selector = selectors.DefaultSelector()
        self._listeners: list[socket.socket] = []
        self._connections: dict[int, _Connection] = {}
        self._unix_paths: list[str] = []
        self._counter = 0
        self._refused_report = 0.0

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> list[Address]:
        """Bind and listen on every address; returns them with the ports really bound.

        Raises :class:`OSError` (with the address in the message) when one cannot be used.
        """
        try:
            for address in self.addresses:
                listener = self._listen(address)
                listener.setblocking(False)
                self._listeners.append(listener)
                self._selector.register(listener, selectors.EVENT_READ, None)
        except OSError:
            self.close()
            raise
        return self.listening

    def _listen(self, address: Address) -> socket.socket:
        if address.path is not None:
            _remove_stale_socket(address.path)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.bind(address.path)
            except OSError as exc:
                sock.close()
                why = f"cannot listen on {address}: {why_not(address.path, exc, _ANOTHER)}"
                raise OSError(exc.errno, why) from None
            self._unix_paths.append(address.path)
            self.listening.append(address)
        else:
            family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address.host, address.port))
            except OSError as exc:
                sock.close()
                why = listening.cannot_listen(address.host, address.port, exc)
                raise OSError(exc.errno, why) from None
            self.listening.append(Address(host=address.host, port=sock.getsockname()[1]))
        sock.listen(128)
        return sock

    def close(self) -> None:
        """Close every connection and listener; remove the unix socket files."""
        for connection in list(self._connections.values()):
            self._drop(connection)
        for listener in self._listeners:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(listener)
            listener.close()
        self._listeners.clear()
        for path in self._unix_paths:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._unix_paths.clear()
        self._selector.close()

    @property
    def buffered(self) -> int:
        """Bytes of partial lines held for all connections (at most ``max_buffered``)."""
        return sum(c.splitter.pending for c in self._connections.values())

    @property
    def connections(self) -> int:
        return len(self._connections)

    @property
    def taps_seen(self) -> int:
        """Taps that have connected since :meth:`start`."""
        return self._counter

    # -- reading ---------------------------------------------------------------------------------

    def poll(self, timeout: float) -> list[Record]:
        """Wait up to ``timeout`` seconds for input; the records made of what arrived."""
        out: list[Record] = []
        try:
            events = self._selector.select(timeout)
        except OSError:
            return out
        for key, _ in events:
            if key.data is None:
                self._accept(key.fileobj, out)  # type: ignore[arg-type]
            else:
                connection = self._connections.get(key.data)
                if connection is not None:
                    self._read(connection, out)
        return out

    def _accept(self, listener: socket.socket, out: list[Record]) -> None:
        try:
            sock, _ = listener.accept()
        except OSError:
            return
        name = _peer_name(sock)
        if len(self._connections) >= self.limits.max_connections:
            sock.close()
            now = time.monotonic()
            if now - self._refused_report >= 1.0:
                self._refused_report = now
                reason = (
                    f"a tap from {name} was refused: {self.limits.max_connections} taps are "
                    "connected already (--max-connections)"
                )
                out.append(self.chunker.error(name, "collect.connections.full", reason))
            return
        sock.setblocking(False)
        self._counter += 1
        splitter = wire.LineSplitter(self.limits.max_line)
        connection = _Connection(sock, f"{self._counter}@{name}", splitter)
        self._connections[self._counter] = connection
        self._selector.register(sock, selectors.EVENT_READ, self._counter)

    def _read(self, connection: _Connection, out: list[Record]) -> None:
        taken = 0
        while taken < _FAIR_SHARE:
            try:
                data = connection.sock.recv(_READ_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:
                self._close(connection, out, f"read failed: {exc}")
                return
            if not data:
                self._close(connection, out, None)
                return
            taken += len(data)
            try:
                alive = self._lines(connection, data, out)
            except Exception as exc:  # a bug must not stop the collector
                out.append(
                    self.chunker.error(
                        connection.name, "collect.internal", f"{type(exc).__name__}: {exc}"
                    )
                )
                alive = True
            if not alive:
                return
            if len(data) < _READ_SIZE:
                break
        self._enforce_budget(out)

    def _lines(self, connection: _Connection, data: bytes, out: list[Record]) -> bool:
        """Handle the lines in ``data``; ``False`` once the connection was closed."""
        chunker = self.chunker
        for line in connection.splitter.feed(data):
            if line is None:
                out.append(
                    chunker.error(
                        connection.name,
                        "collect.record.too-large",
                        f"a record longer than {self.limits.max_line} bytes was skipped "
                        "(--max-line)",
                    )
                )
                continue
            try:
                record = wire.loads(line)
            except wire.BadRecord as exc:
                if connection.hello is None:
                    self._close(connection, out, None)
                    out.append(
                        chunker.error(
                            connection.name,
                            "collect.hello.missing",
                            f"not a tap stream (the first line must be a hello): {exc.reason}",
                            line,
                        )
                    )
                    return False
                out.append(chunker.error(connection.name, exc.rule, exc.reason, line))
                continue
            if connection.hello is None:
                if not self._hello(connection, record, line, out):
                    return False
                continue
            if record["t"] == "hello":
                out.append(
                    chunker.error(connection.name, "collect.hello.repeated", "a second hello", line)
                )
                continue
            out.extend(chunker.feed(record, connection.name))
        return True

    def _hello(
        self, connection: _Connection, record: dict[str, Any], line: bytes, out: list[Record]
    ) -> bool:
        chunker = self.chunker
        if record["t"] != "hello":
            self._close(connection, out, None)
            reason = f"the first record must be a hello, not {record['t']!r}"
            out.append(chunker.error(connection.name, "collect.hello.missing", reason, line))
            return False
        if record["v"] != wire.VERSION:
            self._close(connection, out, None)
            reason = (
                f"tap stream version {record['v']} is not one this collector reads "
                f"(version {wire.VERSION}): upgrade ioproto or the tap"
            )
            out.append(chunker.error(connection.name, "collect.version.unsupported", reason, line))
            return False
        connection.hello = record
        self.on_event(f"tap connected: {_describe(record)} from {connection.name}")
        dropped = record.get("dropped")
        if dropped:
            out.append(
                chunker.error(
                    connection.name,
                    "collect.tap.dropped",
                    f"the tap reconnected after dropping {dropped} records in total while "
                    "no collector was reachable or keeping up",
                )
            )
        return True

    def _enforce_budget(self, out: list[Record]) -> None:
        while self._connections and self.buffered > self.limits.max_buffered:
            biggest = max(self._connections.values(), key=lambda c: c.splitter.pending)
            reason = (
                f"the taps' partial records exceed {self.limits.max_buffered} bytes "
                f"(--max-buffered); closed the connection holding {biggest.splitter.pending}"
            )
            out.append(self.chunker.error(biggest.name, "collect.buffer.full", reason))
            self._close(biggest, out, "buffer full")

    def _close(self, connection: _Connection, out: list[Record], why: str | None) -> None:
        pending = connection.splitter.pending
        self._drop(connection)
        if pending and why is None:
            reason = f"the tap closed its stream in the middle of a record ({pending} bytes)"
            out.append(self.chunker.error(connection.name, "collect.record.truncated", reason))
        if connection.hello is not None:
            self.on_event(f"tap disconnected: {connection.name}" + (f" ({why})" if why else ""))

    def _drop(self, connection: _Connection) -> None:
        key = int(connection.name.partition("@")[0])
        self._connections.pop(key, None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        connection.sock.close()
        connection.splitter.clear()
        self.chunker.forget_stream(connection.name)


def _describe(hello: dict[str, Any]) -> str:
    parts = [str(hello.get("lib") or hello.get("tap") or "a tap")]
    if hello.get("app"):
        parts.append(f"app {hello['app']}")
    if hello.get("pid") is not None:
        parts.append(f"pid {hello['pid']}")
    return ", ".join(parts)


def _peer_name(sock: socket.socket) -> str:
    try:
        peer = sock.getpeername()
    except OSError:
        return "?"
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = peer[0], peer[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return "unix"


def _remove_stale_socket(path: str) -> None:
    """Remove a unix socket file no one listens on (a collector that died); refuse others."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there: binding says why, if it cannot be made
    if not stat.S_ISSOCK(mode):
        why = f"cannot listen on unix:{path}: the file exists and is not a socket{_OTHER}"
        raise OSError(17, why)
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)
        return
    finally:
        probe.close()
    raise OSError(98, f"cannot listen on unix:{path}: another collector is listening there{_OTHER}")
