"""What a filter may say about each field: names resolved, literals checked against types.

:func:`bind` runs before compiling; every mistake becomes a :class:`FilterError` pointing
at the column of the field or literal concerned.
"""

from __future__ import annotations

import attrs

from .errors import FilterError
from .fields import Field, FieldSet
from .nodes import (
    And,
    Compare,
    Contains,
    Exists,
    FieldRef,
    InSet,
    Literal,
    Matches,
    Node,
    Not,
    Or,
    Range,
    Step,
)
from .regex import PatternError, compile_pattern
from .units import unit_kind

_NUMERIC = frozenset({"integer", "number", "duration", "size"})
_ARTICLE = {"integer": "an integer", "json": "a JSON value"}


@attrs.frozen(slots=True)
class Bound:
    """A field reference resolved: the field and the steps into its value."""

    field: Field
    path: tuple[Step, ...]


def bind(tree: Node, fields: FieldSet, expression: str) -> dict[int, Bound]:
    """Every :class:`FieldRef` of ``tree`` (by ``id``) resolved to its field.

    Raises :class:`FilterError` for an unknown field, steps into a field that has no parts,
    a literal of the wrong type or unit, or a pattern RE2 refuses.
    """
    bound: dict[int, Bound] = {}

    def fail(column: int, message: str) -> FilterError:
        return FilterError(expression, column, message)

    def visit(node: Node) -> None:
        if isinstance(node, Not):
            visit(node.operand)
            return
        if isinstance(node, And | Or):
            for operand in node.operands:
                visit(operand)
            return
        ref = node.field
        found = resolve_ref(ref, fields, fail)
        bound[id(ref)] = found
        kind = "json" if found.path else found.field.type
        name = _shown(ref)
        if isinstance(node, Exists):
            return
        if isinstance(node, Compare):
            _check_literal(node.value, kind, name, fail)
            if node.op not in ("==", "!=") and (
                kind == "bool" or isinstance(node.value.value, bool)
            ):
                raise fail(node.value.column, f"{node.op} needs numbers or strings")
            return
        if isinstance(node, InSet):
            for item in node.items:
                if isinstance(item, Range):
                    if kind not in _NUMERIC and kind != "json":
                        raise fail(item.column, f"{name} is {_a(kind)}: a range needs numbers")
                    _check_literal(item.low, kind, name, fail)
                    _check_literal(item.high, kind, name, fail)
                else:
                    _check_literal(item, kind, name, fail)
            return
        if isinstance(node, Contains):
            if kind not in ("string", "json"):
                raise fail(
                    node.value.column,
                    f"{name} is {_a(kind)}: contains works on strings, lists and objects",
                )
            _check_literal(node.value, kind, name, fail)
            return
        assert isinstance(node, Matches)
        if kind not in ("string", "json"):
            raise fail(ref.column, f"{name} is {_a(kind)}: matches works on strings")
        try:
            compile_pattern(str(node.pattern.value))
        except PatternError as exc:
            raise fail(node.pattern.column, str(exc)) from None

    visit(tree)
    return bound


def resolve_ref(ref: FieldRef, fields: FieldSet, fail: object) -> Bound:
    """``ref``'s field and path (a dotted tail of a ``json`` field becomes keys)."""
    assert callable(fail)
    split = fields.split(ref.name)
    if split is None:
        hint = fields.closest(ref.name)
        extra = f" (did you mean {hint}?)" if hint else ""
        raise fail(ref.column, f"unknown field {ref.name!r}{extra}; `ioproto fields` lists them")
    field, keys = split
    path: tuple[Step, ...] = (*keys, *ref.path)
    if path and field.type != "json":
        raise fail(ref.column, f"{field.name} is {_a(field.type)}: it has no parts to pick")
    if path and field.many:
        raise fail(ref.column, f"{field.name} has several values: it has no parts to pick")
    return Bound(field, path)


def _check_literal(literal: Literal, kind: str, name: str, fail: object) -> None:
    assert callable(fail)
    value = literal.value
    if kind == "json":
        return
    if kind == "bool":
        if not isinstance(value, bool):
            raise fail(literal.column, f"{name} is yes/no: compare it with true or false")
        return
    if kind == "string":
        if not isinstance(value, str):
            raise fail(literal.column, f"{name} is a string: compare it with a string")
        return
    # numeric kinds
    if not literal.is_number:
        raise fail(literal.column, f"{name} is {_a(kind)}: compare it with a number")
    unit = literal.unit
    if unit is not None and unit_kind(unit) != kind:
        if kind in ("duration", "size"):
            wanted = "50ms, 1.5s, 2m" if kind == "duration" else "512B, 1kB, 2MiB"
            raise fail(literal.column, f"{name} is a {kind}: use units like {wanted}")
        raise fail(literal.column, f"{name} is {_a(kind)}: a plain number, without a unit")
    if kind == "integer" and not isinstance(value, int):
        raise fail(literal.column, f"{name} is an integer: compare it with a whole number")


def _a(kind: str) -> str:
    return _ARTICLE.get(kind, f"a {kind}")


def _shown(ref: FieldRef) -> str:
    from .printer import format_field

    return format_field(ref)
