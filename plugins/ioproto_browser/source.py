"""Source ``cdp``: a running Chrome/Chromium, through the DevTools Protocol, live.

Input: ``cdp:HOST:PORT`` (a browser started with ``--remote-debugging-port=PORT``),
``cdp:PORT`` (on 127.0.0.1) or ``cdp:ws://…`` (the browser endpoint itself). The source
attaches to every tab (and frame, and worker), follows new tabs and reloads, and delivers
what the browser sent and received on Engine.IO's HTTP requests and WebSockets as chunks
(:mod:`.network`), as it happens. It ends when the browser closes (or the connection is
lost), on Ctrl-C or SIGTERM, or after ``duration``.

Source options: ``all=true`` (follow every request, not only Engine.IO's),
``pending_bytes`` (memory budget, default 64 MiB), ``max_message`` (longest DevTools
message, default 256 MiB), ``reply_timeout`` (seconds a record waits for its body,
default 10), ``duration`` (seconds), ``open=URL`` (open this page in the first tab),
``har=FILE`` (also write what was captured as a Chrome-format HAR), ``record=FILE`` (write
every DevTools message received, one JSON object per line: what
:func:`~.machine.translate` replays, for bug reports and tests), ``reorder`` (seconds a
record waits for earlier ones reported late, default 0.2).

A stop (Ctrl-C, SIGTERM, ``duration``) first lets the bodies being fetched arrive (up to
2 s), so nothing already received is lost; the end of the connection finishes what is
open with a record saying what was cut off.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import attrs
import orjson
from ioproto_http.records import CHUNK_TYPES

from ioproto.components import SourceContext, flag_option, number_option
from ioproto.errors import UsageError, check_writable
from ioproto.model import ErrorRecord, InputSummary, Record
from ioproto.render import readable

from .connection import (
    DEFAULT_MAX_MESSAGE,
    PREFIX,
    ConnectionEnded,
    DevToolsConnection,
    EndpointError,
    InvalidMessage,
    discover,
    parse_input,
)
from .machine import DEFAULT_PENDING_BYTES, CdpMachine
from .network import LAYER
from .outbox import DEFAULT_WINDOW
from .signals import stop_on_signals

#: How long a stop waits for the bodies still being fetched.
_DRAIN_SECONDS = 2.0
_POLL_SECONDS = 0.05
#: The longest ``reorder`` window, in seconds: records wait that long before they show.
MAX_WINDOW = 10.0


class CdpSource:
    """Source ``cdp``: see the module docstring."""

    name = "cdp"
    live = True  # records arrive as the browser reports traffic: output stays line-buffered
    prefixes = (PREFIX,)
    description = "a running Chrome/Chromium through the DevTools Protocol: cdp:HOST:PORT"
    options = {
        "all": "true: follow every request, not only Engine.IO's",
        "pending_bytes": "memory budget in bytes (default 64 MiB)",
        "max_message": "the longest DevTools message in bytes (default 256 MiB)",
        "reply_timeout": "seconds a record waits for its body (default 10)",
        "duration": "stop by itself after this many seconds",
        "open": "open this URL in the first tab",
        "har": "also write what was captured as a Chrome-format HAR to this file",
        "record": "write every DevTools message received to this file (JSON lines)",
        "reorder": "seconds a record waits for earlier ones reported late (default 0.2)",
        "open_required": "true: a page given to open that does not load ends the run (exit 2)",
    }
    file_options = ("har", "record")
    types = (*CHUNK_TYPES, "ws-end", "http-unanswered")

    def __init__(self, on_ready: Callable[[], None] | None = None) -> None:
        #: Called once the capture is on (every tab attached, its Network domain enabled).
        self.on_ready = on_ready

    def probe(self, input: str) -> float:
        return 1.0 if input.startswith(PREFIX) else -1.0

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` for an option value not taken."""
        _Settings.of(options)

    def open(self, input: str, context: SourceContext) -> Iterator[Record]:
        now = time.time()
        with contextlib.ExitStack() as stack:
            settings = _Settings.of(context.options)  # UsageError: a bad option
            try:
                target = parse_input(input)
            except (EndpointError, ValueError) as exc:  # not an address: the user's mistake
                raise UsageError(str(exc)) from None
            try:
                endpoint = target if isinstance(target, str) else discover(*target)[0]
                connection = stack.enter_context(
                    DevToolsConnection.open(endpoint, max_message=settings.max_message)
                )
            except (EndpointError, ValueError) as exc:
                # No browser there: nothing to capture, and the user's to start one.
                raise UsageError(str(exc)) from None
            writer = None
            if settings.har:
                from .har import HarWriter

                try:
                    writer = HarWriter(settings.har)
                except OSError as exc:
                    reason = f"cannot write {settings.har}: {exc}"
                    yield _error(now, input, "cdp.har.failed", reason)
                    return
                stack.callback(_say, f"wrote {settings.har}")
                stack.callback(writer.close)
            if settings.record:
                try:
                    recorder = stack.enter_context(open(settings.record, "wb"))
                except OSError as exc:
                    reason = f"cannot write {settings.record}: {exc}"
                    yield _error(now, input, "cdp.record.failed", reason)
                    return
                context = attrs.evolve(context, tick=_recording(context.tick, recorder))
                settings.recorder = recorder
            machine = CdpMachine(
                wanted=context.wanted,
                take_all=settings.take_all,
                observer=writer.observe if writer is not None else None,
                open_url=settings.open_url,
                pending_bytes=settings.pending_bytes,
                reply_timeout=settings.reply_timeout,
                max_body=context.limits.max_payload,
                window=settings.window,
            )
            attached = f"attached to {endpoint}; Ctrl-C to stop"
            if settings.open_required:
                # Said once the page has loaded: a page that does not load is a mistake,
                # and a mistake is one line on stderr.
                settings.attached = attached
            else:
                _say(attached)
                context.started()
            yield from _run(connection, machine, context, settings, self.on_ready)
            yield _summary(now, input, endpoint, settings)


