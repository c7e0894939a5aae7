"""The syntax tree of a filter expression: what the parser builds, and what the compiler,
the interpreter and the printer read.

Nodes are frozen attrs classes. ``column`` (1-based, where the node starts in the
expression text) is kept for error messages and ignored by equality, so a printed and
re-parsed expression compares equal to the original.
"""

from __future__ import annotations

from typing import Any

import attrs

_POSITION = {"eq": False, "repr": False}

#: Comparison operators, as written.
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


@attrs.frozen(slots=True)
class Literal:
    """A value written in the expression.

    ``value`` is a ``str``, ``bool``, ``int`` or ``float``; a number written with a unit
    (``50ms``, ``1kB``) holds the value in base units (seconds, bytes), ``unit`` the unit as
    written and ``text`` the number as written, so that printing gives the same text back.
    """

    value: str | bool | int | float
    unit: str | None = None
    text: str | None = attrs.field(default=None, eq=False)
    column: int = attrs.field(default=0, **_POSITION)  # type: ignore[call-overload]

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, int | float) and not isinstance(self.value, bool)


@attrs.frozen(slots=True)
class Range:
    """``low..high`` inside ``in {...}``: numbers from ``low`` to ``high``, both included."""

    low: Literal
    high: Literal
    column: int = attrs.field(default=0, **_POSITION)  # type: ignore[call-overload]


#: One step into a structured value: an ``int`` list index or a ``str`` key.
Step = int | str


@attrs.frozen(slots=True)
class FieldRef:
    """A field (``sio.args``) and the steps into its value (``[0]``, ``.room``)."""

    name: str
    path: tuple[Step, ...] = ()
    column: int = attrs.field(default=0, **_POSITION)  # type: ignore[call-overload]


@attrs.frozen(slots=True)
class Exists:
    """A field alone: true when the record has it (a yes/no field: when it is yes)."""

    field: FieldRef


@attrs.frozen(slots=True)
class Compare:
    """``field OP value`` with OP one of :data:`COMPARISONS`."""

    field: FieldRef
    op: str
    value: Literal


@attrs.frozen(slots=True)
class InSet:
    """``field in {a, b, low..high}``."""

    field: FieldRef
    items: tuple[Literal | Range, ...]


@attrs.frozen(slots=True)
class Contains:
    """``field contains value``: a substring, a list element, or an object key."""

    field: FieldRef
    value: Literal


@attrs.frozen(slots=True)
class Matches:
    """``field matches "regex"`` (RE2 syntax, unanchored search)."""

    field: FieldRef
    pattern: Literal


@attrs.frozen(slots=True)
class Not:
    operand: Node


@attrs.frozen(slots=True)
class And:
    operands: tuple[Node, ...]


@attrs.frozen(slots=True)
class Or:
    operands: tuple[Node, ...]


Test = Exists | Compare | InSet | Contains | Matches
Node = Test | Not | And | Or


def field_refs(node: Node) -> list[FieldRef]:
    """Every field the expression reads, in order of appearance."""
    if isinstance(node, Not):
        return field_refs(node.operand)
    if isinstance(node, And | Or):
        return [ref for operand in node.operands for ref in field_refs(operand)]
    return [node.field]


def conjuncts(node: Node) -> tuple[Node, ...]:
    """The terms of the top-level ``and`` (the node itself when it is not an ``and``)."""
    return node.operands if isinstance(node, And) else (node,)


def literal_values(node: Node) -> Any:
    """For a test ``field == v`` or ``field in {v, ...}`` without ranges: the set of values;
    ``None`` for anything else."""
    if isinstance(node, Compare) and node.op == "==":
        return frozenset([node.value.value])
    if isinstance(node, InSet) and all(isinstance(item, Literal) for item in node.items):
        return frozenset(item.value for item in node.items if isinstance(item, Literal))
    return None
