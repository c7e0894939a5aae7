"""Building a plugin manager and collecting what plugins register.

There is no global plugin manager: :func:`make_plugin_manager` builds a fresh one every time
(the CLI builds one per invocation, tests one per test).

Environment switches:

* ``IOPROTO_LOAD_PLUGINS=a,b`` loads only the entry-point plugins named ``a`` and ``b``
  (empty: none). Bundled plugins are entry points too, so this restricts them as well.
* ``IOPROTO_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar, cast

import pluggy

from . import hookspecs
from .components import Classifier, Decoder, SinkFactory, Source
from .entrypoints import entry_points
from .errors import PluginError, PluginLoadWarning, UsageError
from .filters import CORE_FIELDS, Field, FieldSet
from .lazycomponents import LazyComponent, made
from .pluginchecks import (
    component_problem,
    hook_problems,
    isolate_lifecycle,
    unmarked_hooks,
    where,
)
from .suggest import did_you_mean

ENTRY_POINT_GROUP = "ioproto"

T = TypeVar("T")


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus the distribution (name, version) of each entry-point plugin,
    and the latest configuration (:meth:`configure`)."""

    def __init__(self) -> None:
        super().__init__(ENTRY_POINT_GROUP)
        self.distributions: dict[str, tuple[str, str]] = {}
        #: what the last :meth:`configure` gave, for plugins registered after it
        self.configuration: dict[str, Any] | None = None

    def configure(self, config: dict[str, Any]) -> None:
        """Call the ``configure`` hook of every plugin with ``config``, and keep it in place
        of the one before: a plugin registered later is called with it when registered.

        Not a historic pluggy call, whose history keeps every config for later plugins: a
        program building many pipelines on one manager would grow with each.
        """
        self.configuration = config
        self.hook.configure(config=config)

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """pluggy's ``register``; a plugin registered after :meth:`configure` has its
        ``configure`` hook called at once with the latest config."""
        registered = super().register(plugin, name)
        if registered is not None and self.configuration is not None:
            others = [other for other in self.get_plugins() if other is not plugin]
            configure = self.subset_hook_caller("configure", remove_plugins=others)
            configure(config=self.configuration)
        return registered


