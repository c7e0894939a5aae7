"""The ``dashboard`` sink and the ``ioproto dashboard`` command (hookimpls only).

A realtime web dashboard of the traffic (docs/dashboard.md): the sink aggregates records
(reusing the ``stats`` plugin's collector) and serves a page from its own thread; the page
is plain JavaScript with a vendored chart library, no build step.
"""

from __future__ import annotations

from collections.abc import Callable

import click

import ioproto
from ioproto.components import SinkFactory
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_dashboard.sink:DashboardSinkFactory", name="dashboard"))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    from .command import dashboard_command

    cli.add_command(dashboard_command)


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"DashboardSinkFactory": "sink"}, globals())
