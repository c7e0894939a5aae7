"""Source ``proxy``: run a monitoring reverse proxy and yield what passes through it.

Input: ``proxy:[HOST:]PORT`` (or ``[HOST:]PORT`` with ``--source proxy``); HOST defaults to
127.0.0.1. Source options: ``upstream=URL`` (required), ``queue=N`` (tap queue size, default
10000), ``duration=SECONDS`` (stop by itself; default: until Ctrl-C/SIGTERM),
``max_message=BYTES`` (largest WebSocket message relayed, default 64 MiB).

The proxy runs in a child process (:mod:`.process`), so forwarding and decoding each have a
core; this generator runs in the pipeline's thread and takes the records the child sends
through a bounded channel. When the pipeline falls behind, the proxy keeps forwarding and
drops tap records: an ``ErrorRecord`` with rule ``proxy.tap.dropped`` reports the running
count (at most once a second) and once more at exit, and the count is printed on stderr at
exit. If the child dies, a ``proxy.process.exited`` record says so and the source ends.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ioproto.components import SourceContext
from ioproto.model import Chunk, ErrorRecord, Record

from .process import ProxyConfig, ProxyProcess
from .signals import stop_on_signals
from .tap import DEFAULT_QUEUE_SIZE

#: How long the proxy process may take, once asked to stop, to send what it still has.
DRAIN_SECONDS = 15.0


def parse_listen(text: str) -> tuple[str, int]:
    """``"8080"``, ``"127.0.0.1:8080"``, ``"[::1]:8080"`` → ``(host, port)``.

    Raises :class:`ValueError` with a readable message for anything else.
    """
    text = text.strip()
    for prefix in ("proxy://", "proxy:"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    host, port_text = "127.0.0.1", text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.lstrip(":")
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"{text!r} is not [HOST:]PORT")
    return host or "127.0.0.1", int(port_text)


class ProxySource:
    """Source ``proxy``: see the module docstring."""

    name = "proxy"
    live = True  # records arrive as traffic happens: the CLI keeps output line-buffered
    description = "run a monitoring reverse proxy: proxy:[HOST:]PORT, option upstream=URL"

    def __init__(self) -> None:
        #: Receives ``(host, port)`` once listening (tests and the command use it).
        self.on_listening: Callable[[tuple[str, int]], None] | None = None

    def probe(self, input: str) -> float:
        return 1.0 if input.startswith("proxy:") else -1.0

    def open(self, input: str, context: SourceContext) -> Iterator[Chunk | Record]:
        options = context.options
        now = time.time()
        upstream = options.get("upstream")
        try:
            host, port = parse_listen(input)
            if not upstream:
                raise ValueError("the proxy needs an upstream: --source-option upstream=URL")
            config = ProxyConfig(
                host=host,
                port=port,
                upstream=str(upstream),
                queue=_int(options, "queue", DEFAULT_QUEUE_SIZE),
                max_body=context.limits.max_payload,
                max_message=_int(options, "max_message", 64 * 1024 * 1024),
            )
            duration = float(options.get("duration", 0) or 0)
        except ValueError as exc:
            yield _error(now, input, "proxy.config.invalid", str(exc))
            return
        proxy = ProxyProcess(config)
        try:
            try:
                address = proxy.start()
            except ValueError as exc:
                yield _error(now, input, "proxy.config.invalid", str(exc))
                return
            except (OSError, RuntimeError) as exc:
                yield _error(now, input, "proxy.listen.failed", f"cannot listen on {input}: {exc}")
                return
            _say(f"proxy listening on http://{_hostport(address)} -> {upstream}")
            if self.on_listening is not None:
                self.on_listening(address)
            stop = threading.Event()
            deadline = time.monotonic() + duration if duration > 0 else None
            # The handlers stay while draining: a second signal interrupts that too.
            with stop_on_signals(stop):
                yield from self._consume(proxy, stop, deadline, input, context.tick)
                proxy.stop()
                drain_until = time.monotonic() + DRAIN_SECONDS
                while not proxy.exited and time.monotonic() < drain_until:
                    yield from proxy.records(timeout=0.1)
            if proxy.dropped:
                _say(f"proxy dropped {proxy.dropped} tap records (traffic was forwarded)")
                yield _dropped(proxy.dropped, input, final=True)
        finally:
            proxy.close()

    def _consume(
        self,
        proxy: ProxyProcess,
        stop: threading.Event,
        deadline: float | None,
        input: str,
        tick: Callable[[], None],
    ) -> Iterator[Chunk | Record]:
        reported = 0
        last_report = 0.0
        while not stop.is_set():
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
            dropped = proxy.dropped
            if dropped != reported and now - last_report >= 1.0:
                reported, last_report = dropped, now
                yield _dropped(dropped, input, final=False)
            tick()  # periodic sink output (--every) while the wire is quiet
            if deadline is not None and now >= deadline:
                return


def _dropped(dropped: int, input: str, *, final: bool) -> ErrorRecord:
    when = "in total" if final else "so far"
    return _error(
        time.time(),
        input,
        "proxy.tap.dropped",
        f"the pipeline fell behind: {dropped} tap records dropped {when} "
        "(proxied traffic was not affected)",
    )


def _error(ts: float, input: str, rule: str, reason: str) -> ErrorRecord:
    return ErrorRecord(ts=ts, connection=input, layer="proxy", rule=rule, reason=reason)


def _int(options: Any, key: str, default: int) -> int:
    value = options.get(key, default)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"source option {key} must be an integer, not {value!r}") from None


def _hostport(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _say(message: str) -> None:
    print(f"ioproto: {message}", file=sys.stderr, flush=True)
