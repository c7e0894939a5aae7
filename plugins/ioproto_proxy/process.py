"""The relay in a child process, so forwarding and decoding do not share a GIL.

Decoding a message costs about ten times what relaying it does; in one process it would
hold the GIL the relay needs. :class:`ProxyProcess` (parent side) starts :func:`child_main`
with the "spawn" start method (a fresh interpreter: no inherited threads or event loop),
reads the copies the relay sends through a :mod:`.channel` pipe, decodes them with a
:class:`~.streams.TapDecoder`, and stops the child by closing a control pipe. The child stops when
that pipe reaches end-of-file, which also happens when the parent dies, however it dies: the
child never outlives it. The child ignores SIGINT and SIGTERM (a Ctrl-C reaches the whole
process group): the parent decides when to stop, so what is queued is still delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import multiprocessing.spawn
import os
import signal
import time
from collections.abc import Coroutine, Iterator
from multiprocessing.connection import Connection
from typing import Any

import attrs

from ioproto import listening
from ioproto.model import Record

from .channel import BATCH, FAILED, READY, ChannelTap, TapCounters
from .relay import DEFAULT_HEAD_TIMEOUT, Relay
from .spool import DEFAULT_SPOOL, Spool
from .streams import TapDecoder

_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@attrs.frozen
class ProxyConfig:
    """What the child needs to run the proxy; ``buffer`` is the tap's bound in bytes."""

    host: str
    port: int
    upstream: str
    buffer: int
    ws_compression: bool = True
    upstream_ca: str | None = None
    head_timeout: float = DEFAULT_HEAD_TIMEOUT


class ListenError(OSError):
    """The relay could not listen on its address: the child's ``errno`` and message."""


class RelayFailed(RuntimeError):
    """The relay's process could not be started, or ended (or hung) before it listened;
    the message says which, and why as far as it is known."""


class ProxyProcess:
    """The proxy running in a child process; the parent's handle on it.

    ``start()`` returns the bound ``(host, port)`` once the child listens, or raises
    :class:`ValueError` (bad configuration, or a main module that starts a proxy whenever it
    is imported: :data:`MAIN_NOT_GUARDED`), :class:`ListenError` (cannot listen) or
    :class:`RelayFailed` (no child could be started, or it died or hung before it
    listened). ``records(timeout)`` yields what was tapped;
    (decoded by ``decoder``); ``exited`` is then true once the child has closed the channel.
    ``stop()`` asks the child to finish (it sends what it still has, then exits); ``close()``
    waits for it (killing it after ``timeout``) and releases everything. ``dropped_bytes``
    and ``dropped_segments`` count what the tap had to drop.
    """

    def __init__(
        self, config: ProxyConfig, decoder: TapDecoder, *, spool: int = DEFAULT_SPOOL
    ) -> None:
        self.config = config
        self.decoder = decoder
        context = multiprocessing.get_context("spawn")
        self._counters = TapCounters.shared(context)
        data_read, data_write = context.Pipe(duplex=False)
        control_read, control_write = context.Pipe(duplex=False)
        self._reader = Spool(_take_fd(data_read), self._counters.taken, spool)
        self._control: Connection | None = control_write
        self._child_ends = (data_write, control_read)
        self._closed = False
        #: frames taken from the proxy process so far (progress while draining)
        self.frames_read = 0
        self._process = context.Process(
            target=child_main,
            args=(config, data_write, control_read, self._counters),
            name=_PROCESS_NAME,
            daemon=True,  # multiprocessing's atexit kills it if the parent forgets
        )

    @property
    def dropped_bytes(self) -> int:
        return int(self._counters.dropped_bytes.value)

    @property
    def dropped_segments(self) -> int:
        return int(self._counters.dropped_segments.value)

    @property
    def copied_bytes(self) -> int:
        """Bytes of traffic the child has copied to the decoder so far."""
        return int(self._counters.sent.value)

    @property
    def queued_bytes(self) -> int:
        """Copied bytes sent by the child that decoding has not started on yet (in the pipe
        or the spool)."""
        in_pipe = max(0, int(self._counters.sent.value - self._counters.taken.value))
        return in_pipe + self._reader.waiting

    @property
    def spilled_bytes(self) -> int:
        """Bytes of copies that waited in the spool's file (the decoder was behind)."""
        return self._reader.spilled_bytes

    @property
    def exited(self) -> bool:
        return self._reader.eof

    def start(self, timeout: float = 30.0) -> tuple[str, int]:
        # An interpreter that cannot be run only shows as exit status 255 once spawned.
        executable = os.fsdecode(multiprocessing.spawn.get_executable())
        if not os.access(executable, os.X_OK):
            self.close()
            why = "no such file" if not os.path.exists(executable) else "not executable"
            raise RelayFailed(f"{_NOT_STARTED}: cannot run {executable!r} ({why})")
        # Blocked across the spawn, so the child inherits the mask (exec keeps it) and a
        # Ctrl-C during its start-up waits until it has set SIG_IGN.
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            self._process.start()
        except OSError as exc:  # no process to be had: EAGAIN, ENOMEM
            self.close()
            raise RelayFailed(f"{_NOT_STARTED}: {exc.strerror or exc}") from None
        except RuntimeError:
            # multiprocessing refuses to start a process from one it is still starting:
            # this is a relay process running the main module again, which starts a proxy
            # at its top level. Its parent says so, from the exit status; a traceback here
            # would only bury that line.
            if multiprocessing.current_process().name == _PROCESS_NAME:
                raise SystemExit(_MAIN_NOT_GUARDED) from None
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
            for end in self._child_ends:
                end.close()  # the child has its copies; ours would hide its exit
        deadline = time.monotonic() + timeout
        while not self._reader.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                self.close(timeout=0)
                raise RelayFailed(
                    f"the proxy's relay process did not start listening within {timeout:g} s"
                )
            for kind, payload in self._reader.read(min(left, 0.5)):
                if kind == READY:
                    host, port = payload
                    return str(host), int(port)
                if kind == FAILED:
                    self.close()
                    raise _failure(*payload)
        self._process.join(timeout)
        code = self._process.exitcode  # read before close(), which releases the process
        self.close()
        if code == _MAIN_NOT_GUARDED:
            raise ValueError(MAIN_NOT_GUARDED)
        raise RelayFailed(f"the proxy's relay process ended before it listened ({_ended(code)})")

    def records(self, timeout: float) -> Iterator[Record]:
        """What arrives within ``timeout`` seconds (nothing when nothing came)."""
        frames = self._reader.read(timeout)
        self.frames_read += len(frames)
        for kind, payload in frames:
            if kind == BATCH:
                yield from self.decoder.feed(payload)
        if self._reader.eof:
            yield from self.decoder.finish(time.time())

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None

    def close(self, timeout: float = 10.0) -> None:
        """Stop the child and release everything; calling it again does nothing."""
        self.stop()
        process = self._process
        if self._closed:
            return
        self._closed = True
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


