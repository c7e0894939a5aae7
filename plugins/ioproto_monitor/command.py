"""``ioproto monitor INPUT...``: ``decode`` with the ``monitor`` sink and its filters."""

from __future__ import annotations

from typing import Any

import click

from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import decode_options, input_options, output_options
from ioproto.cli.state import CliState


@click.command("monitor")
@input_options
@decode_options
@output_options
@click.option(
    "--event", "events", multiple=True, metavar="GLOB", help="Only these events (glob; repeatable)."
)
@click.option("--nsp", "namespaces", multiple=True, metavar="NSP", help="Only this namespace.")
@click.option("--sid", "sids", multiple=True, metavar="PREFIX", help="Only sessions starting so.")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Only this packet type (EVENT, ACK, CONNECT, ping, error, ...; repeatable).",
)
@click.option("--direction", type=click.Choice(["c2s", "s2c"]), help="Only one direction.")
@click.option("--hide-control", is_flag=True, help="Hide Engine.IO open/ping/pong/noop/upgrade.")
@click.option(
    "--time",
    "time_mode",
    type=click.Choice(["local", "utc", "relative", "none"]),
    default="local",
    show_default=True,
    help="How to show packet times.",
)
@click.pass_obj
def monitor_command(
    state: CliState,
    /,
    *,
    events: tuple[str, ...],
    namespaces: tuple[str, ...],
    sids: tuple[str, ...],
    types: tuple[str, ...],
    direction: str | None,
    hide_control: bool,
    time_mode: str,
    **params: Any,
) -> None:
    """Show the traffic of INPUT live, one line per packet.

    \b
    Examples:
      ioproto monitor capture.pcap
      ioproto monitor --event 'chat*' --hide-control capture.pcap
      ioproto monitor --nsp /admin --type EVENT --type ACK capture.pcap
    """
    settings: dict[str, Any] = {"time": time_mode, "hide_control": hide_control}
    if events:
        settings["event"] = list(events)
    if namespaces:
        settings["nsp"] = list(namespaces)
    if sids:
        settings["sid"] = list(sids)
    if types:
        settings["type"] = list(types)
    if direction:
        settings["direction"] = direction
    run_pipeline_command(
        state, default_sink="monitor", extra_sink_options={"monitor": settings}, **params
    )
