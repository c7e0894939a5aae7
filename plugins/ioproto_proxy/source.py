"""Source ``proxy``: run a monitoring reverse proxy and yield what passes through it.

Input: ``proxy:[HOST:]PORT`` (or ``[HOST:]PORT`` with ``--source proxy``); HOST defaults to
127.0.0.1. Source options:

* ``upstream=URL`` (required);
* ``upstream_ca=PEM``: CAs to trust for an ``https://`` upstream instead of the system's;
* ``buffer=BYTES``: how much copied traffic may wait in the relay's process for the decoder
  (default 16 MiB);
* ``spool=BYTES``: how much more may wait in the decoder's process, the first 8 MiB in
  memory, the rest in an unlinked temporary file (default 1 GiB; ``0``: none), see below;
* ``priority=auto|idle|normal``: the decoder's CPU priority, see below;
* ``ws_compression=pass|off``: ``off`` removes the clients' permessage-deflate offers, so no
  WebSocket is compressed and a dropped copy cannot cost the decoder a connection's
  deflate context;
* ``head_timeout=SECONDS``: a client that sends no complete request head for that long is
  answered 408 and closed (default 30; 0 turns it off);
* ``duration=SECONDS``: stop by itself (default: until Ctrl-C/SIGTERM);
* (HTTP that is not Engine.IO is the ``http`` layer's choice: ``-D all_http=true``.)

The relay runs in a child process (:mod:`.process`); this generator runs in the pipeline's
thread, takes the bytes the child copied and decodes them (:mod:`.streams`). Forwarding comes
first: with ``priority=auto`` (the default) the decoding thread drops to idle priority when
the traffic is heavy (:mod:`.priority`), so on a machine saturated by a flood the copies
wait (8 MiB in memory, then up to ``spool`` bytes in an unlinked temporary file:
:mod:`.spool`) and are decoded once the flood eases; only beyond that, and ``buffer`` bytes
more in the relay's process, are they dropped. While the traffic is light it decodes at
normal priority, so each message shows up at once even on a machine busy with other work.
Once stopped it decodes what still waits, as long as it makes progress (a second Ctrl-C
skips that). The decoder reports each hole as a ``capture.tcp.gap`` and resynchronises; an
``ErrorRecord`` with rule ``proxy.tap.dropped`` reports the running total (at most once a
second) and once more at exit, and the total is printed on stderr at exit. If the child
dies, a ``proxy.process.exited`` record says so and the source ends. Its last record is an
:class:`~ioproto.model.InputSummary`: the bytes that passed, and, when nothing was decoded,
why (no client used the proxy, the upstream refused or never answered, or none of it was
Engine.IO).

A proxy that cannot start (a bad option or upstream URL, an upstream that is the proxy's
own address, an address it cannot listen on: the port in use, a host that is not this
machine's) is the user's mistake: ``open`` raises
:class:`~ioproto.errors.UsageError` with one line saying what to do. A relay process that
could not be started, or died or hung before it listened, is not: a
``proxy.process.failed`` record and an unreadable :class:`~ioproto.model.InputSummary` say
why (the command ends with status 1).
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from ioproto_tcp.records import RECORD_TYPES

from ioproto import listening
from ioproto.components import SourceContext, choice_option, number_option
from ioproto.errors import UsageError
from ioproto.model import ErrorRecord, InputSummary, Record

from .priority import PRIORITIES, DecodePriority, decode_with_priority
from .signals import stop_on_signals

if TYPE_CHECKING:
    from .process import ProxyConfig, ProxyProcess
    from .relay import Upstream

#: What may wait in the decoder's process (:mod:`.spool`; kept here so that the command's
#: options do not import the relay's modules).
DEFAULT_SPOOL = 1 << 30

DEFAULT_BUFFER = 16 * 1024 * 1024

#: Once asked to stop, the proxy decodes what waits until this long passes without
#: anything coming from the proxy process (which may be stuck).
DRAIN_SECONDS = 30.0

#: Seconds at most between two context.caught_up() calls while copies keep coming.
CAUGHT_UP_EVERY = 0.1


def parse_listen(text: str) -> tuple[str, int]:
    """``"8080"``, ``"127.0.0.1:8080"``, ``"[::1]:8080"``, ``"http://127.0.0.1:8080"``, each
    perhaps after ``proxy:`` → ``(host, port)`` (:func:`ioproto.listening.parse_listen`).

    Raises :class:`ValueError` with a readable message for anything else.
    """
    text = text.strip()
    for prefix in ("proxy://", "proxy:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    return listening.parse_listen(text)


class ProxySource:
    """Source ``proxy``: see the module docstring."""

    name = "proxy"
    live = True  # records arrive as traffic happens
    says_caught_up = True  # the CLI writes the output out at context.caught_up()
    prefixes = ("proxy:",)
    description = "run a monitoring reverse proxy: proxy:[HOST:]PORT, option upstream=URL"
    options = {
        "upstream": "the real server's URL, e.g. http://127.0.0.1:3000 (required)",
        "upstream_ca": "for an https:// upstream: a PEM file of CAs to trust",
        "buffer": "bytes of copied traffic that may wait in the relay's process (default 16 MiB)",
        "spool": "bytes more that may wait here, past 8 MiB on disk (default 1 GiB; 0: none)",
        "priority": "auto (default), idle or normal: the CPU priority of decoding",
        "ws_compression": "pass (default) or off: remove permessage-deflate offers",
        "duration": "stop by itself after this many seconds",
        "head_timeout": "seconds a client may take to send a whole request head",
    }
    types = RECORD_TYPES

    def __init__(self) -> None:
        #: Receives ``(host, port)`` once listening (tests and the command use it).
        self.on_listening: Callable[[tuple[str, int]], None] | None = None

    def probe(self, input: str) -> float:
        return 1.0 if input.startswith(self.prefixes) else -1.0

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` for an option value not taken (no
        upstream, a bad one or its CA file, a bad number or choice)."""
        _Settings.read(options, "127.0.0.1", 0)

    def open(self, input: str, context: SourceContext) -> Iterator[Record]:
        """What passes through the proxy, as it passes. Raises
        :class:`~ioproto.errors.UsageError` when the proxy cannot start: a bad option or
        upstream URL, an address it cannot listen on (in use, an unknown host)."""
        # The relay's modules (asyncio, ssl) load when a proxy runs, not with every command.
        from .process import ListenError, ProxyProcess, RelayFailed
        from .streams import TapDecoder

        try:
            host, port = parse_listen(input)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        settings = _Settings.read(context.options, host, port)
        config, target, duration = settings.config, settings.target, settings.duration
        priority = settings.priority
        proxy = ProxyProcess(config, TapDecoder(), spool=settings.spool)
        try:
            try:
                address = proxy.start()
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            except ListenError as exc:
                raise UsageError(listening.cannot_listen(host, port, exc)) from None
            except RelayFailed as exc:
                # Not the user's doing: the input could not be read (exit status 1).
                yield _error(time.time(), input, "proxy.process.failed", str(exc))
                yield InputSummary(
                    ts=time.time(), input=input, empty_reason=str(exc), unreadable=str(exc)
                )
                return
            _say(f"proxy listening on http://{listening.hostport(*address)} -> {target.url}")
            threading.Thread(target=_warn_if_unreachable, args=(target,), daemon=True).start()
            if self.on_listening is not None:
                self.on_listening(address)
            context.started()
            stop = threading.Event()
            deadline = time.monotonic() + duration if duration > 0 else None
            # The handlers stay while draining: a second signal interrupts that too.
            with stop_on_signals(stop):
                with decode_with_priority(priority) as governor:
                    yield from self._consume(proxy, stop, deadline, input, context, governor)
                proxy.stop()
                queued = proxy.queued_bytes
                if queued >= 1 << 20:
                    _say(
                        f"stopping: decoding the {queued / 1e6:.1f} MB of traffic still "
                        "buffered (Ctrl-C again to skip)"
                    )
                drain_until = time.monotonic() + DRAIN_SECONDS
                while not proxy.exited and time.monotonic() < drain_until:
                    before = proxy.frames_read
                    yield from proxy.records(timeout=0.1)
                    if proxy.frames_read != before:
                        drain_until = time.monotonic() + DRAIN_SECONDS
            left = 0 if proxy.exited else proxy.queued_bytes
            if proxy.spilled_bytes:
                _say(
                    f"proxy: {proxy.spilled_bytes / 1e6:.1f} MB of copies waited in the spool "
                    "file while decoding caught up"
                )
            if proxy.dropped_bytes or left:
                text = _dropped_text(proxy, final=True, left=left)
                _say(f"proxy: {text}")
                yield _error(time.time(), input, "proxy.tap.dropped", text)
            yield _summary(input, address, target.url, proxy)
        finally:
            proxy.close()

    def _consume(
        self,
        proxy: ProxyProcess,
        stop: threading.Event,
        deadline: float | None,
        input: str,
        context: SourceContext,
        governor: DecodePriority,
    ) -> Iterator[Record]:
        reported = 0
        last_report = 0.0
        last_caught_up = time.monotonic()
        while not stop.is_set():
            queued = proxy.queued_bytes
            governor.follow(queued)
            if not queued or time.monotonic() - last_caught_up >= CAUGHT_UP_EVERY:
                # Before waiting for more, or every 0.1 s in a flood: out with the output.
                context.caught_up()
                last_caught_up = time.monotonic()
            yield from proxy.records(timeout=0.1)
            if proxy.exited:
                yield _error(
                    time.time(),
                    input,
                    "proxy.process.exited",
                    "the proxy process ended unexpectedly; the proxy is no longer running",
                )
                return
            now = time.monotonic()
            dropped = proxy.dropped_bytes
            if dropped != reported and now - last_report >= 1.0:
                reported, last_report = dropped, now
                text = _dropped_text(proxy, final=False)
                yield _error(time.time(), input, "proxy.tap.dropped", text)
            context.tick()  # periodic sink output (--every) while the wire is quiet
            if deadline is not None and now >= deadline:
                return


