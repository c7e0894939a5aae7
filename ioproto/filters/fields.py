"""Fields: the names a filter expression uses, and how each is read from a record.

A plugin describes the fields of its layer with :class:`Field` and offers them through the
``register_fields`` hook. A field's ``get(record)`` reads the value from *one* record, or
returns ``None`` when that record does not carry it; :meth:`FieldSet.resolver` then looks
along the record's lineage (the record, its parent, its parent's parent …), so that a
Socket.IO record's ``eio.*`` fields come from its Engine.IO packet and its ``http.*`` fields
from its chunk.

Types (``Field.type``) decide which values a field may be compared with, and make the
compiled filter's work simpler:

========== ===================================================== =====================
type       values                                                literals accepted
========== ===================================================== =====================
string     ``str``                                               strings, bare words
integer    ``int``                                               numbers
number     ``int`` or ``float``                                  numbers
duration   seconds (``float``)                                   numbers, ``50ms`` …
size       bytes (``int``)                                       numbers, ``1kB`` …
bool       ``bool``                                              true, false
json       any JSON value (str, number, bool, list, dict, bytes) anything; ``[0]``, ``.k``
========== ===================================================== =====================

A value of another type than declared is treated as missing. ``many=True`` fields give a
tuple of values (``tcp.port``: both ports of the connection); a test holds when it holds
for one of them (``!=``: for none of them equal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ioproto.model import Record

TYPES = ("string", "integer", "number", "duration", "size", "bool", "json")

_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda value: isinstance(value, str),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "duration": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "size": lambda value: isinstance(value, int | float) and not isinstance(value, bool),
    "bool": lambda value: isinstance(value, bool),
    "json": lambda value: True,
}


class _Missing:
    """The value of a field a record does not have."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


def _check_name(value: str) -> None:
    parts = value.split(".")
    if not all(part and (part[0].isalpha() or part[0] == "_") for part in parts) or not all(
        c.isalnum() or c in "_-." for c in value
    ):
        raise ValueError(f"field name {value!r}: dotted words of letters, digits, '_' and '-'")


def _check_type(value: str) -> None:
    if value not in TYPES:
        raise ValueError(f"field type {value!r} is not one of {', '.join(TYPES)}")


_FIELD_ORDER = (
    "name",
    "type",
    "get",
    "description",
    "layer",
    "many",
    "pushdown",
    "source_option",
    "example",
)


class Field:
    """One field of the filter language: immutable, compared and hashed by its values.

    :param name: dotted, the first word naming the layer or classifier (``sio.event``).
    :param type: one of :data:`TYPES`.
    :param get: reads the value from one record; ``None`` when that record lacks it (the
        lineage is then searched). Must not raise for any record; the filter treats an
        exception as a missing value.
    :param description: one line for ``ioproto fields`` and docs/filters.md.
    :param layer: the layer of the records that carry the field (``"engineio"``), or
        ``None`` when any record may (tags, the record's own ``type``).
    :param many: ``get`` returns a tuple of values (see the module docstring).
    :param pushdown: the value is the same on a record of ``layer`` and on every record
        decoded from it, and dropping the records that fail a test of it changes nothing
        for the records that pass (no state of another session or connection depends on
        them). The pipeline may then drop a record right after ``layer`` when such a test
        fails, instead of decoding it further (docs/filters.md, "Push-down").
    :param source_option: a capture source option that does the same selection as
        ``field in {values}`` (``tcp.port`` → ``port``); the CLI sets it when the filter
        is such a test at the top level.
    :param example: an expression using the field, for the docs.

    Raises :class:`ValueError` for a malformed ``name`` or an unknown ``type``.
    """

    # A plain class, not attrs: every `ioproto plugins`, `fields` and `--help` makes the
    # fields, and these commands import no attrs (start-up, docs/architecture.md).
    __slots__ = (
        "description",
        "example",
        "get",
        "layer",
        "many",
        "name",
        "pushdown",
        "source_option",
        "type",
    )
    name: str
    type: str
    get: Callable[[Record], Any]
    description: str
    layer: str | None
    many: bool
    pushdown: bool
    source_option: str | None
    example: str | None

    def __init__(
        self,
        *,
        name: str,
        type: str,
        get: Callable[[Record], Any],
        description: str = "",
        layer: str | None = None,
        many: bool = False,
        pushdown: bool = False,
        source_option: str | None = None,
        example: str | None = None,
    ) -> None:
        _check_name(name)
        _check_type(type)
        values = (name, type, get, description, layer, many, pushdown, source_option, example)
        for slot, value in zip(_FIELD_ORDER, values, strict=True):
            object.__setattr__(self, slot, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, slot) for slot in _FIELD_ORDER)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Field is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Field is immutable: cannot delete {name!r}")

    def __getstate__(self) -> tuple[Any, ...]:
        return self._values()

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        # copy and pickle restore a field this way (its __setattr__ refuses).
        for slot, value in zip(_FIELD_ORDER, state, strict=True):
            object.__setattr__(self, slot, value)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{slot}={getattr(self, slot)!r}" for slot in _FIELD_ORDER if slot != "get"
        )
        return f"Field({shown})"


