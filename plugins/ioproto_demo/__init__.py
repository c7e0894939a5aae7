"""``ioproto demo``: a small Socket.IO app with simulated clients on loopback, to try the
live ways (proxy, live capture, dashboard) on real traffic. Hookimpls only; python-socketio
and aiohttp are imported when the command runs, not when ``ioproto`` starts."""

from __future__ import annotations

import click

import ioproto


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    from .command import demo_command

    cli.add_command(demo_command)
