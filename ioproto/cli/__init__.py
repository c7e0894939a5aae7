"""The ``ioproto`` command.

One module per command group: :mod:`.decode` (``decode``), :mod:`.introspect`
(``plugins``); shared options live in :mod:`.options`. Plugins add commands through the
``register_commands`` hook, called once when the command starts.
"""

from __future__ import annotations

import warnings

import click

import ioproto
from ioproto.memory import return_large_blocks
from ioproto.plugins import PluginLoadWarning, PluginManager, make_plugin_manager

from .decode import decode_command
from .introspect import fields_command, plugins_command
from .mistakes import OneLineGroup
from .state import CliState


def _show_plugin_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    click.echo(f"ioproto: warning: {message}", err=True)


def build_cli() -> click.Group:
    """A fresh ``ioproto`` group with the core commands and the plugins' commands."""

    @click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(ioproto.__version__, prog_name="ioproto")
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        """See your Engine.IO and Socket.IO traffic.

        ioproto reads captures (pcap/pcapng files, HAR files, a live interface, a monitoring
        proxy, raw packet lines), decodes them layer by layer (HTTP long-polling and
        WebSocket, Engine.IO, Socket.IO, application protocols), classifies them (transport,
        client, latency, errors) and writes them to sinks (monitor, stats, JSON lines, text, a
        web dashboard, Prometheus metrics, Parquet, which `ioproto query` reads with SQL).

        \b
        Examples:
          ioproto decode --proto socketio examples/chat.pcap
          ioproto monitor --hide-control examples/chat.pcap
          ioproto stats examples/chat.pcap
          ioproto dashboard examples/chat.pcap
          ioproto demo                  (a Socket.IO app to watch, on port 3000)
          ioproto proxy --upstream http://127.0.0.1:3000
          ioproto monitor live:lo --port 3000
          printf '42["chat","hi"]\\n' | ioproto decode --proto socketio -
          ioproto decode --sink jsonl capture.pcap > records.jsonl
          ioproto monitor -f 'sio.event == "chat" and eio.transport == "polling"' x.pcap
          ioproto fields
          ioproto decode --sink parquet:archive/ captures/*.pcap
          ioproto query "SELECT type, count(*) FROM socketio GROUP BY type" archive/
          ioproto plugins
        """
        ctx.ensure_object(CliState)

    cli.add_command(decode_command)
    cli.add_command(plugins_command)
    cli.add_command(fields_command)
    return cli


def register_plugin_commands(pm: PluginManager, cli: click.Group) -> None:
    """Call every ``register_commands`` hook; one that raises is a warning, not a crash."""
    for impl in pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as exc:
            warnings.warn(
                f"ioproto plugin {impl.plugin_name!r} failed in register_commands: "
                f"{type(exc).__name__}: {exc}",
                PluginLoadWarning,
                stacklevel=2,
            )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``ioproto`` console script."""
    return_large_blocks()
    original = warnings.showwarning
    warnings.showwarning = _show_plugin_warning  # type: ignore[assignment]
    warnings.simplefilter("always", PluginLoadWarning)
    try:
        pm = make_plugin_manager()
        cli = build_cli()
        register_plugin_commands(pm, cli)
        cli.main(args=argv, prog_name="ioproto", obj=CliState(plugin_manager=pm))
    finally:
        warnings.showwarning = original
