"""The ``monitor`` sink and the ``ioproto monitor`` command (hookimpls only)."""

from __future__ import annotations

from collections.abc import Callable

import click

import ioproto
from ioproto.components import SinkFactory


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory], None]) -> None:
    from .sink import MonitorSinkFactory

    register(MonitorSinkFactory())


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    from .command import monitor_command

    cli.add_command(monitor_command)
