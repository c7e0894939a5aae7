"""The ``dashboard`` sink and the ``ioproto dashboard`` command (hookimpls only).

A realtime web dashboard of the traffic (docs/dashboard.md): the sink aggregates records
(reusing the ``stats`` plugin's collector) and serves a page from its own thread; the page
is plain JavaScript with a vendored chart library, no build step.
"""

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
    register(LazyComponent("ioproto_dashboard.sink:DashboardSinkFactory", name="dashboard"))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "dashboard",
            "ioproto_dashboard.command:dashboard_command",
            summary=(
                "Watch the traffic of INPUT in a web dashboard: transports, clients, latency, "
                "events."
            ),
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"DashboardSinkFactory": "sink"}, globals())
