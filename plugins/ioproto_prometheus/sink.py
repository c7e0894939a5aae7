"""The ``prometheus`` sink: metrics on an HTTP endpoint for Prometheus to scrape.

``--sink prometheus`` serves ``http://127.0.0.1:9464/metrics``; ``--sink
prometheus:HOST:PORT`` (or ``:PORT``, ``[::1]:PORT``) elsewhere. The server runs in a
thread of its own from the moment the pipeline is built, so it answers while a live source
(the proxy, ``live:IFACE``) feeds the pipeline, and it is given the figures as records
arrive.

When a *file* input ends, the command keeps serving the final figures until Ctrl-C or
SIGTERM (``linger``), so that Prometheus can scrape them; ``--sink-option
prometheus.exit=true`` stops at once instead. A live source's stop (Ctrl-C) stops the server
with the command. An in-process tap's ``close()`` stops it too (the tap gives ``exit=true``
unless its ``sink_options`` say otherwise; ``exit=false`` keeps it serving until the process
exits).

Options (``--sink-option prometheus.KEY=VALUE``): ``listen`` (``HOST:PORT``, what
``prometheus:HOST:PORT`` sets; named as the dashboard sink's option of the same job;
``address``, its earlier name, is still taken), ``exit``, ``top_events`` (distinct
namespace/event pairs with labels of their own, default 100; the rest are ``other``),
``top_values`` (the same for every other label, default 50), ``max_sessions`` (sessions
followed, default 100,000).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping
from types import FrameType
from typing import TYPE_CHECKING, Any

from ioproto import listening
from ioproto.components import SinkContext, flag_option, number_option
from ioproto.errors import UsageError
from ioproto.model import Record

if TYPE_CHECKING:
    pass

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9464


def parse_address(text: str | None) -> tuple[str, int]:
    """``"HOST:PORT"``, ``":PORT"``, ``"PORT"``, ``"[::1]:PORT"``, ``"http://HOST:PORT"`` or
    ``""`` → (host, port) (:func:`ioproto.listening.parse_listen`)."""
    if not text:
        return DEFAULT_HOST, DEFAULT_PORT
    try:
        return listening.parse_listen(text, default_host=DEFAULT_HOST, forms="HOST:PORT")
    except ValueError as exc:
        raise ValueError(f"prometheus: {exc}") from None


class PrometheusSink:
    def __init__(self, context: SinkContext) -> None:
        # prometheus_client loads when the sink opens, not with every ioproto command.
        from prometheus_client import start_http_server

        from .metrics import LiveMetrics, Metrics

        (self.host, self.port), self.exit, bounds = _settings(context.options)
        # A live source's records: capture time passes between them too (idle sessions end).
        self.metrics = (LiveMetrics if context.live else Metrics)(**bounds)
        try:
            self._server, self._thread = start_http_server(
                self.port, addr=self.host, registry=self.metrics.registry
            )
        except OSError as exc:
            how = _how_to_choose(context.options)
            why = listening.cannot_listen(self.host, self.port, exc, how)
            raise UsageError(f"prometheus: {why}") from None
        self.port = self._server.server_port
        self._stopped = False
        self._said = False

    def started(self) -> None:
        """The input has opened: say where the metrics are. Not before: an input that
        cannot open (``live:eth9``) is then one line on stderr, not the URL first."""
        if not self._said:
            self._said = True
            print(f"ioproto: metrics on {self.url}", file=sys.stderr, flush=True)

    @property
    def url(self) -> str:
        return f"http://{listening.hostport(self.host, self.port)}/metrics"

    def write(self, record: Record) -> None:
        self.metrics.add(record)

    def close(self) -> None:
        if self.exit:
            self.stop()

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if not self._stopped:
            self._stopped = True
            self._server.shutdown()
            self._server.server_close()

    def linger(self) -> None:
        """After a file input ended: serve until Ctrl-C or SIGTERM (not with ``exit``)."""
        if self._stopped:
            return
        print(
            f"ioproto: input ended; serving the final metrics on {self.url} until Ctrl-C "
            "(--sink-option prometheus.exit=true stops at once)",
            file=sys.stderr,
            flush=True,
        )
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = signal.signal(signal.SIGTERM, on_signal)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            self.stop()


class PrometheusSinkFactory:
    """Sink ``prometheus``: see the module docstring."""

    name = "prometheus"
    description = "Prometheus metrics over HTTP (default 127.0.0.1:9464): sessions, events, RTTs"
    #: ``--sink prometheus:HOST:PORT`` names an address, not a file to write.
    target = "address"
    options = {
        "listen": "HOST:PORT to serve the metrics on (default 127.0.0.1:9464)",
        "address": "the same as listen (its earlier name)",
        "exit": "true: stop serving when the input ends, not at Ctrl-C (default false)",
        "top_events": "event names with series of their own (default 100)",
        "top_values": "values of a label with series of their own (default 50)",
        "max_sessions": "sessions followed at once (default 100000)",
    }

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` (or :class:`ValueError`) for an option
        value not taken."""
        _settings(options)

    def open(self, context: SinkContext) -> PrometheusSink:
        return PrometheusSink(context)


def _how_to_choose(options: Mapping[str, Any]) -> str:
    """How to choose another address, naming the option the user gave it with."""
    for key in ("listen", "address"):
        if options.get(key):
            return f"with --sink-option prometheus.{key}=HOST:PORT"
    return "with --sink prometheus:HOST:PORT"


def _settings(options: Mapping[str, Any]) -> tuple[tuple[str, int], bool, dict[str, int]]:
    """The address to serve on, ``exit`` (default false), and the bounds of the metrics'
    tables."""
    given = {options[key] for key in ("listen", "address", "target") if options.get(key)}
    if len(given) > 1:
        raise UsageError(
            "prometheus: give the address to serve on once (listen, address and "
            f"prometheus:HOST:PORT differ: {', '.join(sorted(map(str, given)))})"
        )
    address = parse_address(next(iter(given), None))
    bounds = {
        "top_events": number_option(options, "top_events", 100, minimum=1),
        "top_values": number_option(options, "top_values", 50, minimum=1),
        "max_sessions": number_option(options, "max_sessions", 100_000, minimum=1),
    }
    return address, flag_option(options, "exit"), bounds
