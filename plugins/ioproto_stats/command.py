"""``ioproto stats INPUT...``: ``decode`` with the ``stats`` sink; or ``--from DIR``: the
same report computed in SQL from Parquet output (:mod:`ioproto_stats.stored`)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import (
    DURATION,
    decode_options,
    named_file,
    optional_input_options,
    output_options,
)
from ioproto.cli.outputs import STDOUT_NAMES
from ioproto.cli.state import CliState
from ioproto.errors import UsageError, check_writable
from ioproto.writable import file_problem

from .chart import render_html
from .report import render


@click.command("stats")
@optional_input_options
@decode_options
@output_options(default_sink="stats")
@click.option(
    "--from",
    "stored",
    multiple=True,
    metavar="DIR",
    help="Instead of INPUT: Parquet output of `--sink parquet:DIR` (a directory or an "
    "s3:// URL; repeatable), summarised in SQL.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "md"]),
    default="text",
    show_default=True,
    help="text: tables; json: for machines; md: Markdown for an issue.",
)
@click.option(
    "--chart",
    type=click.Path(dir_okay=False, writable=True),
    callback=named_file,
    metavar="FILE.html",
    help="Also write the figures as charts to a self-contained HTML file.",
)
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="Rows in tops.")
@click.option(
    "--every",
    type=DURATION,
    metavar="DURATION",
    help="Also print the figures so far this often (e.g. 10s; for live sources).",
)
@click.pass_obj
def stats_command(
    state: CliState,
    /,
    *,
    stored: Sequence[str],
    fmt: str,
    chart: str | None,
    top: int,
    every: float | None,
    **params: Any,
) -> None:
    """Summarise the traffic of INPUT: transports, upgrades, session ends, clients, latency,
    events, errors.

    \b
    Examples:
      ioproto stats capture.pcap
      ioproto stats --format json capture.pcap > stats.json
      ioproto stats --format md --chart stats.html capture.pcap
      ioproto stats --every 10s live:lo --port 3000
      ioproto stats --from archive/          # Parquet written by --sink parquet:archive/
    """
    if stored:
        if params["inputs"]:
            raise click.UsageError("give either INPUT... or --from DIR, not both")
        if every:
            raise click.UsageError("--every is for live input; --from DIR is read once")
        _stats_from(stored, fmt=fmt, chart=chart, top=top, output=params["output"])
        return
    if not params["inputs"]:
        raise click.UsageError("give the captures to summarise (INPUT...) or --from DIR")
    settings: dict[str, Any] = {"format": fmt, "top": top}
    if chart:
        settings["chart"] = chart
    run_pipeline_command(
        state,
        default_sink="stats",
        extra_sink_options={"stats": settings},
        every=every,
        **params,
    )


def _stats_from(
    roots: Sequence[str], *, fmt: str, chart: str | None, top: int, output: str
) -> None:
    import duckdb
    from ioproto_parquet.store import StoreError, check_roots, distinct_roots

    from .stored import figures_from

    roots = distinct_roots(roots)  # for the messages; the figures read each root once
    _check_outputs(output, chart)
    try:
        check_roots(roots, file_hint="`ioproto stats {file}` reads a capture itself")
        figures = figures_from(roots)
    except StoreError as exc:
        raise click.UsageError(str(exc)) from None
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise click.ClickException(f"reading {', '.join(roots)} failed: {first}") from None
    if not figures["totals"]["records"]:
        click.echo(f"ioproto: {', '.join(roots)} holds no records", err=True)
    stream = sys.stdout if output in STDOUT_NAMES else open(output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        color = stream.isatty() and os.environ.get("NO_COLOR") is None
        stream.write(render(figures, fmt, color=color, top=top))
    finally:
        if stream is not sys.stdout:
            stream.close()
    if chart:
        with open(chart, "w", encoding="utf-8") as handle:
            handle.write(render_html(figures, top=top))


def _check_outputs(output: str, chart: str | None) -> None:
    """A :class:`~ioproto.errors.UsageError` now, before the query runs, for an ``-o`` or
    ``--chart`` that cannot be written, in the words ``stats INPUT`` uses for them (tried,
    leaving nothing behind: :mod:`ioproto.writable`), so that the ``-o`` file of a run
    refused keeps its content."""
    if output not in STDOUT_NAMES:
        problem = file_problem(output)
        if problem is not None:
            raise UsageError(f"-o/--output: cannot write {output}: {problem}")
    if chart:
        check_writable(chart, "chart", html=True)