_NOT_STARTED = "the proxy's relay process could not be started"
_PROCESS_NAME = "ioproto-proxy"
#: The exit status of a relay process whose start-up ran a main module that starts a proxy
#: at its top level ("spawn" imports the main module again in the new process).
_MAIN_NOT_GUARDED = 86
MAIN_NOT_GUARDED = (
    "the proxy's relay process imports your main module again, and it starts a proxy at its "
    'top level: keep the script\'s top-level code under `if __name__ == "__main__":` '
    "(docs/embedding.md)"
)


def _failure(category: str, message: str, code: int | None) -> Exception:
    """What ``start()`` raises for the child's ``FAILED`` frame: a bind refused its
    address is a :class:`ListenError`, one out of file descriptors or memory (no address
    would do) a :class:`RelayFailed`."""
    if category == "config":
        return ValueError(message)
    if category != "listen":
        return RelayFailed(f"the proxy's relay process failed before it listened: {message}")
    error = ListenError(code, message)
    if code is not None and listening.out_of_resources(error):
        return RelayFailed(f"the proxy's relay process could not listen: {os.strerror(code)}")
    return error


def _ended(code: int | None) -> str:
    """How a process ended, from its exit code (negative: the signal that killed it)."""
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _take_fd(connection: Connection) -> int:
    fd = os.dup(connection.fileno())
    connection.close()
    return fd


def child_main(
    config: ProxyConfig,
    data: Connection,
    control: Connection,
    counters: TapCounters,
) -> None:
    """The child process: run the proxy until the control pipe closes."""
    for signum in _SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
    run_loop(_run_child(config, _take_fd(data), _take_fd(control), counters))


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on uvloop where it is installed (it relays about 1.5 times as fast as
    asyncio's own loop), else on asyncio's."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


class _Pipe(asyncio.BaseProtocol):
    def __init__(self) -> None:
        self.closed = asyncio.get_running_loop().create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _run_child(
    config: ProxyConfig, data_fd: int, control_fd: int, counters: TapCounters
) -> None:
    loop = asyncio.get_running_loop()
    transport, pipe = await loop.connect_write_pipe(_Pipe, os.fdopen(data_fd, "wb", buffering=0))
    tap = ChannelTap(transport, loop, config.buffer, counters)
    stopped = asyncio.Event()
    loop.add_reader(control_fd, stopped.set)  # readable = closed: stop, or the parent died
    try:
        started = await _start_relay(config, tap)
        if started is None:
            return
        relay, address = started
        tap.send(READY, address)
        await stopped.wait()
        await relay.stop()
        tap.flush()
    finally:
        loop.remove_reader(control_fd)
        os.close(control_fd)
        transport.close()  # after what is buffered is written (or the parent has gone)
        with contextlib.suppress(asyncio.CancelledError):
            await pipe.closed


async def _start_relay(config: ProxyConfig, tap: ChannelTap) -> tuple[Relay, Any] | None:
    """The relay, listening, and its bound address; ``None`` once a ``FAILED`` frame has
    said why not: ``config`` (the parent's user's mistake), ``listen`` (with the errno) or
    ``crash`` (anything else: a bug, a broken install)."""
    try:
        relay = Relay(
            config.upstream,
            tap,
            ws_compression=config.ws_compression,
            upstream_ca=config.upstream_ca,
            head_timeout=config.head_timeout,
        )
    except ValueError as exc:
        tap.send(FAILED, ("config", str(exc), None))
        return None
    except OSError as exc:  # the CA file
        tap.send(FAILED, ("config", f"cannot load the upstream CA file: {exc}", None))
        return None
    except Exception as exc:
        tap.send(FAILED, ("crash", f"{type(exc).__name__}: {exc}", None))
        return None
    try:
        return relay, await relay.start(config.host, config.port)
    except OSError as exc:
        tap.send(FAILED, ("listen", str(exc) or type(exc).__name__, exc.errno))
    except Exception as exc:
        tap.send(FAILED, ("crash", f"{type(exc).__name__}: {exc}", None))
    return None
