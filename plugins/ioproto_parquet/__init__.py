"""The ``parquet`` sink and the ``query`` and ``cluster`` commands (hookimpls only).

Nothing here imports pyarrow, duckdb or dask: they load when a sink opens or a command
runs, so ``ioproto --version`` stays fast.
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
    register(LazyComponent("ioproto_parquet.sink:ParquetSinkFactory", name="parquet"))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "query",
            "ioproto_parquet.command:query_command",
            summary="Run SQL over the Parquet tables that `--sink parquet:DIR` wrote.",
        )
    )
    cli.add_command(
        LazyCommand(
            "cluster",
            "ioproto_parquet.cluster_command:cluster_command",
            summary=(
                "Decode each INPUT to Parquet on a Dask cluster, one task per capture, then print "
                "the stats report computed there. Needs `pip install 'ioproto[cluster]'` "
                "(Dask)."
            ),
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"ParquetSinkFactory": "sink"}, globals())
