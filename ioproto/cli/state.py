"""What the ``ioproto`` group hands to its commands."""

from __future__ import annotations

import attrs

from ioproto.plugins import Components, PluginManager, collect_components, make_plugin_manager


@attrs.define
class CliState:
    """The plugin manager of this invocation, and its components once collected."""

    plugin_manager: PluginManager | None = None
    _components: Components | None = None

    @property
    def pm(self) -> PluginManager:
        if self.plugin_manager is None:
            self.plugin_manager = make_plugin_manager()
        return self.plugin_manager

    @property
    def components(self) -> Components:
        if self._components is None:
            self._components = collect_components(self.pm)
        return self._components
