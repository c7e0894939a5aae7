"""``ioproto monitor INPUT...``: ``decode`` with the ``monitor`` sink and its shorthands."""

from __future__ import annotations

from typing import Any

import click

from ioproto.cli.checks import check_record_types
from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.mistakes import Mistake
from ioproto.cli.options import decode_options, input_options, output_options
from ioproto.cli.state import CliState

from .filters import shorthand_expression
from .render import CONTROL_TYPES


@click.command("monitor")
@input_options
@decode_options
@output_options(default_sink="monitor")
@click.option(
    "--event",
    "events",
    multiple=True,
    metavar="GLOB",
    help="Only these events (glob; repeatable). Short for --filter 'sio.event ...'.",
)
@click.option(
    "--nsp",
    "namespaces",
    multiple=True,
    metavar="NSP",
    help="Only this namespace (sio.nsp; repeatable).",
)
@click.option(
    "--sid",
    "sids",
    multiple=True,
    metavar="PREFIX",
    help="Only sessions whose id starts so, or matches a glob such as 'u-dz*' (eio.sid; "
    "repeatable).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Only this packet type (EVENT, ACK, CONNECT, ping, error, ...; repeatable).",
)
@click.option("--direction", type=click.Choice(["c2s", "s2c"]), help="Only one direction.")
@click.option(
    "--hide-control",
    is_flag=True,
    help="Hide control traffic: Engine.IO open/ping/pong/noop/upgrade/close, "
    "a session's transport closing (transport-close), WebSocket control frames and "
    "connection ends (ws-end, http-unanswered).",
)
@click.option(
    "--time",
    "time_mode",
    type=click.Choice(["local", "utc", "relative", "none"]),
    show_default="local",
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
    time_mode: str | None,
    filters: tuple[str, ...],
    **params: Any,
) -> None:
    """Show the traffic of INPUT live, one line per packet.

    --event, --nsp, --sid, --type and --direction are shorthands for --filter
    expressions (docs/filters.md); all of them and every --filter must hold.

    \b
    Examples:
      ioproto monitor capture.pcap
      ioproto monitor --event 'chat*' --hide-control capture.pcap
      ioproto monitor --nsp /admin --type EVENT --type ACK capture.pcap
      ioproto monitor --filter 'sio.event == "chat" and eio.transport == "polling"' capture.pcap
    """
    check_record_types(types, state.components, option="--type")
    hidden = sorted({kind.lower() for kind in types} & CONTROL_TYPES) if hide_control else []
    if hidden and len(hidden) == len({kind.lower() for kind in types}):
        raise Mistake(
            f"--type {' --type '.join(hidden)} with --hide-control shows nothing: "
            "--hide-control hides Engine.IO control packets; drop one of the two"
        )
    # Only what was given, so that --sink-option monitor.time=… and hide_control=… hold
    # where the flags are not given.
    settings: dict[str, Any] = {}
    if time_mode is not None:
        settings["time"] = time_mode
    if hide_control:
        settings["hide_control"] = True
    shorthand = shorthand_expression(
        events=events, namespaces=namespaces, sids=sids, types=types, direction=direction
    )
    if shorthand is not None:
        filters = (*filters, shorthand)
    run_pipeline_command(
        state,
        default_sink="monitor",
        extra_sink_options={"monitor": settings},
        filters=filters,
        **params,
    )