def _summary(
    input: str, address: tuple[str, int], upstream: str, proxy: ProxyProcess
) -> InputSummary:
    """What passed through the proxy, and what to say should nothing be decoded from it
    (the layers above may find no Engine.IO in the bytes: always set): no client came, the
    upstream could not be reached or never answered, or none of it was Engine.IO."""
    copied = proxy.copied_bytes
    sent, answered = proxy.decoder.bytes_by_side()
    unreachable = proxy.decoder.unreachable
    if not copied:
        where = listening.hostport(*address)
        reason = f"no client sent anything through the proxy (point them at http://{where})"
    elif unreachable is not None and not answered:
        why = unreachable.removeprefix(f"cannot reach {upstream}: ")
        reason = (
            f"the upstream at {upstream} could not be reached ({why}), so no traffic was seen: "
            "clients got 502 Bad Gateway; start the server or correct --upstream"
        )
    elif not answered:
        reason = (
            f"the upstream at {upstream} never answered ({sent} bytes from clients, none "
            "back), so no traffic was seen; is it the Engine.IO/Socket.IO server, and is it "
            "responding?"
        )
    else:
        reason = (
            f"{copied} bytes passed through the proxy, none of them Engine.IO traffic "
            "(-D all_http=true shows every HTTP message)"
        )
    return InputSummary(ts=time.time(), input=input, counts={"bytes": copied}, empty_reason=reason)


