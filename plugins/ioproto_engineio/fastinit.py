"""Cheap construction of frozen, slotted attrs records on the hot path.

A frozen attrs ``__init__`` sets each field through ``object.__setattr__``, which costs about
twice as much as writing the slots directly. :func:`positional_maker` generates, once, a
function that fills every slot of a new instance from its positional arguments (fields not
named get their declared default). The result equals what ``cls(**kwargs)`` would build;
``tests/engineio/test_parity.py`` checks it. Classes with validators, converters, factory
defaults or ``__attrs_post_init__`` get a plain keyword-calling fallback instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs


def positional_maker(cls: type, params: Sequence[str]) -> Callable[..., Any]:
    """A function ``make(*values)`` equivalent to ``cls(**dict(zip(params, values)))``."""
    fields = attrs.fields(cls)
    names = {field.name for field in fields}
    unknown = set(params) - names
    if unknown:
        raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
    fast = "__slots__" in cls.__dict__ and not hasattr(cls, "__attrs_post_init__")
    for field in fields:
        if field.validator is not None or field.converter is not None:
            fast = False
        if field.name not in params and (
            field.default is attrs.NOTHING or isinstance(field.default, attrs.Factory)  # type: ignore[arg-type]
        ):
            fast = False
    arguments = ", ".join(params)
    if not fast:
        keywords = ", ".join(f"{name}={name}" for name in params)
        source = f"def make({arguments}):\n    return _cls({keywords})\n"
        namespace: dict[str, Any] = {"_cls": cls}
        exec(compile(source, f"<positional_maker {cls.__name__}>", "exec"), namespace)
        fallback: Callable[..., Any] = namespace["make"]
        return fallback
    # The setters and defaults are closure cells of the generated function: LOAD_DEREF is
    # cheaper than a global lookup, and this runs once per packet.
    cells: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    body = ["    self = _new(_cls)"]
    for field in fields:
        cells[f"_set_{field.name}"] = getattr(cls, field.name).__set__
        if field.name in params:
            value = field.name
        else:
            cells[f"_default_{field.name}"] = field.default
            value = f"_default_{field.name}"
        body.append(f"    _set_{field.name}(self, {value})")
    body.append("    return self")
    inner = "\n".join(f"    {line}" for line in [f"def make({arguments}):", *body])
    source = f"def outer({', '.join(cells)}):\n{inner}\n    return make\n"
    namespace = {}
    exec(compile(source, f"<positional_maker {cls.__name__}>", "exec"), namespace)
    maker: Callable[..., Any] = namespace["outer"](**cells)
    return maker