def _run(
    connection: DevToolsConnection,
    machine: CdpMachine,
    context: SourceContext,
    settings: _Settings,
    on_ready: Callable[[], None] | None,
) -> Iterator[Record]:
    """Move messages between the connection and the machine until the end or a stop."""
    stop = threading.Event()
    deadline = time.monotonic() + settings.duration if settings.duration > 0 else None
    machine.start(time.time())
    with stop_on_signals(stop):
        drain_until: float | None = None
        while True:
            for command in machine.outgoing():
                connection.send(command)
            if drain_until is None and (
                stop.is_set() or (deadline is not None and time.monotonic() >= deadline)
            ):
                drain_until = time.monotonic() + _DRAIN_SECONDS
            if drain_until is not None and (
                not machine.holding() or time.monotonic() >= drain_until
            ):
                yield from machine.close(time.time())
                return
            try:
                message = connection.receive(_POLL_SECONDS)
            except ConnectionEnded as ended:
                if ended.clean:
                    rule, reason = "cdp.connection.closed", "the browser closed the connection"
                else:
                    rule = "cdp.connection.lost"
                    reason = f"the connection to the browser was lost ({ended.detail})"
                yield from machine.close(time.time(), rule, reason)
                return
            now = time.time()
            if message is None:
                yield from machine.tick(now)
            elif isinstance(message, InvalidMessage):
                yield from machine.invalid(message.reason, now)
            else:
                if settings.recorder is not None:
                    settings.recorder.write(orjson.dumps(message) + b"\n")
                yield from machine.receive(message, now)
                if settings.open_required and machine.open_failure is not None:
                    raise UsageError(
                        f"{machine.open_failure}; is the server running, and the URL right?"
                    )
                if settings.attached and machine.opened:
                    _say(settings.attached)
                    settings.attached = ""
                    context.started()
                if on_ready is not None and machine.ready:
                    on_ready()
                    on_ready = None
            context.tick()


class _Settings:
    """The source options, checked."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.take_all = flag_option(options, "all")
        self.open_required = flag_option(options, "open_required")
        self.pending_bytes = number_option(
            options, "pending_bytes", DEFAULT_PENDING_BYTES, minimum=1
        )
        self.max_message = number_option(options, "max_message", DEFAULT_MAX_MESSAGE, minimum=1)
        self.reply_timeout = number_option(options, "reply_timeout", 10, float, minimum=1)
        self.duration = number_option(options, "duration", 0, float, minimum=0)
        self.window = number_option(options, "reorder", DEFAULT_WINDOW, float, minimum=0)
        if self.window > MAX_WINDOW:
            raise UsageError(
                f"option reorder={options.get('reorder')!r}: give 0 to {MAX_WINDOW:g} seconds"
            )
        open_url = options.get("open")
        self.open_url = str(open_url) if open_url else None
        har = options.get("har")
        self.har = str(har) if har else None
        record = options.get("record")
        self.record = str(record) if record else None
        # Found now, not once the browser has started and the capture is on.
        if self.har is not None:
            check_writable(self.har, "HAR")
        if self.record is not None:
            check_writable(self.record, "recording")
        self.recorder: IO[bytes] | None = None
        #: the line saying the capture is on, while it waits for the page to load
        self.attached = ""

    @classmethod
    def of(cls, options: Mapping[str, Any]) -> _Settings:
        return cls(options)


def _recording(tick: Callable[[], None], recorder: IO[bytes]) -> Callable[[], None]:
    """``tick``, also flushing the recording (so that it is whole up to the last tick)."""

    def flush_and_tick() -> None:
        recorder.flush()
        tick()

    return flush_and_tick


def _summary(ts: float, input: str, endpoint: str, settings: _Settings) -> InputSummary:
    """Why the run may be empty: nothing Engine.IO in what the browser at ``endpoint`` (the
    DevTools URL watched) reported."""
    page = f" (it opened {settings.open_url})" if settings.open_url else ""
    follow = "" if settings.take_all else " (--source-option all=true follows every request)"
    reason = (
        f"no Engine.IO request or WebSocket in the tabs watched through DevTools at "
        f"{endpoint}{page}: is the page a Socket.IO client?{follow}"
    )
    return InputSummary(ts=round(ts, 6), input=input, empty_reason=reason)


def _error(ts: float, input: str, rule: str, reason: str) -> ErrorRecord:
    return ErrorRecord(ts=round(ts, 6), connection=input, layer=LAYER, rule=rule, reason=reason)


def _say(message: str) -> None:
    print(f"ioproto: {readable(message)}", file=sys.stderr, flush=True)
