"""The ``dashboard`` sink: serves the realtime web dashboard of the records it is given.

Options (``--sink-option dashboard.KEY=VALUE``, or the ``ioproto dashboard`` flags; an
in-process tap's ``sink_options``):

* ``listen``: ``HOST:PORT`` to serve on (default ``127.0.0.1:0``: loopback, a free port);
  ``--sink dashboard:HOST:PORT`` (a tap's ``sinks=["dashboard:HOST:PORT"]``) says the same,
  as ``prometheus:HOST:PORT`` does: the factory's ``target`` is an address, never a file.
  Any other than a loopback address needs an access token, which is made up at random and
  printed in the URL.
* ``browser``: ``false`` not to open a browser (by default one is opened when there is a
  display).
* ``hold``: whether the page goes on showing the final state once the input has ended
  (default ``true``). After an input that ended by itself (a file, a pipe) the command
  holds it until Ctrl-C or SIGTERM (the ``linger`` hook); ``false`` stops serving at once.
  A live source's stop (Ctrl-C) stops the page with the command. An in-process tap's
  ``close()`` stops it too, unless asked (the tap gives ``hold=false`` unless its
  ``sink_options`` say otherwise; ``true`` keeps it serving until the process exits).
* ``export``: a path: serve nothing; write a self-contained HTML report there at the end.
* ``interval``: seconds between updates of the page (default 0.25).
* budgets in bytes: ``sessions``, ``packets``, ``timelines``, ``events``, ``errors``, and
  ``rows_per_second`` (see :class:`~.budgets.Budgets`).

Status lines go to stderr; the sink writes nothing to its output stream.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import FrameType
from typing import IO, Any, NamedTuple

import attrs

from ioproto import listening
from ioproto.components import SinkContext, flag_option, number_option
from ioproto.errors import UsageError, check_writable
from ioproto.model import Record
from ioproto.render import plural, readable

from .aggregate import Aggregate
from .budgets import Budgets
from .hub import Feed, Hub

DEFAULT_LISTEN = "127.0.0.1:0"

#: How the address is named when it came as ``--sink dashboard:HOST:PORT`` (option
#: ``target``).
TARGET_FORM = "--sink dashboard:HOST:PORT"


#: How the ``listen`` option is named to the user when nothing says otherwise (the sink in
#: a run of another command: ``--sink dashboard``).
LISTEN_OPTION = "--sink-option dashboard.listen="

#: The internal option by which the ``dashboard`` command says that ``listen`` came from
#: its ``--listen`` flag, so that a refusal names the flag the user typed.
LISTEN_FLAG = "listen_flag"


def parse_listen(text: str, option: str = LISTEN_OPTION) -> tuple[str, int]:
    """``HOST:PORT``, ``[V6]:PORT``, ``:PORT``, ``PORT`` (loopback) or ``http://HOST:PORT``
    → ``(host, port)`` (:func:`ioproto.listening.parse_listen`); the :class:`ValueError`
    for anything else starts with ``option``, as the user gave the address."""
    try:
        return listening.parse_listen(text)
    except ValueError as exc:
        raise ValueError(f"{option.rstrip('=')}: {exc}") from None


def can_open_browser() -> bool:
    """Whether a graphical browser can be started (not on a server without a display,
    where Python's webbrowser module would start a text browser in the terminal)."""
    if sys.platform.startswith("linux") or "bsd" in sys.platform:
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def _say(message: str) -> None:
    print(f"ioproto dashboard: {readable(message)}", file=sys.stderr, flush=True)


#: The sink options that set :class:`Budgets`.
BUDGETS = tuple(field.name for field in attrs.fields(Budgets))


class DashboardSink:
    def __init__(self, context: SinkContext) -> None:
        options: dict[str, Any] = dict(context.options)
        self._stream: IO[str] = context.stream
        given = options.get("feed")
        # Live or not is what the sink is told (SinkContext.live: the source's own word),
        # wherever it is opened: the dashboard command, --sink dashboard, a tap's sinks=.
        feed = given if isinstance(given, Feed) else Feed()
        self.feed = attrs.evolve(feed, live=context.live)
        settings = DashboardOptions.read(options)
        self.budgets = settings.budgets
        self.hub = Hub(Aggregate(self.budgets), feed=self.feed, interval=settings.interval)
        self.export = settings.export
        self.hold = settings.hold
        self.url: str | None = None
        self.server: Any = None
        #: (not on loopback, open a browser) until :meth:`started` has said where it serves
        self._announce: tuple[bool, bool] | None = None
        self.live = context.live
        if self.export is None:
            self._serve(settings.listen, settings.browser, _how_to_choose(options))

    def _serve(self, listen: str, browser: bool, how: str) -> None:
        from .server import DashboardServer, bind_socket, is_loopback

        host, port = parse_listen(listen)
        try:
            sock = bind_socket(host, port)
        except OSError as exc:
            raise UsageError(listening.cannot_listen(host, port, exc, how)) from None
        token = None if is_loopback(host) else secrets.token_urlsafe(18)
        self.server = DashboardServer(self.hub, sock, token=token)
        self.server.start()
        shown = host
        if host in ("0.0.0.0", "::", ""):
            shown = socket.gethostname()
        if ":" in shown:
            shown = f"[{shown}]"
        self.url = f"http://{shown}:{self.server.port}/" + (f"?token={token}" if token else "")
        self._announce = (token is not None, browser)

    def started(self) -> None:
        """The input has opened: say where the page is, and open it. Not before: an input
        that cannot open (``live:eth9``) is then one line on stderr, not the URL first."""
        if self._announce is None or self.url is None:
            return
        on_network, browser = self._announce
        self._announce = None
        _say(f"serving {self.url} (Ctrl-C to stop)")
        if on_network:
            _say("not on loopback: anyone with this URL (and its token) can see the traffic")
        if browser:
            if can_open_browser():
                import webbrowser

                webbrowser.open(self.url)
            else:
                _say("no display here: open the URL above in a browser")

    def write(self, record: Record) -> None:
        self.hub.write(record)

    def close(self) -> None:
        self.hub.finish()
        if self.export is not None:
            from .page import export_html

            with open(self.export, "w", encoding="utf-8") as handle:
                handle.write(export_html(self.hub.export_data()))
            _say(f"wrote {self.export} ({plural(self.hub.aggregate.records, 'record')})")
            return
        if self.server is None:
            return
        interrupted = sys.exc_info()[1] is not None
        if interrupted or not self.hold:
            self.server.stop()

    def linger(self) -> None:
        """After a file input ended (``hold``): show the final state until Ctrl-C or SIGTERM,
        either of which returns quietly. Not called after a live source, whose stop (one
        Ctrl-C or SIGTERM) ends the command."""
        if self.server is None or not self.hold:
            return
        self.started()  # where the page is, if no input said it had opened
        records = self.hub.aggregate.records
        with _signalled() as stop:
            _say(f"the input has ended ({plural(records, 'record')}); showing it until Ctrl-C")
            stop.wait()
        self.server.stop()


@contextmanager
def _signalled() -> Iterator[threading.Event]:
    """An event the first SIGINT or SIGTERM sets (main thread; elsewhere only a call to
    ``set``). A second signal is absorbed too, so the quiet exit happens once."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


class DashboardSinkFactory:
    """Sink ``dashboard``: see the module docstring for its options."""

    name = "dashboard"
    description = "a realtime web dashboard in the browser (transports, clients, latency, ...)"
    #: ``--sink dashboard:HOST:PORT`` names where to serve (option ``target``), not a file.
    target = "address"
    options = {
        "listen": "HOST:PORT to serve on (default 127.0.0.1:0)",
        "browser": "false: do not open a browser",
        "hold": "after the input ends, keep serving until Ctrl-C (default true)",
        "export": "a path: serve nothing, write the report there at the end",
        "interval": "seconds between publications (default 0.25)",
        **{name: "a budget of the dashboard's tables (docs/dashboard.md)" for name in BUDGETS},
    }
    #: what the dashboard command gives: its inputs and ``--speed`` (a :class:`Feed`), and
    #: the flag that set ``listen``
    private_options = ("feed", LISTEN_FLAG)

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` (or :class:`ValueError`) for an option
        value not taken."""
        DashboardOptions.read(options)

    def open(self, context: SinkContext) -> DashboardSink:
        return DashboardSink(context)


class DashboardOptions(NamedTuple):
    """The sink options of the dashboard (the module docstring lists them)."""

    budgets: Budgets
    #: seconds between publications
    interval: float
    #: the report to write at the end instead of serving
    export: str | None
    hold: bool
    listen: str
    browser: bool

    @classmethod
    def read(cls, options: Mapping[str, Any]) -> DashboardOptions:
        """The options' values; :class:`~ioproto.errors.UsageError` (or
        :class:`ValueError`) for one not taken or a report that cannot be written."""
        export = str(options["export"]) if options.get("export") else None
        if export is not None:
            check_writable(export, "report", html=True)
        return cls(
            budgets=Budgets.from_options(dict(options)),
            interval=number_option(options, "interval", 0.25, float, minimum=0.05),
            export=export,
            hold=flag_option(options, "hold", True),
            listen=_listen(options),
            browser=flag_option(options, "browser", True),
        )


def _listen(options: Mapping[str, Any]) -> str:
    """The address to serve on: option ``listen`` or ``target`` (``--sink
    dashboard:HOST:PORT``), given once; checked."""
    given = {str(options[key]) for key in ("listen", "target") if options.get(key)}
    if len(given) > 1:
        raise UsageError(
            "dashboard: give the address to serve on once (listen and "
            f"dashboard:HOST:PORT differ: {', '.join(sorted(given))})"
        )
    if options.get("target"):
        target = str(options["target"])
        try:
            parse_listen(target, option="dashboard")
        except ValueError as exc:
            if target.lower().endswith((".html", ".htm")):  # meant as a report's file
                raise ValueError(
                    f"{exc}; to write a report: --sink-option dashboard.export={target} "
                    f"(ioproto dashboard --export {target})"
                ) from None
            raise
        return target
    listen = str(options.get("listen") or DEFAULT_LISTEN)
    parse_listen(listen)
    return listen


def _how_to_choose(options: Mapping[str, Any]) -> str:
    """How to choose another address, naming the way the user gave this one."""
    if options.get("target"):
        return f"with {TARGET_FORM}"
    flag = options.get(LISTEN_FLAG)
    return f"with {flag} HOST:PORT" if flag else f"with {LISTEN_OPTION}HOST:PORT"
