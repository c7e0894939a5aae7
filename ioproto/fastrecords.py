"""Cheap construction and copying of frozen, slotted attrs records on hot paths.

attrs' generated ``__init__`` of a frozen class sets every field through
``object.__setattr__`` and takes keywords; ``attrs.evolve`` goes through ``__init__`` again.
On a decoder's hot path that is half the cost of a packet. The functions here generate, once
per class (as attrs itself does), code that writes the slots directly. The objects they make
are equal, field by field, to what ``cls(**kwargs)`` makes (``tests/core/test_fastrecords.py``
checks it).

How the slots are written: the object is made as an instance of a *builder*, a subclass of
the record class with no slots of its own and ``object``'s ``__setattr__``, so that
``self.name = value`` is a plain slot store (CPython specialises it: about 4x cheaper than
calling each slot's descriptor), and then becomes an instance of the record class itself
(``self.__class__ = cls``: same memory layout, so the assignment is allowed). Nothing else
sees the builder: the object leaves the generated function as a ``cls``. A class whose
objects cannot change class that way falls back to writing through the descriptors.

Only for classes whose fields have no validator, converter or ``__attrs_post_init__``: for
others :func:`positional_maker` falls back to calling the class.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import attrs


def positional_maker(cls: type, names: Sequence[str]) -> Callable[..., Any]:
    """A function ``make(*values)`` equivalent to ``cls(**dict(zip(names, values)))``.

    Fields not named get their defaults (factories are called each time, those taking
    ``self`` with the fields before them already set, as attrs does). Raises
    ``TypeError`` for a name that is not a field, or when a mandatory field is not named.
    """
    fields = attrs.fields(cls)
    known = {field.name for field in fields}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field(s) {unknown}")
    arguments = ", ".join(names)
    namespace: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    if not _can_write_slots(cls):
        keywords = ", ".join(f"{name}={name}" for name in names)
        lines = [f"def make({arguments}):", f"    return _cls({keywords})"]
        return _compile(cls, lines, namespace)
    store = _slot_store(cls, namespace)
    lines = [f"def make({arguments}):", "    self = _new(_builder)"]
    for field in fields:
        if field.name in names:
            lines.append(store(field.name, field.name))
        elif isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
            namespace[f"_factory_{field.name}"] = field.default.factory
            # In field order, as attrs does: a factory taking self sees the earlier fields.
            argument = "self" if field.default.takes_self else ""
            lines.append(store(field.name, f"_factory_{field.name}({argument})"))
        elif field.default is attrs.NOTHING:
            raise TypeError(f"{cls.__name__}.{field.name} is mandatory and was not named")
        else:
            namespace[f"_default_{field.name}"] = field.default
            lines.append(store(field.name, f"_default_{field.name}"))
    lines += _become(namespace)
    lines.append("    return self")
    return _compile(cls, lines, namespace)


def _slot_store(cls: type, namespace: dict[str, Any]) -> Callable[[str, str], str]:
    """How generated code sets a slot of a new object of ``cls`` (see the module docstring):
    a plain store on a builder object when ``cls`` has a builder, else a call of the slot's
    descriptor. Fills ``namespace`` with what the code names (``_builder``, setters)."""
    builder = _builder_of(cls)
    if builder is not None:
        namespace["_builder"] = builder
        return lambda name, value: f"    self.{name} = {value}"
    namespace["_builder"] = cls
    for field in attrs.fields(cls):
        namespace[f"_set_{field.name}"] = getattr(cls, field.name).__set__
    return lambda name, value: f"    _set_{name}(self, {value})"


def _become(namespace: dict[str, Any]) -> list[str]:
    """The line that turns the builder object into a ``cls`` (none without a builder)."""
    return ["    self.__class__ = _cls"] if namespace["_builder"] is not namespace["_cls"] else []


_builders: dict[type, type | None] = {}


def _builder_of(cls: type) -> type | None:
    """The builder class of slotted record class ``cls``, or ``None`` if its objects cannot
    be built that way (checked once, on a trial object)."""
    if cls in _builders:
        return _builders[cls]
    builder: type | None
    made = type(
        f"_{cls.__name__}Builder",
        (cls,),
        {
            "__slots__": (),
            # object's own, so that CPython stores slots without calling Python code
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__module__": cls.__module__,
        },
    )
    try:
        trial: Any = object.__new__(made)
        trial.__class__ = cls
        builder = made
    except TypeError:
        builder = None
    _builders[cls] = builder
    return builder


_replacers: dict[tuple[type, str], Callable[[Any, Any], Any]] = {}


def replace_field(record: Any, name: str, value: Any) -> Any:
    """A copy of ``record`` with field ``name`` set to ``value`` (a fast ``attrs.evolve``)."""
    cls = type(record)
    replacer = _replacers.get((cls, name))
    if replacer is None:
        replacer = _make_replacer(cls, name)
        _replacers[cls, name] = replacer
    return replacer(record, value)


def _make_replacer(cls: type, name: str) -> Callable[[Any, Any], Any]:
    if not _can_write_slots(cls):
        return lambda record, value: attrs.evolve(record, **{name: value})
    namespace: dict[str, Any] = {"_cls": cls, "_new": object.__new__}
    store = _slot_store(cls, namespace)
    lines = ["def replace(record, value):", "    self = _new(_builder)"]
    for field in attrs.fields(cls):
        if field.name == name:
            lines.append(store(field.name, "value"))
        else:
            lines.append(store(field.name, f"record.{field.name}"))
    lines += _become(namespace)
    lines.append("    return self")
    return _compile(cls, lines, namespace, function="replace")


def _can_write_slots(cls: type) -> bool:
    if "__slots__" not in cls.__dict__ or getattr(cls, "__attrs_post_init__", None) is not None:
        return False
    return all(f.validator is None and f.converter is None for f in attrs.fields(cls))


def _compile(
    cls: type, lines: list[str], namespace: dict[str, Any], function: str = "make"
) -> Callable[..., Any]:
    # The descriptors become closure cells: LOAD_DEREF is cheaper than a global lookup, and
    # these functions run once per packet.
    cells = list(namespace)
    inner = "\n".join(f"    {line}" for line in lines)
    source = f"def outer({', '.join(cells)}):\n{inner}\n    return {function}\n"
    scope: dict[str, Any] = {}
    exec(compile(source, f"<ioproto.fastrecords {cls.__name__}>", "exec"), scope)
    made: Callable[..., Any] = scope["outer"](**namespace)
    return made


# -- pickling ---------------------------------------------------------------------------------


class Rebuilder:
    """The class attribute ``_ioproto_make`` of a class :func:`reduce_record` pickles: read on
    a class, the function that makes an object of that class from its fields' values in
    order (:func:`rebuilder`).

    It is how pickle names that function, ``<module>.<Class>._ioproto_make``, so that the
    process that unpickles makes each record with one call of it. :class:`ioproto.model.Record`
    has it (every record class inherits it); another class pickled with
    :func:`reduce_record` declares ``_ioproto_make = Rebuilder()`` in its body.
    """

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        return rebuilder(owner)


_rebuilders: dict[type, Callable[..., Any]] = {}


def rebuilder(cls: type) -> Callable[..., Any]:
    """The function ``make(*values)`` giving the ``cls`` object whose fields, in order, have
    ``values``, as it was pickled: no validator, converter or ``__attrs_post_init__`` runs,
    as with attrs' own unpickling. Made once per class, and named for pickle (see
    :class:`Rebuilder`)."""
    maker = _rebuilders.get(cls)
    if maker is None:
        names = [field.name for field in attrs.fields(cls)]
        writable = _can_write_slots(cls)
        maker = positional_maker(cls, names) if writable else _setter_maker(cls, names)
        maker.__module__ = cls.__module__
        maker.__qualname__ = f"{cls.__qualname__}._ioproto_make"
        _rebuilders[cls] = maker
    return maker


class _Pickling(dict[type, tuple[Callable[..., Any], Callable[[Any], tuple[Any, ...]]]]):
    """For each class :func:`reduce_record` has pickled: its :func:`rebuilder` and a getter
    of its fields' values in order (made on first use)."""

    def __missing__(self, cls: type) -> tuple[Callable[..., Any], Callable[[Any], tuple[Any, ...]]]:
        names = [field.name for field in attrs.fields(cls)]
        getter: Callable[[Any], tuple[Any, ...]]
        if len(names) == 1:
            name = names[0]
            getter = lambda item: (getattr(item, name),)  # noqa: E731
        else:
            getter = operator.attrgetter(*names)
        entry = self[cls] = (rebuilder(cls), getter)
        return entry


