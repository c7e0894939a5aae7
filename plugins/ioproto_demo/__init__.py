"""``ioproto demo``: a small Socket.IO app with simulated clients on loopback, to try the
live ways (proxy, live capture, dashboard) on real traffic. Hookimpls only; python-socketio
and aiohttp are imported when the command runs, not when ``ioproto`` starts."""

from __future__ import annotations

import click

import ioproto
from ioproto.cli.lazycommand import LazyCommand


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "demo",
            "ioproto_demo.command:demo_command",
            summary="Run a small Socket.IO app with simulated clients on 127.0.0.1, to watch.",
        )
    )