def make_plugin_manager(
    *,
    load_entrypoints: bool = True,
    only: Sequence[str] | None = None,
    plugins: Iterable[object] = (),
) -> PluginManager:
    """A new plugin manager with the hookspecs, entry-point plugins and ``plugins``.

    :param load_entrypoints: load plugins from the ``ioproto`` entry-point group.
    :param only: load only entry points with these names; ``None`` reads
        ``IOPROTO_LOAD_PLUGINS`` (unset: all).
    :param plugins: extra plugin objects (modules or instances) to register, e.g. in tests.

    An entry-point plugin that fails to import, or whose hooks are wrong (a name that is no
    hook, an argument the hook does not give), is reported with a :class:`PluginLoadWarning`
    naming it and skipped. A plugin of ``plugins`` whose hooks are wrong raises
    :class:`~ioproto.errors.PluginError` saying what to change. A lifecycle hook
    (``configure``, ``pipeline_started``, ``pipeline_finished``) that raises is reported with
    a warning naming its plugin when it is called, and the run goes on. A name where a
    plugin object goes (``plugins=["my_plugin"]``), or one name as ``only``, is a
    :class:`~ioproto.errors.UsageError`.
    """
    plugins = _plugin_objects(plugins)
    if isinstance(only, str):
        raise UsageError(f"only takes a list of names: only=[{only!r}]")
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    if load_entrypoints:
        if only is None:
            only = _names_from_environment()
        _load_entrypoints(pm, only)
    for plugin in plugins:
        label = getattr(plugin, "__name__", type(plugin).__name__)
        problems = hook_problems(pm, plugin)
        if problems:
            raise PluginError(f"plugin {label!r}: {problems[0]}")
        _warn_unmarked(pm, plugin, label)
        # named as its module or class, which its error records and warnings then say
        # (pluggy would name an instance by its id())
        name, copies = label, 1
        while pm.has_plugin(name):
            copies += 1
            name = f"{label}#{copies}"
        pm.register(plugin, name=name)
        isolate_lifecycle(pm, plugin, name)
    pm.check_pending()
    if os.environ.get("IOPROTO_TRACE_PLUGINS"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()
    return pm


def _plugin_objects(plugins: Iterable[object]) -> list[object]:
    """``plugins`` as a list; a name in place of a plugin object is a mistake (pluggy would
    register the string, whose hooks are none, or each of its letters)."""
    listed: list[object] = [plugins] if isinstance(plugins, str) else list(plugins)
    for plugin in listed:
        if isinstance(plugin, str):
            raise UsageError(
                f"plugins takes plugin objects (a module or an instance with hooks), not the "
                f"name {plugin!r}: import it and pass it (plugins=[module])"
            )
    return listed


def _names_from_environment() -> Sequence[str] | None:
    value = os.environ.get("IOPROTO_LOAD_PLUGINS")
    if value is None:
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def _load_entrypoints(pm: PluginManager, only: Sequence[str] | None) -> None:
    names: dict[int, tuple[str, str]] = {}
    available = entry_points(ENTRY_POINT_GROUP)
    if only is not None:
        _warn_unknown_names(only, [entry_point.name for entry_point in available])
    for entry_point in available:
        if only is not None and entry_point.name not in only:
            continue
        if pm.get_plugin(entry_point.name) is not None or pm.is_blocked(entry_point.name):
            continue
        try:
            plugin = entry_point.load()
        except Exception as exc:
            warnings.warn(
                f"ioproto plugin {entry_point.name!r} ({entry_point.value}) failed to load "
                f"and was skipped: {type(exc).__name__}: {exc}",
                PluginLoadWarning,
                stacklevel=2,
            )
            continue
        problems = hook_problems(pm, plugin)
        if problems:
            warnings.warn(
                f"ioproto plugin {entry_point.name!r} ({entry_point.value}) was skipped: "
                f"{problems[0]}",
                PluginLoadWarning,
                stacklevel=2,
            )
            continue
        _warn_unmarked(pm, plugin, entry_point.name)
        pm.register(plugin, name=entry_point.name)
        isolate_lifecycle(pm, plugin, entry_point.name)
        dist = entry_point.dist
        if dist is not None:
            # One read of each distribution's metadata, not one per entry point (the
            # bundled plugins are 22 entry points of one distribution).
            found = names.get(id(dist))
            if found is None:
                found = names[id(dist)] = (dist.name, dist.version)
            pm.distributions[entry_point.name] = found


def _warn_unmarked(pm: PluginManager, plugin: object, name: str) -> None:
    """A :class:`PluginLoadWarning` for each function of ``plugin`` named like a hook but not
    marked ``@ioproto.hookimpl`` (pluggy would ignore it, silently)."""
    for hook in unmarked_hooks(pm, plugin):
        warnings.warn(
            f"ioproto plugin {name!r} defines {hook}() without @ioproto.hookimpl, so it is "
            f"never called; mark it @ioproto.hookimpl",
            PluginLoadWarning,
            stacklevel=3,
        )


def _warn_unknown_names(only: Sequence[str], installed: Sequence[str]) -> None:
    """A :class:`PluginLoadWarning` for each name of ``IOPROTO_LOAD_PLUGINS`` that no
    installed plugin has (a typo would otherwise load fewer plugins, silently)."""
    from .suggest import did_you_mean

    for name in only:
        if name not in installed:
            warnings.warn(
                f"IOPROTO_LOAD_PLUGINS names {name!r}, which no installed plugin is"
                f"{did_you_mean(name, installed)}; installed: {', '.join(sorted(installed))}",
                PluginLoadWarning,
                stacklevel=3,
            )


# -- collecting components --------------------------------------------------------------------


class Registered(NamedTuple, Generic[T]):
    """A component and the plugin that registered it."""

    component: T
    plugin: str


class Registry(Generic[T]):
    """Components of one kind by name, each with the plugin that offered it.

    A plugin may register a :class:`~ioproto.lazycomponents.LazyComponent` instead of a
    component: :meth:`entries` gives what was registered, without making anything (for
    listings); :meth:`get` and :meth:`items` give real components, made on first use. A
    component that fails to be made is reported (a :class:`PluginLoadWarning` naming its
    plugin) and dropped, as a plugin whose hook raises is.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, Registered[Any]] = {}

    def add(self, component: T | LazyComponent, plugin: str) -> None:
        name = getattr(component, "name", None)
        if not isinstance(name, str) or not name:
            warnings.warn(
                f"plugin {plugin!r} registered a {self.kind} without a name; ignored",
                PluginLoadWarning,
                stacklevel=3,
            )
            return
        problem = (
            None
            if isinstance(component, LazyComponent)
            else component_problem(self.kind, component)
        )
        if problem is not None:
            warnings.warn(
                f"ioproto plugin {plugin!r} registered {self.kind} {name!r}, which was "
                f"skipped: {problem}",
                PluginLoadWarning,
                stacklevel=3,
            )
            return
        if name in self._items:
            warnings.warn(
                f"plugin {plugin!r} registered {self.kind} {name!r}, already registered by "
                f"{self._items[name].plugin!r}; the first one is kept",
                PluginLoadWarning,
                stacklevel=3,
            )
            return
        self._items[name] = Registered(component, plugin)

    def get(self, name: str) -> T:
        """The component called ``name``; ``KeyError`` whose message lists the valid names."""
        entry = self._items.get(name)
        if entry is None or not self._make(entry):
            raise UnknownComponentError(self.kind, name, sorted(self._items))
        return cast(T, made(entry.component))

    def names(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[Registered[T]]:
        """Every component (made now if registered lazily), with its plugin."""
        return [
            Registered(made(entry.component), entry.plugin)
            for entry in list(self._items.values())
            if self._make(entry)
        ]

    def entries(self) -> list[Registered[Any]]:
        """What was registered, in order: components, or ``LazyComponent`` descriptors
        standing for them. Reading only what a descriptor declares makes nothing."""
        return list(self._items.values())

    def owner(self, name: str) -> str:
        """The plugin that registered ``name``."""
        return self._items[name].plugin

    def _make(self, entry: Registered[Any]) -> bool:
        """Make ``entry``'s component if it is lazy; ``False`` (reported, and the entry
        dropped) when that fails."""
        try:
            problem = component_problem(self.kind, made(entry.component))
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            return True
        name = entry.component.name
        del self._items[name]
        warnings.warn(
            f"ioproto plugin {entry.plugin!r} failed to make {self.kind} {name!r}, "
            f"which was skipped: {problem}",
            PluginLoadWarning,
            stacklevel=3,
        )
        return False

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)


class UnknownComponentError(UsageError, KeyError):
    """A name given for a source, decoder, classifier or sink that nobody registered.

    A :class:`~ioproto.errors.UsageError` (the caller's mistake: the message lists the
    valid names), and a ``KeyError`` as it was before there was one."""

    def __init__(self, kind: str, name: str, valid: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = valid
        super().__init__(name)

    def __str__(self) -> str:
        valid = ", ".join(self.valid) or "(none registered)"
        hint = did_you_mean(self.name, self.valid)
        return f"unknown {self.kind} {self.name!r}{hint}; valid: {valid}"


class Components(NamedTuple):
    """Everything the plugins registered, collected once."""

    sources: Registry[Source]
    decoders: Registry[Decoder]
    classifiers: Registry[Classifier]
    sinks: Registry[SinkFactory]
    fields: Registry[Field]

    def field_set(self) -> FieldSet:
        """The filter fields: the core's (``layer``, ``type`` …) and every plugin's."""
        return FieldSet(item.component for item in self.fields.items())


def collect_components(pm: pluggy.PluginManager) -> Components:
    """Call every ``register_*`` hook once and gather the results.

    Each implementation is called separately so that a plugin whose hook raises is reported
    (a :class:`PluginLoadWarning` naming it) and skipped instead of taking ioproto down.
    """
    components = Components(
        sources=Registry("source"),
        decoders=Registry("decoder"),
        classifiers=Registry("classifier"),
        sinks=Registry("sink"),
        fields=Registry("field"),
    )
    for field in CORE_FIELDS:
        components.fields.add(field, "ioproto")
    _collect(pm, "register_sources", components.sources)
    _collect(pm, "register_decoders", components.decoders)
    _collect(pm, "register_classifiers", components.classifiers)
    _collect(pm, "register_sinks", components.sinks)
    _collect(pm, "register_fields", components.fields)
    return components


def _collect(pm: pluggy.PluginManager, hook_name: str, registry: Registry[Any]) -> None:
    hook = getattr(pm.hook, hook_name)
    # get_hookimpls() is in registration order (pluggy *calls* them in reverse).
    for impl in hook.get_hookimpls():
        plugin_name = impl.plugin_name

        def register(component: object, _plugin: str = plugin_name) -> None:
            registry.add(component, _plugin)

        try:
            returned = impl.function(register=register)
        except Exception as exc:
            warnings.warn(
                f"ioproto plugin {plugin_name!r} failed in {hook_name}: "
                f"{type(exc).__name__}: {exc}{where(exc)}",
                PluginLoadWarning,
                stacklevel=2,
            )
            continue
        if returned is not None:
            warnings.warn(
                f"ioproto plugin {plugin_name!r}: {hook_name} returned "
                f"{type(returned).__name__}, which ioproto ignores; call register(component) "
                f"for each component instead",
                PluginLoadWarning,
                stacklevel=2,
            )


# -- describing plugins -----------------------------------------------------------------------


def describe_plugins(
    pm: PluginManager, components: Components | None = None
) -> list[dict[str, Any]]:
    """One dict per plugin: name, package, version, hooks and what it registered
    (``components``, collected from ``pm`` when not given). Makes no lazily registered
    component.

    This is what ``ioproto plugins --json`` prints.
    """
    components = components or collect_components(pm)
    described = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = sorted(impl.name for impl in _hookcallers(pm, plugin))
        distribution, version = pm.distributions.get(name, (None, None))
        module = getattr(plugin, "__name__", type(plugin).__name__)
        registered: dict[str, list[str]] = {}
        for kind, registry in (
            ("sources", components.sources),
            ("decoders", components.decoders),
            ("classifiers", components.classifiers),
            ("sinks", components.sinks),
            ("fields", components.fields),
        ):
            owned = [item.component.name for item in registry.entries() if item.plugin == name]
            if owned:
                registered[kind] = owned
        described.append(
            {
                "name": name,
                "module": module,
                "distribution": distribution,
                "version": version,
                "hooks": hooks,
                **registered,
            }
        )
    described.sort(key=lambda entry: str(entry["name"]))
    return described


def _hookcallers(pm: pluggy.PluginManager, plugin: object) -> list[Any]:
    callers = pm.get_hookcallers(plugin) or []
    return list(callers)
