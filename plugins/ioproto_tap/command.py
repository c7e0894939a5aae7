"""``ioproto collect``: receive the streams of in-process taps and decode them live."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import DURATION, ByteCount, decode_options, output_options
from ioproto.cli.state import CliState

from .collector import CollectLimits, parse_address

_DEFAULTS = CollectLimits()


@click.command("collect")
@click.option(
    "--listen",
    "listen",
    multiple=True,
    metavar="ADDR",
    help="Where taps connect: HOST:PORT, PORT (on 127.0.0.1) or unix:PATH (repeatable; "
    "default 127.0.0.1:7788).",
)
@click.option(
    "--every",
    type=DURATION,
    metavar="DURATION",
    help="Ask sinks that keep totals (stats) for a snapshot this often, e.g. 10s.",
)
@click.option(
    "--duration",
    type=DURATION,
    metavar="DURATION",
    help="Stop by itself after this long (default: Ctrl-C).",
)
@click.option(
    "--max-line",
    type=ByteCount(1),
    default=_DEFAULTS.max_line,
    show_default=True,
    metavar="BYTES",
    help="Longest record a tap may send; longer ones are skipped and reported.",
)
@click.option(
    "--max-buffered",
    type=ByteCount(1),
    default=_DEFAULTS.max_buffered,
    show_default=True,
    metavar="BYTES",
    help="Bytes of unfinished records held for all taps together; past it the tap holding "
    "the most is disconnected.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=_DEFAULTS.max_connections,
    show_default=True,
    metavar="N",
    help="Taps connected at once; more are refused.",
)
@decode_options
@output_options(default_sink="monitor (text when the monitor plugin is not installed)")
@click.pass_obj
def collect_command(
    state: CliState,
    /,
    listen: Sequence[str],
    every: float | None,
    duration: float | None,
    max_line: int,
    max_buffered: int,
    max_connections: int,
    **params: Any,
) -> None:
    """Receive the packets that in-process taps report and decode them like a capture.

    Add one line to the server (Python: ioproto_tap.instrument(sio,
    collector="127.0.0.1:7788"); Node: require("ioproto-tap")(io, {collector:
    "127.0.0.1:7788"})) and every Engine.IO packet it receives and sends reaches these
    sinks as it happens, decoded up to Socket.IO and classified. Facts only the wire has
    (HTTP status, bytes on the wire, polling batches, compression) are not known to a tap
    and are shown as n/a. Ctrl-C or SIGTERM stops it cleanly.

    \b
    Examples:
      ioproto collect
      ioproto collect --listen 127.0.0.1:9000 --listen unix:/tmp/ioproto.sock
      ioproto collect --sink stats --every 10s
      ioproto collect --sink jsonl:traffic.jsonl
    """
    try:
        # Named as the source shows them: host:port, whatever form was given.
        addresses = [str(parse_address(item)) for item in list(listen) or ["127.0.0.1:7788"]]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from None
    source_options = [
        f"max_line={max_line}",
        f"max_buffered={max_buffered}",
        f"max_connections={max_connections}",
    ]
    if duration:
        source_options.append(f"duration={duration}")
    sinks = state.components.sinks.names()
    run_pipeline_command(
        state,
        default_sink="monitor" if "monitor" in sinks else "text",
        inputs=["collect:" + ",".join(addresses)],
        source="collect",
        source_options=source_options,
        ports=(),
        every=every,
        **params,
    )
