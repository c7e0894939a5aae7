"""``ioproto browse URL``: open a page in a headless Chromium and decode its traffic live."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import click

from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import decode_options, live_options, named_file, output_options
from ioproto.cli.state import CliState

from .launch import Chromium, LaunchError, find_chromium

#: The input the checks before the browser starts are made with: an address of the shape
#: its own will have (the checks look at the input's source and options, not at who answers).
_CHECKED_ENDPOINT = "127.0.0.1:9222"


def page_url(text: str) -> str:
    """``text`` as a URL to open, as a browser's address bar takes it: ``localhost:3000``
    means ``http://localhost:3000``, and a bare port ``3000`` a port of this machine,
    ``http://127.0.0.1:3000`` (as ``ioproto proxy --upstream`` takes it); :class:`ValueError`
    for what cannot be a page."""
    url = text.strip()
    if url.isascii() and url.isdigit():
        url = f"http://127.0.0.1:{url}"
    elif "://" not in url and not url.startswith(("about:", "data:", "file:")):
        url = "http://" + url
    try:
        parts = urlsplit(url)
        if parts.port == 0:
            raise ValueError("give a port from 1 to 65535")
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a URL: {exc}") from None
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValueError(f"{text!r} is not a URL with a host, e.g. http://localhost:3000")
    if parts.scheme not in ("http", "https", "file", "about", "data"):
        raise ValueError(f"{text!r}: ioproto browse opens http(s), file, about and data URLs")
    return url


@click.command("browse")
@click.argument("url")
@click.option(
    "--chromium",
    "chromium_path",
    metavar="PATH",
    help="The browser to run (default: chromium, or Chrome, found on PATH).",
)
@click.option("--headful", is_flag=True, help="Show the browser window (needs a display).")
@click.option(
    "--har",
    type=click.Path(dir_okay=False, writable=True),
    callback=named_file,
    metavar="FILE",
    help="Also write what was captured as a Chrome-format HAR (with WebSocket messages).",
)
@live_options(stops="Ctrl-C, or the browser closing")
@click.option(
    "--source-option",
    "source_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Option for the cdp source (repeatable): all=true, pending_bytes, reply_timeout.",
)
@decode_options
@output_options(default_sink="monitor (text when the monitor plugin is not installed)")
@click.pass_obj
def browse_command(
    state: CliState,
    /,
    url: str,
    chromium_path: str | None,
    headful: bool,
    har: str | None,
    every: float | None,
    duration: float | None,
    source_options: Sequence[str],
    **params: Any,
) -> None:
    """Open URL in a headless Chromium and show its Socket.IO traffic as the browser sees it.

    Chromium (Debian's chromium package, or --chromium PATH) starts with a temporary
    profile; ioproto attaches through the DevTools Protocol, opens URL and decodes every
    Engine.IO request and WebSocket message of the page, and of tabs it opens, with the
    browser's own times, until Ctrl-C, --duration or the browser closing. Latencies of
    acks and heartbeats are the browser's view. docs/browser.md says what is captured.

    \b
    Examples:
      ioproto browse http://localhost:3000 --sink monitor
      ioproto browse localhost:3000 --har session.har --sink stats
      ioproto browse 3000                    # http://127.0.0.1:3000
      ioproto browse http://localhost:3000 --headful -f 'sio.event == "chat"'
    """
    try:
        target = page_url(url)
        executable = find_chromium(chromium_path)
    except (ValueError, LaunchError) as exc:
        raise click.UsageError(str(exc)) from None
    options = [*source_options, f"open={target}"]
    if not headful:  # nobody can type another address into a headless browser
        options.append("open_required=true")
    if har:
        options.append(f"har={har}")
    if duration:
        options.append(f"duration={duration}")
    sinks = state.components.sinks.names()
    run: dict[str, Any] = dict(
        default_sink="monitor" if "monitor" in sinks else "text",
        source="cdp",
        source_options=options,
        ports=(),
        every=every,
        source_option_flags={"har": "--har"} if har else None,
        **params,
    )
    # A mistake in the options or outputs is said before a browser starts (about a second).
    run_pipeline_command(state, inputs=[f"cdp:{_CHECKED_ENDPOINT}"], check_only=True, **run)
    browser = Chromium(executable, headless=not headful)
    try:
        endpoint = browser.start()
    except LaunchError as exc:
        hint = " (no display: drop --headful, or set DISPLAY)" if headful else ""
        raise click.UsageError(f"{exc}{hint}") from None
    try:
        run_pipeline_command(state, inputs=["cdp:" + endpoint], **run)
    finally:
        ended = browser.exit_status()
        browser.stop()
        if ended is not None:
            print(f"ioproto: {ended}", file=sys.stderr, flush=True)