#: What :func:`reads` takes: a record class, ``"module:Class"`` naming one, or a tuple.
Kind = type | str | tuple[type | str, ...]


def reads(kind: Kind, read: Callable[[Any], Any]) -> Callable[[Record], Any]:
    """A ``get`` for :class:`Field`: ``read(record)`` for records of class ``kind``, ``None``
    for any other record (so the lineage is searched).

    A class may be named instead, ``"module:Class"``: it is imported when the field is
    first read, so that a fields module need not import its records module (``ioproto
    fields`` and ``ioproto plugins`` then import no records module)."""
    if isinstance(kind, type) or (
        isinstance(kind, tuple) and all(isinstance(item, type) for item in kind)
    ):
        classes: Any = kind

        def get(record: Record) -> Any:
            return read(record) if isinstance(record, classes) else None

        return get
    named = kind
    resolved: Any = None

    def get_named(record: Record) -> Any:
        nonlocal resolved
        if resolved is None:
            resolved = record_classes(named)
        return read(record) if isinstance(record, resolved) else None

    return get_named


def record_classes(kind: Kind) -> tuple[type, ...]:
    """The classes ``kind`` names (see :func:`reads`), imported."""
    items = kind if isinstance(kind, tuple) else (kind,)
    found = []
    for item in items:
        if isinstance(item, str):
            module, _, name = item.partition(":")
            item = getattr(import_module(module), name)
        found.append(item)
    return tuple(found)


def _along_lineage(get: Callable[[Record], Any], record: Record) -> Any:
    """The first value ``get`` gives for the record or one of its ancestors, or ``None``."""
    current: Record | None = record
    while current is not None:
        try:
            value = get(current)
        except Exception:
            value = None
        if value is not None:
            return value
        current = current.parent
    return None


def resolver(field: Field) -> Callable[[Record], Any]:
    """``record → value`` for ``field``: the first value along the lineage that has the
    declared type (a tuple for ``many`` fields), else :data:`MISSING` (``()`` for ``many``).

    Never raises: a getter that raises counts as "not on this record".
    """
    get = field.get
    check = _CHECKS[field.type]
    if field.many:

        def resolve_many(record: Record) -> Any:
            values = _along_lineage(get, record)
            if values is None:
                return ()
            if not isinstance(values, list | tuple | set | frozenset):
                values = (values,)  # a getter that gave one value, not a collection
            return tuple(value for value in values if value is not None and check(value))

        return resolve_many

    def resolve(record: Record) -> Any:
        value = _along_lineage(get, record)
        return value if value is not None and check(value) else MISSING

    return resolve


class FieldSet:
    """The fields a filter may use, by name (what ``register_fields`` hooks offered)."""

    def __init__(self, fields: Iterable[Field] = ()) -> None:
        self._fields: dict[str, Field] = {}
        for field in fields:
            self.add(field)

    def add(self, field: Field) -> bool:
        """Add ``field``; ``False`` (and nothing added) if the name is taken."""
        if field.name in self._fields:
            return False
        self._fields[field.name] = field
        return True

    def get(self, name: str) -> Field | None:
        return self._fields.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._fields

    def __iter__(self) -> Iterator[Field]:
        return iter(sorted(self._fields.values(), key=lambda field: field.name))

    def __len__(self) -> int:
        return len(self._fields)

    def names(self) -> list[str]:
        return sorted(self._fields)

    def split(self, dotted: str) -> tuple[Field, tuple[str, ...]] | None:
        """The field that ``dotted`` names and the keys after it: ``sio.args`` for
        ``"sio.args"``; for ``"sio.data.room"`` the longest registered prefix that is a
        ``json`` field (``sio.data``) and ``("room",)``. ``None`` when nothing matches."""
        field = self._fields.get(dotted)
        if field is not None:
            return field, ()
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            field = self._fields.get(".".join(parts[:cut]))
            if field is not None and field.type == "json":
                return field, tuple(parts[cut:])
        return None

    def closest(self, name: str) -> str | None:
        """The registered name most like ``name`` (for "did you mean"), if any is close."""
        from ioproto.suggest import closest

        return closest(name, self._fields)
