"""``ioproto proxy``: a monitoring reverse proxy in front of an Engine.IO/Socket.IO server."""

from __future__ import annotations

from typing import Any

import click

from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import DURATION, decode_options, output_options
from ioproto.cli.state import CliState

from .source import parse_listen


def _default_sink(state: CliState) -> str:
    names = state.components.sinks.names()
    return "monitor" if "monitor" in names else "text"


@click.command("proxy")
@click.option(
    "--listen",
    default="127.0.0.1:8080",
    show_default=True,
    metavar="[HOST:]PORT",
    help="Where the proxy accepts clients (loopback unless you say otherwise).",
)
@click.option(
    "--upstream",
    required=True,
    metavar="URL",
    help="The real server, e.g. http://127.0.0.1:3000.",
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
    "--queue",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Tap queue size; when the pipeline falls behind, records beyond it are dropped "
    "(and counted), never the proxied traffic.",
)
@click.option("--revision", type=click.IntRange(2, 4), help="Engine.IO revision if unknown.")
@decode_options
@output_options
@click.pass_obj
def proxy_command(
    state: CliState,
    /,
    listen: str,
    upstream: str,
    every: float | None,
    duration: float | None,
    queue: int,
    revision: int | None,
    **params: Any,
) -> None:
    """Forward Socket.IO/Engine.IO traffic to UPSTREAM and decode everything that passes.

    HTTP long-polling and WebSocket (upgrade, binary frames, close codes) are relayed
    unchanged; every message is also fed to the decoders and sinks. A slow sink never slows
    the proxy: records it cannot keep up with are dropped and counted. Ctrl-C or SIGTERM
    stops it cleanly.

    \b
    Examples:
      ioproto proxy --listen 127.0.0.1:8080 --upstream http://127.0.0.1:3000
      ioproto proxy --upstream http://127.0.0.1:3000 --sink stats --every 10s
      ioproto proxy --upstream http://127.0.0.1:3000 --sink jsonl:traffic.jsonl
    """
    try:
        parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from None
    source_options = [f"upstream={upstream}", f"queue={queue}"]
    if duration:
        source_options.append(f"duration={duration}")
    run_pipeline_command(
        state,
        default_sink=_default_sink(state),
        inputs=[f"proxy:{listen}"],
        source="proxy",
        source_options=source_options,
        ports=(),
        revision=revision,
        every=every,
        **params,
    )
