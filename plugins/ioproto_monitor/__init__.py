"""The ``monitor`` sink and the ``ioproto monitor`` command (hookimpls only)."""

from __future__ import annotations

from collections.abc import Callable

import click

import ioproto
from ioproto.cli.lazycommand import LazyCommand
from ioproto.components import SinkFactory
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_monitor.sink:MonitorSinkFactory", name="monitor"))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "monitor",
            "ioproto_monitor.command:monitor_command",
            summary="Show the traffic of INPUT live, one line per packet.",
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"MonitorSinkFactory": "sink"}, globals())