def _dropped_text(proxy: ProxyProcess, *, final: bool, left: int = 0) -> str:
    when = "in total" if final else "so far"
    text = (
        f"the pipeline fell behind: {proxy.dropped_bytes} bytes in "
        f"{proxy.dropped_segments} reads were not decoded {when} "
        "(the traffic itself was forwarded; see the capture.tcp.gap records)"
    )
    if left:
        text += f"; {left} bytes still buffered at exit were not decoded either"
    return text


def _warn_if_unreachable(upstream: Upstream) -> None:
    """Say so on stderr when nothing answers at the upstream's address now (a server not
    started yet, a wrong port): clients would get 502 until it does. Only a warning: the
    server may well come up later."""
    try:
        socket.create_connection((upstream.host, upstream.port), timeout=2.0).close()
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
        _say(
            f"warning: nothing answers at {upstream.url} yet ({why}); clients get "
            "502 Bad Gateway until it does: is the server running?"
        )


def _error(ts: float, input: str, rule: str, reason: str) -> ErrorRecord:
    return ErrorRecord(ts=ts, connection=input, layer="proxy", rule=rule, reason=reason)


@attrs.frozen
class _Settings:
    """The source options, checked."""

    config: ProxyConfig
    target: Upstream
    spool: int
    priority: str
    duration: float

    @classmethod
    def read(cls, options: Mapping[str, Any], host: str, port: int) -> _Settings:
        """The settings of a proxy listening on ``host``:``port``; a
        :class:`~ioproto.errors.UsageError` for an option not taken."""
        from .process import ProxyConfig
        from .relay import DEFAULT_HEAD_TIMEOUT, Upstream

        upstream = options.get("upstream")
        try:
            if not upstream:
                raise ValueError("the proxy needs an upstream: --source-option upstream=URL")
            config = ProxyConfig(
                host=host,
                port=port,
                upstream=str(upstream),
                buffer=number_option(options, "buffer", DEFAULT_BUFFER, minimum=1),
                ws_compression=_compression(options.get("ws_compression", "pass")),
                upstream_ca=str(options["upstream_ca"]) if options.get("upstream_ca") else None,
                head_timeout=number_option(
                    options, "head_timeout", DEFAULT_HEAD_TIMEOUT, float, minimum=0
                ),
            )
            target = Upstream(config.upstream, config.upstream_ca)  # fail here, not later
            if target.is_at(host, port):
                raise ValueError(
                    f"upstream={upstream} is this proxy's own address "
                    f"(proxy:{listening.hostport(host, port)}): it would forward to itself"
                )
            return cls(
                config=config,
                target=target,
                spool=number_option(options, "spool", DEFAULT_SPOOL, minimum=0),
                priority=str(choice_option(options, "priority", PRIORITIES, "auto")),
                duration=number_option(options, "duration", 0, float, minimum=0),
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        except OSError as exc:
            raise UsageError(f"cannot load the upstream CA file: {exc}") from None


def _compression(value: object) -> bool:
    if value in ("pass", True):
        return True
    if value in ("off", False):
        return False
    raise ValueError(f"ws_compression must be pass or off, not {value!r}")


def _say(message: str) -> None:
    print(f"ioproto: {message}", file=sys.stderr, flush=True)
