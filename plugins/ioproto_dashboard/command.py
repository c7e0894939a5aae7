"""``ioproto dashboard INPUT...``: ``decode`` into the ``dashboard`` sink, with replay pacing."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import decode_options, input_options, named_file, output_options
from ioproto.cli.state import CliState
from ioproto.components import Source
from ioproto.model import Record

from .hub import Feed
from .sink import DEFAULT_LISTEN, LISTEN_FLAG, parse_listen


class Pacer:
    """Feeds a file's records at ``speed`` times their recorded pace (0: as fast as
    possible); a live source's records as they come."""

    def __init__(self, speed: float) -> None:
        self.speed = speed

    def __call__(self, source: Source, input: str, records: Iterable[Record]) -> Iterator[Record]:
        if self.speed <= 0 or getattr(source, "live", False):
            yield from records
            return
        first: float | None = None
        started = 0.0
        for record in records:
            if first is None:
                first, started = record.ts, time.monotonic()
            due = started + (record.ts - first) / self.speed
            wait = due - time.monotonic()
            if wait > 0.002:
                time.sleep(wait)
            yield record


@contextmanager
def _terminate_as_ctrl_c() -> Iterator[None]:
    """Within the block SIGTERM is Ctrl-C (:class:`KeyboardInterrupt`: a file's replay cut
    short ends quietly with status 130, not killed by the signal); where the page holds on
    or a live source runs, their own handlers take both signals alike. Main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_listen(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_listen(value, option="--listen")
    except ValueError as exc:
        raise click.BadParameter(
            str(exc).removeprefix("--listen: "), param_hint="--listen"
        ) from None
    return value


@click.command("dashboard")
@input_options
@decode_options
@output_options(default_sink="dashboard")
@click.option(
    "--listen",
    metavar="HOST:PORT",
    callback=_check_listen,
    help=f"Where to serve the page (default {DEFAULT_LISTEN}: loopback, a free port). "
    "Another address prints a URL with an access token.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the URL.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Replay files at this many times their recorded pace (0: as fast as possible).",
)
@click.option(
    "--export",
    type=click.Path(dir_okay=False, writable=True),
    callback=named_file,
    metavar="FILE.html",
    help="Serve nothing: write the dashboard of INPUT to one self-contained HTML file.",
)
@click.pass_obj
def dashboard_command(
    state: CliState,
    /,
    *,
    listen: str | None,
    no_browser: bool,
    speed: float,
    export: str | None,
    **params: Any,
) -> None:
    """Watch the traffic of INPUT in a web dashboard: transports, clients, latency, events.

    The page is served on 127.0.0.1 (a free port) and opened in your browser. A file is
    replayed as fast as possible (--speed 1: at its recorded pace) and stays on the page
    until Ctrl-C or SIGTERM (either during the replay cuts it short: exit status 130); a
    live source (live:IFACE, the proxy) updates continuously
    until the one Ctrl-C or SIGTERM that stops it and ends the command.

    \b
    Examples:
      ioproto dashboard examples/chat.pcap
      ioproto dashboard --speed 1 capture.pcap
      ioproto dashboard --no-browser live:lo --port 3000
      ioproto dashboard --export report.html capture.pcap
      ioproto proxy --upstream http://127.0.0.1:3000 --sink dashboard
    """
    pace = 0.0 if export else speed
    # Whether the page shows a live source is the sink's to say (SinkContext.live).
    feed = Feed(inputs=tuple(params["inputs"]), speed=pace)
    settings: dict[str, Any] = {"feed": feed, "browser": not no_browser}
    if listen is not None:
        settings["listen"] = listen
        settings[LISTEN_FLAG] = "--listen"
    if export is not None:
        settings["export"] = export
    with _terminate_as_ctrl_c():
        run_pipeline_command(
            state,
            default_sink="dashboard",
            extra_sink_options={"dashboard": settings},
            feed=Pacer(pace),
            **params,
        )
