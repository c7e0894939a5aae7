"""The ``ioproto`` command.

One module per command group: :mod:`.decode` (``decode``), :mod:`.introspect`
(``plugins``); shared options live in :mod:`.options`. Plugins add commands through the
``register_commands`` hook.

Start-up is lazy (``ioproto --version`` in well under 0.1 s): a core command's module is
imported when that command runs, and the plugins are loaded, and their commands registered,
only when a command needs them (a plugin's command, ``--help``, or a core command that
asks for the plugin manager).
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING

import click

from ioproto.errors import PluginLoadWarning
from ioproto.suggest import did_you_mean
from ioproto.version import __version__

from .lazycommand import LazyCommand as LazyCommand
from .mistakes import OneLineGroup
from .state import CliState

if TYPE_CHECKING:
    from ioproto.plugins import PluginManager

#: The core commands: name -> (module, attribute), imported when the command runs.
CORE_COMMANDS = {
    "decode": ("ioproto.cli.decode", "decode_command"),
    "plugins": ("ioproto.cli.introspect", "plugins_command"),
    "fields": ("ioproto.cli.introspect", "fields_command"),
}


class LazyGroup(OneLineGroup):
    """The ``ioproto`` group: core commands imported on use, plugin commands registered
    (through the CLI state's plugin manager) the first time one is looked for."""

    plugins_registered = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.register_plugins(ctx)
        return sorted({*CORE_COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in CORE_COMMANDS and cmd_name not in self.commands:
            module, attribute = CORE_COMMANDS[cmd_name]
            self.add_command(getattr(import_module(module), attribute))
        command = super().get_command(ctx, cmd_name)
        if command is None:
            self.register_plugins(ctx)
            command = super().get_command(ctx, cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            # click suggests only among the commands already imported; these are lazy.
            name = exc.command_name
            hint = did_you_mean(name, self.list_commands(ctx))
            message = f"No such command {name!r}{hint}."
            raise click.exceptions.NoSuchCommand(name, message, ctx=exc.ctx) from None

    def register_plugins(self, ctx: click.Context) -> None:
        """Register the plugins' commands (once), with the plugin manager of ``ctx``'s state."""
        if self.plugins_registered:
            return
        state = ctx.find_object(CliState)
        if state is not None:
            register_plugin_commands(state.pm, self)


def _show_plugin_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: object = None,
    line: str | None = None,
) -> None:
    click.echo(f"ioproto: warning: {message}", err=True)


def _show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ioproto.version import build

    compiled = " (compiled build)" if build() == "compiled" else ""
    click.echo(f"ioproto, version {__version__}{compiled}")
    ctx.exit()


def build_cli() -> click.Group:
    """A fresh ``ioproto`` group with the core commands and the plugins' commands."""

    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.option(
        "--version",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_show_version,
        help="Show the version (and whether this is the compiled build) and exit.",
    )
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        """See your Engine.IO and Socket.IO traffic.

        ioproto reads captures (pcap/pcapng files, HAR files, a live interface, a monitoring
        proxy, in-process taps in your server, a browser through the DevTools Protocol, raw
        packet lines), decodes them layer by layer (HTTP long-polling and WebSocket,
        Engine.IO, Socket.IO, application protocols), classifies them (transport, client,
        latency, errors) and writes them to sinks (monitor, stats, JSON lines, text, a web
        dashboard, Prometheus metrics, Parquet, which `ioproto query` reads with SQL).

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

    return cli


def register_plugin_commands(pm: PluginManager, cli: click.Group) -> None:
    """Call every ``register_commands`` hook; one that raises is a warning, not a crash."""
    if isinstance(cli, LazyGroup):
        cli.plugins_registered = True
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
    original = warnings.showwarning
    warnings.showwarning = _show_plugin_warning  # type: ignore[assignment]
    warnings.simplefilter("always", PluginLoadWarning)
    try:
        # The plugin manager is made (entry points read, plugins imported) on first use.
        build_cli().main(args=argv, prog_name="ioproto", obj=CliState())
    finally:
        warnings.showwarning = original
