"""The ``parquet`` sink and the ``query`` and ``cluster`` commands (hookimpls only).

Nothing here imports pyarrow, duckdb or dask: they load when a sink opens or a command
runs, so ``ioproto --version`` stays fast.
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
    register(LazyComponent("ioproto_parquet.sink:ParquetSinkFactory", name="parquet"))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    from .cluster_command import cluster_command
    from .command import query_command

    cli.add_command(query_command)
    cli.add_command(cluster_command)


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"ParquetSinkFactory": "sink"}, globals())
