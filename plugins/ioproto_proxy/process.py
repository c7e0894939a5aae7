"""The proxy in a child process, so forwarding and decoding use two cores.

Decoding every message holds the GIL; in one process that took most of the proxy's
throughput. :class:`ProxyProcess` (parent side) starts :func:`child_main` with the "spawn"
start method (a fresh interpreter: no inherited threads or event loop), reads the tap through
a :mod:`.channel` pipe, and stops the child by closing a control pipe. The child stops when
that pipe reaches end-of-file, which also happens when the parent dies, however it dies: the
child never outlives it. The child ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole
process group): the parent decides when to stop, so what is queued is still delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import cast

import attrs

from ioproto.model import Record

from .channel import BATCH, FAILED, READY, ChannelReader, ChannelTap, Counter, rebuild

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@attrs.frozen
class ProxyConfig:
    """What the child needs to run the proxy."""

    host: str
    port: int
    upstream: str
    queue: int
    max_body: int
    max_message: int


class ProxyProcess:
    """The proxy running in a child process; the parent's handle on it.

    ``start()`` returns the bound ``(host, port)`` once the child listens, or raises
    :class:`ValueError` (bad configuration), :class:`OSError` (cannot listen) or
    :class:`RuntimeError` (the child died first). ``records(timeout)`` yields what was tapped;
    ``exited`` is then true once the child has closed the channel. ``stop()`` asks the child
    to finish (it sends what it still has, then exits); ``close()`` waits for it (killing it
    after ``timeout``) and releases everything. ``dropped`` is the child's drop count.
    """

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        context = multiprocessing.get_context("spawn")
        self._dropped = cast(Counter, context.RawValue("q", 0))
        self._taken = cast(Counter, context.RawValue("q", 0))
        data_read, data_write = context.Pipe(duplex=False)
        control_read, control_write = context.Pipe(duplex=False)
        self._reader = ChannelReader(_take_fd(data_read))
        self._control: Connection | None = control_write
        self._child_ends = (data_write, control_read)
        self._process = context.Process(
            target=child_main,
            args=(config, data_write, control_read, self._dropped, self._taken),
            name="ioproto-proxy",
            daemon=True,  # multiprocessing's atexit kills it if the parent forgets
        )

    @property
    def dropped(self) -> int:
        return int(self._dropped.value)

    @property
    def exited(self) -> bool:
        return self._reader.eof

    def start(self, timeout: float = 30.0) -> tuple[str, int]:
        # Blocked across the spawn, so the child inherits the mask (exec keeps it) and a
        # Ctrl-C during its start-up waits until it has set SIG_IGN.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
            for end in self._child_ends:
                end.close()  # the child has its copies; ours would hide its exit
        deadline = time.monotonic() + timeout
        while not self._reader.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close(timeout=0)
                raise TimeoutError("the proxy process did not start in time")
            for kind, payload in self._reader.read(min(left, 0.5)):
                if kind == READY:
                    host, port = payload
                    return str(host), int(port)
                if kind == FAILED:
                    category, message = payload
                    self.close()
                    raise (ValueError if category == "config" else OSError)(message)
        self.close()
        raise RuntimeError(f"the proxy process exited (code {self._process.exitcode})")

    def records(self, timeout: float) -> Iterator[Record]:
        """What arrives within ``timeout`` seconds (nothing when nothing came)."""
        for kind, payload in self._reader.read(timeout):
            if kind == BATCH:
                # Taken off the queue as the pipeline starts on them, as with Tap.get().
                self._taken.value += len(payload)
                yield from rebuild(payload)

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None

    def close(self, timeout: float = 10.0) -> None:
        self.stop()
        process = self._process
        if process.pid is not None:
            process.join(timeout)
            if process.is_alive():
                # Its writes to a pipe nobody reads any more fail, and it ends.
                self._reader.close()
                process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()
        self._reader.close()

    def __enter__(self) -> ProxyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(timeout=0 if exc[0] is not None else 10.0)


def _take_fd(connection: Connection) -> int:
    fd = os.dup(connection.fileno())
    connection.close()
    return fd


def child_main(
    config: ProxyConfig,
    data: Connection,
    control: Connection,
    dropped: Counter,
    taken: Counter,
) -> None:
    """The child process: run the proxy until the control pipe closes."""
    for signum in _SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    asyncio.run(_run_child(config, _take_fd(data), _take_fd(control), dropped, taken))


class _Pipe(asyncio.BaseProtocol):
    def __init__(self) -> None:
        self.closed = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _run_child(
    config: ProxyConfig, data_fd: int, control_fd: int, dropped: Counter, taken: Counter
) -> None:
    # Imported here: the parent never needs aiohttp.
    from .runner import serve
    from .server import ProxyApp

    loop = asyncio.get_running_loop()
    transport, pipe = await loop.connect_write_pipe(_Pipe, os.fdopen(data_fd, "wb", buffering=0))
    tap = ChannelTap(transport, loop, config.queue, dropped, taken)
    stopped = asyncio.Event()
    loop.add_reader(control_fd, stopped.set)  # readable = closed: stop, or the parent died
    try:
        try:
            app = ProxyApp(
                config.upstream, tap, max_body=config.max_body, max_message=config.max_message
            )
        except ValueError as exc:
            tap.send(FAILED, ("config", str(exc)))
            return

        def ready(address: tuple[str, int] | BaseException) -> None:
            if isinstance(address, BaseException):
                tap.send(FAILED, ("listen", str(address) or type(address).__name__))
            else:
                tap.send(READY, address)

        await serve(app, (config.host, config.port), ready, stopped.wait)
        tap.flush()
    finally:
        loop.remove_reader(control_fd)
        os.close(control_fd)
        transport.close()  # after what is buffered is written (or the parent has gone)
        with contextlib.suppress(asyncio.CancelledError):
            await pipe.closed
