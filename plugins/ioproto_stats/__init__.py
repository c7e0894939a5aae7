"""The ``stats`` sink and the ``ioproto stats`` command (hookimpls only)."""

from __future__ import annotations

from collections.abc import Callable

import click

import ioproto
from ioproto.components import SinkFactory


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory], None]) -> None:
    from .sink import StatsSinkFactory

    register(StatsSinkFactory())


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    from .command import stats_command

    cli.add_command(stats_command)
