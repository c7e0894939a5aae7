"""The ``stats`` sink and the ``ioproto stats`` command (hookimpls only)."""

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
    register(LazyComponent("ioproto_stats.sink:StatsSinkFactory", name="stats"))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "stats",
            "ioproto_stats.command:stats_command",
            summary=(
                "Summarise the traffic of INPUT: transports, upgrades, session ends, clients, "
                "latency, events, errors."
            ),
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"StatsSinkFactory": "sink"}, globals())
