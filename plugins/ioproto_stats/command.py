"""``ioproto stats INPUT...``: ``decode`` with the ``stats`` sink."""

from __future__ import annotations

from typing import Any

import click

from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import DURATION, decode_options, input_options, output_options
from ioproto.cli.state import CliState


@click.command("stats")
@input_options
@decode_options
@output_options
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
    fmt: str,
    chart: str | None,
    top: int,
    every: float | None,
    **params: Any,
) -> None:
    """Summarise the traffic of INPUT: transports, upgrades, clients, latency, events, errors.

    \b
    Examples:
      ioproto stats capture.pcap
      ioproto stats --format json capture.pcap > stats.json
      ioproto stats --format md --chart stats.html capture.pcap
      ioproto stats --every 10s live:lo --port 3000
    """
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