#: ``PICKLING[cls]``: ``(rebuilder(cls), getter of its fields' values)``.
PICKLING = _Pickling()


def reduce_record(record: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """``__reduce__`` for a frozen, slotted attrs record: the class's :func:`rebuilder` and
    the values of its fields in order. The class must have ``_ioproto_make``
    (:class:`Rebuilder`), by which pickle names the rebuilder.

    Records cross process boundaries in batches (:mod:`ioproto.worker`); pickle's default
    for a slotted attrs class goes through a dict of the fields and a ``__setstate__`` that
    sets them one by one, which measured about twice what this costs. What comes back is
    the record as it was, as with the default (no validator, converter or
    ``__attrs_post_init__`` runs). :meth:`ioproto.model.Record.__reduce__` does the same in
    its own body: one Python call per record pickled, one (the rebuilder) per record
    unpickled.
    """
    maker, getter = PICKLING[record.__class__]
    return maker, getter(record)


def _setter_maker(cls: type, names: list[str]) -> Callable[..., Any]:
    """What attrs' own ``__setstate__`` does: every field set, nothing else run."""
    setattr_ = object.__setattr__

    def make(*values: Any) -> Any:
        self: Any = object.__new__(cls)
        for name, value in zip(names, values, strict=True):
            setattr_(self, name, value)
        return self

    return make
