"""What a plugin got wrong, said in one line naming the plugin and what to change.

Checked once, when a plugin is registered or a component is handed over, never per record:

* :func:`hook_problems`: hook implementations whose name is no hook, that take an argument
  the hook does not give, or that give an argument a default value (pluggy then never passes
  it); :func:`unmarked_hooks`: functions named like a hook but not marked
  ``@ioproto.hookimpl``, which are never called;
* :func:`component_problem`: a component without a member its kind needs (a decoder without
  ``rides_on``), or a class registered instead of an instance; :func:`opened_problem`: what
  its ``open`` returned lacks a method the pipeline calls (a stream without ``feed``);
* :func:`isolate_lifecycle`: a lifecycle hook (``configure``, ``pipeline_started``,
  ``pipeline_finished``) that raises is reported with a warning naming the plugin, as a
  ``register_*`` hook that raises is, instead of ending the caller's run.
"""

from __future__ import annotations

import inspect
import traceback
import warnings
from collections.abc import Callable
from typing import Any

import pluggy

from .errors import PluginLoadWarning
from .suggest import did_you_mean

#: What the core calls or reads on each kind of component (their protocols in
#: :mod:`ioproto.components`), and which of those are methods.
REQUIRED_MEMBERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "source": (("name", "description"), ("probe", "open")),
    "decoder": (("name", "rides_on", "description"), ("accepts", "open")),
    "classifier": (("name", "description"), ("open",)),
    "sink": (("name", "description"), ("open",)),
}

#: The methods the pipeline calls on what each kind's ``open`` returns.
OPENED_METHODS: dict[str, tuple[str, ...]] = {
    "decoder": ("feed", "close"),
    "classifier": ("classify", "close"),
    "sink": ("write", "close"),
}

#: Hooks called once per run, whose exception must not end the run (see the module doc).
LIFECYCLE_HOOKS = ("configure", "pipeline_started", "pipeline_finished")

_SEE = "see docs/plugin-hooks.md"


def hook_names(pm: pluggy.PluginManager) -> list[str]:
    """The hooks ioproto has (those with a specification)."""
    callers = vars(pm.hook).items()
    return sorted(name for name, caller in callers if caller.has_spec())


def hook_problems(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """What is wrong with ``plugin``'s hook implementations, one line each (``[]``: nothing).

    Run before ``pm.register(plugin)``, which would otherwise raise pluggy's own
    multi-line ``PluginValidationError`` (or, for an unknown name, leave it to
    ``check_pending``).
    """
    problems = []
    names = hook_names(pm)
    for attribute in dir(plugin):
        options = pm.parse_hookimpl_opts(plugin, attribute)
        if options is None:
            continue
        hook = options.get("specname") or attribute
        function = getattr(plugin, attribute)
        if hook not in names:
            if not options.get("optionalhook"):
                problems.append(
                    f"{hook} is not an ioproto hook{did_you_mean(hook, names)}; the hooks are "
                    f"{', '.join(names)} ({_SEE})"
                )
            continue
        given = set(getattr(pm.hook, hook).spec.argnames)
        problems.extend(_signature_problems(hook, function, given))
    return problems


def _signature_problems(hook: str, function: Callable[..., Any], given: set[str]) -> list[str]:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin: pluggy will say
        return []
    listed = ", ".join(sorted(given))
    problems = []
    for parameter in parameters:
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.default is not parameter.empty:
            problems.append(
                f"{hook}() gives its argument {parameter.name!r} a default value, so it is "
                f"never passed; remove the default ({_SEE})"
            )
        elif parameter.name not in given:
            problems.append(
                f"{hook}() takes {parameter.name!r}, which the hook does not give"
                f"{did_you_mean(parameter.name, given)}; it gives: {listed} ({_SEE})"
            )
    return problems


def unmarked_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """Functions of ``plugin`` named like a hook but not marked ``@ioproto.hookimpl``."""
    found = []
    for name in hook_names(pm):
        function = getattr(plugin, name, None)
        if callable(function) and pm.parse_hookimpl_opts(plugin, name) is None:
            found.append(name)
    return found


def component_problem(kind: str, component: object) -> str | None:
    """Why ``component`` cannot be a ``kind`` (``"decoder"``, …), or ``None`` if it can."""
    if kind not in REQUIRED_MEMBERS:
        return None
    if isinstance(component, type):
        return (
            f"registered the class {component.__name__}, not an instance of it: "
            f"register({component.__name__}())"
        )
    attributes, methods = REQUIRED_MEMBERS[kind]
    missing = [name for name in attributes if not hasattr(component, name)]
    missing += [name for name in methods if not callable(getattr(component, name, None))]
    if missing:
        needs = ", ".join((*attributes, *(f"{name}()" for name in methods)))
        return (
            f"its {kind} {type(component).__name__} has no {', '.join(missing)}; a {kind} has "
            f"{needs} ({_SEE})"
        )
    return None


def opened_problem(kind: str, opened: object) -> str | None:
    """Why ``opened``, what the ``open`` of a ``kind`` returned, cannot run, or ``None``."""
    methods = OPENED_METHODS.get(kind, ())
    missing = [name for name in methods if not callable(getattr(opened, name, None))]
    if not missing:
        return None
    needs = " and ".join(f"{name}()" for name in methods)
    return (
        f"open() returned {type(opened).__name__}, which has no {', '.join(missing)}; it must "
        f"return an object with {needs} ({_SEE})"
    )


def isolate_lifecycle(pm: pluggy.PluginManager, plugin: object, plugin_name: str) -> None:
    """Make each lifecycle hook of ``plugin`` report an exception as a
    :class:`PluginLoadWarning` naming it, instead of raising into the caller."""
    for caller in pm.get_hookcallers(plugin) or ():
        if caller.name not in LIFECYCLE_HOOKS:
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin and not (impl.hookwrapper or getattr(impl, "wrapper", False)):
                # pluggy declares it final, but calls whatever is there: the one place a
                # hook's call can be wrapped that also covers configure's call on a later register()
                impl.function = _isolated(  # type: ignore[misc]
                    impl.function, plugin_name, caller.name
                )


def _isolated(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    said: set[str] = set()  # a command builds a pipeline twice (to check, then to run)

    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:
            message = (
                f"ioproto plugin {plugin!r} failed in {hook}: {type(exc).__name__}: {exc}"
                f"{where(exc)}"
            )
            if message not in said:
                if len(said) < 64:
                    said.add(message)
                warnings.warn(message, PluginLoadWarning, stacklevel=2)
            return None

    return call


def where(exc: BaseException) -> str:
    """`` at FILE:LINE`` of the innermost frame of ``exc``'s traceback (``""`` if none)."""
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else None
    return f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
