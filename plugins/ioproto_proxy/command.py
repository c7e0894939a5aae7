"""``ioproto proxy``: a monitoring reverse proxy in front of an Engine.IO/Socket.IO server."""

from __future__ import annotations

from typing import Any

import click

from ioproto import listening
from ioproto.cli.decode import run_pipeline_command
from ioproto.cli.options import (
    DURATION,
    ByteCount,
    decode_options,
    duration_option,
    output_options,
)
from ioproto.cli.state import CliState
from ioproto.errors import UsageError

from .priority import PRIORITIES
from .source import DEFAULT_BUFFER, DEFAULT_SPOOL, parse_listen


def _default_sink(state: CliState) -> str:
    names = state.components.sinks.names()
    return "monitor" if "monitor" in names else "text"


def _check_upstream(upstream: str, host: str, port: int) -> None:
    """A :class:`~ioproto.errors.UsageError` naming the options for an ``--upstream`` not
    taken, or one that is the ``--listen`` address ``host``:``port`` itself."""
    from .relay import Upstream  # the relay's modules load when a proxy runs

    try:
        target = Upstream(upstream, name="--upstream")
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if target.is_at(host, port):
        raise UsageError(
            "--upstream is this proxy's own --listen address: it would forward to itself"
        )


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
    help="The real server, e.g. http://127.0.0.1:3000 (localhost:3000 and 3000 mean "
    "http://localhost:3000 and http://127.0.0.1:3000).",
)
@click.option(
    "--upstream-ca",
    type=click.Path(exists=True, dir_okay=False),
    metavar="PEM",
    help="For an https:// upstream: trust these CA certificates (e.g. the CA of a "
    "development server's self-signed certificate) instead of the system's.",
)
@click.option(
    "--every",
    type=DURATION,
    metavar="DURATION",
    help="Ask sinks that keep totals (stats) for a snapshot this often, e.g. 10s.",
)
@duration_option
@click.option(
    "--buffer",
    type=ByteCount(1),
    default=DEFAULT_BUFFER,
    show_default=True,
    metavar="BYTES",
    help="How many bytes of copied traffic may wait for the decoder in the relay's process, "
    "once the spool is full too; copies beyond it are dropped (counted and shown as gaps), "
    "never the traffic.",
)
@click.option(
    "--spool",
    type=ByteCount(0),
    default=DEFAULT_SPOOL,
    show_default=True,
    metavar="BYTES",
    help="When decoding falls behind (a flood), copies wait in an unlinked temporary file "
    "of up to this many bytes and are decoded when the flood eases, instead of being "
    "dropped; 0: no file.",
)
@click.option(
    "--decode-priority",
    type=click.Choice(PRIORITIES),
    default="auto",
    show_default=True,
    help="CPU priority of decoding: idle = only CPU time nothing else wants, so forwarding "
    "keeps its speed on a busy machine (copies wait in the buffer, then are dropped); "
    "normal = compete with the traffic; auto = normal while decoding keeps up (slow traffic "
    "shows at once), idle while copies pile up (a flood).",
)
@click.option(
    "--ws-compression",
    type=click.Choice(["pass", "off"]),
    default="pass",
    show_default=True,
    help="pass: WebSocket compression is negotiated between client and server as without "
    "the proxy; off: remove the clients' permessage-deflate offers.",
)
@click.option(
    "--head-timeout",
    type=DURATION,
    default="30s",
    show_default=True,
    help="Answer 408 and close a client that sends no complete request head for this long "
    "(slowloris defence; 0 turns it off). WebSockets and awaited responses never time out.",
)
@decode_options
@output_options(default_sink="monitor (text when the monitor plugin is not installed)")
@click.pass_obj
def proxy_command(
    state: CliState,
    /,
    listen: str,
    upstream: str,
    upstream_ca: str | None,
    every: float | None,
    duration: float | None,
    buffer: int,
    spool: int,
    decode_priority: str,
    ws_compression: str,
    head_timeout: float,
    **params: Any,
) -> None:
    """Forward Socket.IO/Engine.IO traffic to UPSTREAM and decode everything that passes.

    HTTP long-polling and WebSocket (upgrade, binary frames, compression, close codes) are
    relayed byte for byte, only request heads gain X-Forwarded-* headers; a copy of every
    byte is decoded and fed to the sinks. A slow sink never slows the proxy: copies it
    cannot keep up with wait (in a spool file) and, past --spool and --buffer, are dropped,
    counted and reported as gaps. Ctrl-C or SIGTERM stops
    it cleanly.

    \b
    Examples:
      ioproto proxy --listen 127.0.0.1:8080 --upstream http://127.0.0.1:3000
      ioproto proxy --upstream http://127.0.0.1:3000 --sink stats --every 10s
      ioproto proxy --upstream http://127.0.0.1:3000 --sink jsonl:traffic.jsonl
    """
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--listen") from None
    if not upstream.strip():
        raise click.BadParameter(
            "give the server to forward to, e.g. http://127.0.0.1:3000", param_hint="--upstream"
        )
    _check_upstream(upstream, host, port)
    source_options = [
        f"upstream={upstream}",
        f"buffer={buffer}",
        f"spool={spool}",
        f"priority={decode_priority}",
        f"ws_compression={ws_compression}",
        f"head_timeout={head_timeout}",
    ]
    if upstream_ca:
        source_options.append(f"upstream_ca={upstream_ca}")
    if duration:
        source_options.append(f"duration={duration}")
    run_pipeline_command(
        state,
        default_sink=_default_sink(state),
        inputs=[f"proxy:{listening.hostport(host, port)}"],  # a URL or :PORT, as host:port
        source="proxy",
        source_options=source_options,
        ports=(),
        every=every,
        **params,
    )
