"""Components registered now and made on first real use (:class:`LazyComponent`).

A ``register_*`` hook may hand over, instead of a component, a descriptor saying where the
component's class is and declaring the few attributes that listing it reads::

    register(LazyComponent("ioproto_engineio.decoder:EngineIODecoder",
                           name="engineio", rides_on="chunk", layer=None))

``ioproto plugins``, ``ioproto fields``, ``--help`` and the ``--proto`` check read only the
declared attributes (every component's ``name``; a decoder's ``rides_on`` and ``layer``),
so they import none of the components' modules. Whatever uses a component for real gets
the real object: :meth:`ioproto.plugins.Registry.get` and ``items()`` make it, once.

Contract: the target (``"module:attribute"``) is a class or function that, called with no
arguments, returns the component, whose ``name`` must be the declared one. Reading from
the descriptor an attribute it does not declare makes the component and reads it there, so
a declaration that leaves something out costs time, never a wrong answer; a declared value
must equal the component's own (for an optional member, ``None`` may stand for its absence
when that is what absence means, as for a decoder's ``layer``). The bundled plugins'
declarations are checked against their components by a test.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_NOT_MADE = object()


class LazyComponent:
    """A component of a plugin, named and described now, imported and made on first use
    (see the module docstring). ``declared`` are attribute values readable without making
    it."""

    __slots__ = ("_component", "_declared", "_target", "name")

    def __init__(self, target: str, /, *, name: str, **declared: Any) -> None:
        module, colon, attribute = target.partition(":")
        if not (module and colon and attribute):
            raise ValueError(f"LazyComponent target {target!r} is not 'module:attribute'")
        self.name = name
        self._target = target
        self._declared = declared
        self._component: Any = _NOT_MADE

    def __getattr__(self, attribute: str) -> Any:
        # Only called for what the slots and the class do not have.
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        declared = self._declared
        if attribute in declared:
            return declared[attribute]
        return getattr(made(self), attribute)

    def __repr__(self) -> str:
        state = "made" if self._component is not _NOT_MADE else "not made yet"
        return f"LazyComponent({self._target!r}, name={self.name!r}, {state})"


def made(component: Any) -> Any:
    """The real component: ``component`` itself, or what a :class:`LazyComponent` stands
    for, imported and made on the first call (later calls return the same object).

    Raises what importing or making it raised, and :class:`ValueError` when the made
    component's ``name`` is not the declared one.
    """
    if not isinstance(component, LazyComponent):
        return component
    if component._component is _NOT_MADE:
        module, _, path = component._target.partition(":")
        factory: Any = import_module(module)
        for part in path.split("."):
            factory = getattr(factory, part)
        real = factory()
        if getattr(real, "name", None) != component.name:
            raise ValueError(
                f"{component._target} made a component named "
                f"{getattr(real, 'name', None)!r}, registered as {component.name!r}"
            )
        component._component = real
    return component._component


def declared(component: Any, kind: str, member: str) -> Any:
    """``optional(component, kind, member)`` (:func:`ioproto.components.optional`) without
    making a component that is not made yet: a :class:`LazyComponent`'s declared value, or
    the value the member's absence means when it declares none."""
    from .components import OPTIONAL_MEMBERS, optional

    if isinstance(component, LazyComponent) and component._component is _NOT_MADE:
        absent, _ = OPTIONAL_MEMBERS[kind][member]
        return component._declared.get(member, absent)
    return optional(made(component), kind, member)


def declarations(component: LazyComponent) -> dict[str, Any]:
    """What ``component`` declares, its name included (for tests and tools)."""
    return {"name": component.name, **component._declared}
