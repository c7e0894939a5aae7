"""A command listed now and imported when it runs (:class:`LazyCommand`).

A plugin's ``register_commands`` hook may add, instead of its command, a stand-in naming
where the command is and giving the summary ``ioproto --help`` lists::

    cli.add_command(LazyCommand("monitor", "ioproto_monitor.command:monitor_command",
                                summary="Show the traffic of INPUT live, one line per packet."))

``ioproto --help`` then imports none of the plugins' command modules. Running the command,
or asking for its own help, imports it: the stand-in hands over to it when click makes
the command's context. ``summary`` must be the first paragraph of the command's help (what
click shortens for the listing); the bundled plugins' are checked by a test.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import click


class LazyCommand(click.Command):
    """Stands for the click command at ``target`` (``"module:attribute"``) until it is used
    (see the module docstring)."""

    def __init__(self, name: str, target: str, *, summary: str) -> None:
        super().__init__(name, help=summary)
        self.target = target
        self._command: click.Command | None = None

    def command(self) -> click.Command:
        """The real command, imported on the first call."""
        if self._command is None:
            module, _, attribute = self.target.partition(":")
            command = getattr(import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.target} is not a click command")
            self._command = command
        return self._command

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        return self.command().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.command().invoke(ctx)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self.command().get_params(ctx)

    def get_help(self, ctx: click.Context) -> str:
        return self.command().get_help(ctx)

    def get_usage(self, ctx: click.Context) -> str:
        return self.command().get_usage(ctx)
