"""The ``proxy`` capture source and the ``ioproto proxy`` command: a monitoring reverse proxy."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ioproto
from ioproto.cli.lazycommand import LazyCommand
from ioproto.components import Source
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent

if TYPE_CHECKING:
    import click


@ioproto.hookimpl
def register_sources(register: Callable[[Source | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_proxy.source:ProxySource", name="proxy", prefixes=("proxy:",)))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "proxy",
            "ioproto_proxy.command:proxy_command",
            summary=(
                "Forward Socket.IO/Engine.IO traffic to UPSTREAM and decode everything that passes."
            ),
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"ProxySource": "source"}, globals())
