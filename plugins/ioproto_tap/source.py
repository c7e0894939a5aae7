"""Source ``collect``: receive tap streams and decode them as they arrive.

Input: ``collect:ADDR[,ADDR...]`` where ADDR is ``HOST:PORT``, ``PORT`` (on 127.0.0.1) or
``unix:PATH``. Source options (what ``ioproto collect`` sets): ``max_line``,
``max_buffered``, ``max_connections``, ``session_bytes`` (bytes, bytes, count, bytes; see
:class:`~.collector.CollectLimits`) and ``duration=SECONDS`` (stop by itself; default: until
Ctrl-C or SIGTERM, after which the pipeline closes and every sink is flushed).

Records reach the pipeline as their lines arrive: the source waits at most 0.1 s at a time,
ticking the context (``--every``) while the taps are quiet. An address that cannot be
listened on or a bad option raises :class:`~ioproto.errors.UsageError` (one line, exit 2).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from types import FrameType
from typing import Any

from ioproto_http.records import Chunk, ChunkKind

from ioproto.components import SourceContext, number_option
from ioproto.errors import UsageError
from ioproto.model import InputSummary, Record

from .collector import Address, CollectLimits, Collector, parse_address

PREFIX = "collect:"


def parse_inputs(text: str) -> list[Address]:
    """The addresses of a ``collect:`` input; :class:`ValueError` for a bad one."""
    text = text.removeprefix(PREFIX)
    addresses = [parse_address(item) for item in text.split(",") if item.strip()]
    if not addresses:
        raise ValueError("collect: needs an address, e.g. collect:127.0.0.1:9000")
    return addresses


def limits_from(options: Mapping[str, Any]) -> CollectLimits:
    """:class:`CollectLimits` from source options (defaults for those not given)."""
    defaults = CollectLimits()
    names = ("max_line", "max_buffered", "max_connections", "session_bytes")
    values = {
        name: number_option(options, name, getattr(defaults, name), minimum=1) for name in names
    }
    return CollectLimits(**values)


def _duration(options: Mapping[str, Any]) -> float:
    return float(number_option(options, "duration", 0, float, minimum=0))


#: Seconds at most between two context.caught_up() calls while tap streams keep coming.
CAUGHT_UP_EVERY = 0.1


class CollectSource:
    """Source ``collect``: see the module docstring."""

    name = "collect"
    live = True  # records arrive as taps send them
    says_caught_up = True  # the CLI writes the output out at context.caught_up()
    prefixes = (PREFIX,)
    description = "receive in-process taps' streams: collect:HOST:PORT or collect:unix:PATH"
    options = {
        "max_line": "the longest line a tap may send, in bytes",
        "max_buffered": "bytes a slow pipeline may leave waiting",
        "max_connections": "taps connected at once",
        "session_bytes": "bytes kept per session",
        "duration": "stop by itself after this many seconds",
    }
    types = tuple(ChunkKind)

    def __init__(self) -> None:
        #: Receives the addresses once listening (the command and tests use it).
        self.on_listening: Callable[[list[Address]], None] | None = None

    def probe(self, input: str) -> float:
        return 1.0 if input.startswith(PREFIX) else -1.0

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` for an option value not taken."""
        limits_from(options)
        _duration(options)

    def open(self, input: str, context: SourceContext) -> Iterator[Chunk | Record]:
        try:
            addresses = parse_inputs(input)
        except ValueError as exc:
            raise UsageError(f"collect: {exc}") from None
        limits = limits_from(context.options)
        duration = _duration(context.options)
        collector = Collector(addresses, limits, on_event=_say)
        try:
            listening = collector.start()
        except OSError as exc:
            raise UsageError(exc.strerror or str(exc)) from None
        _say("collecting tap streams on " + ", ".join(map(str, listening)) + "; Ctrl-C to stop")
        if self.on_listening is not None:
            self.on_listening(listening)
        context.started()
        stop = threading.Event()
        deadline = time.monotonic() + duration if duration > 0 else None
        try:
            with _stop_on_signals(stop):
                last_caught_up = time.monotonic()
                while not stop.is_set():
                    ready = collector.poll(0.0)
                    if not ready or time.monotonic() - last_caught_up >= CAUGHT_UP_EVERY:
                        # Before waiting for more, or every 0.1 s in a flood: out with the
                        # output.
                        context.caught_up()
                        last_caught_up = time.monotonic()
                    yield from ready or collector.poll(0.1)
                    context.tick()
                    if deadline is not None and time.monotonic() >= deadline:
                        break
            yield _summary(input, listening, collector.taps_seen)
        finally:
            collector.close()


def _summary(input: str, listening: list[Address], taps: int) -> InputSummary:
    """Why the run may be empty: no tap connected, or the taps reported no packet. The
    line starts with the input, which names the addresses: only those it does not name
    as listened on (port 0's free port) are said again."""
    named = {str(address) for address in parse_inputs(input)}
    unnamed = [str(address) for address in listening if str(address) not in named]
    where = f" (listening on {', '.join(unnamed)})" if unnamed else ""
    if taps == 0:
        reason = (
            f"no tap connected{where}; instrument a server with ioproto_tap "
            "(docs/taps.md) and have it report there ($IOPROTO_COLLECTOR), or try "
            "`ioproto demo --tap`"
        )
    else:
        reason = f"{taps} tap{'s' if taps > 1 else ''} connected but reported no packet"
    return InputSummary(ts=time.time(), input=input, empty_reason=reason)


def _stop_on_signals(stop: threading.Event) -> Any:
    """A context manager: the first SIGINT/SIGTERM sets ``stop`` (the source then returns
    and the pipeline closes cleanly), a second one interrupts (main thread only)."""
    from contextlib import contextmanager

    @contextmanager
    def handlers() -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: FrameType | None) -> None:
            if stop.is_set():
                raise KeyboardInterrupt
            stop.set()

        saved = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, old in saved.items():
                signal.signal(sig, old)

    return handlers()


def _say(message: str) -> None:
    print(f"ioproto: {message}", file=sys.stderr, flush=True)
