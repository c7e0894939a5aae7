"""The ``monitor`` sink and the ``ioproto monitor`` command (hookimpls only)."""

from __future__ import annotations

from collections.abc import Callable

import click

import ioproto
from ioproto.components import SinkFactory
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_monitor.sink:MonitorSinkFactory", name="monitor"))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    from .command import monitor_command

    cli.add_command(monitor_command)


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"MonitorSinkFactory": "sink"}, globals())
