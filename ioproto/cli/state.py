"""What the ``ioproto`` group hands to its commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ioproto.plugins import Components, PluginManager


class CliState:
    """The plugin manager of this invocation, and its components once collected.

    Both are made on first use: a command that needs neither (``--version``) loads no plugin.
    (A plain class: attrs is not needed to answer ``--version``.)
    """

    def __init__(
        self, plugin_manager: PluginManager | None = None, components: Components | None = None
    ) -> None:
        self.plugin_manager = plugin_manager
        self._components = components

    @property
    def pm(self) -> PluginManager:
        if self.plugin_manager is None:
            from ioproto.plugins import make_plugin_manager

            self.plugin_manager = make_plugin_manager()
        return self.plugin_manager

    @property
    def components(self) -> Components:
        if self._components is None:
            from ioproto.plugins import collect_components

            self._components = collect_components(self.pm)
        return self._components
