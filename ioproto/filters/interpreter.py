"""The reference meaning of a filter: a plain walk over the syntax tree, record by record.

Slow (it looks every field up again for every test) and written for clarity, not speed; the
compiled filter (:mod:`.compiler`) must agree with it on every record and expression, which
the property tests check. It is also what docs/filters.md describes.
"""

from __future__ import annotations

from typing import Any

from ioproto.model import Record

from .checks import resolve_ref
from .errors import FilterError
from .fields import FieldSet
from .nodes import And, Compare, Contains, Exists, InSet, Literal, Matches, Node, Not, Or, Range
from .regex import compile_pattern

_ABSENT = object()


def evaluate(tree: Node, fields: FieldSet, record: Record) -> bool:
    """Whether ``record`` matches ``tree``."""
    if isinstance(tree, Not):
        return not evaluate(tree.operand, fields, record)
    if isinstance(tree, And):
        return all(evaluate(operand, fields, record) for operand in tree.operands)
    if isinstance(tree, Or):
        return any(evaluate(operand, fields, record) for operand in tree.operands)

    def fail(column: int, message: str) -> FilterError:
        return FilterError("", column, message)

    bound = resolve_ref(tree.field, fields, fail)
    field = bound.field
    present = [value for value in _values(field, record) if value is not _ABSENT]
    if bound.path:
        present = [_walk(value, bound.path) for value in present]
        present = [value for value in present if value is not _ABSENT]
    yes_no = field.type == "bool" and not bound.path
    if isinstance(tree, Exists):
        return any(value is True for value in present) if yes_no else bool(present)
    if isinstance(tree, Compare) and tree.op == "!=":
        if not present:
            return False
        return not any(_equal(value, tree.value.value) for value in present)
    return any(_holds(tree, value) for value in present)


def _values(field: Any, record: Record) -> list[Any]:
    for ancestor in record.lineage():
        try:
            found = field.get(ancestor)
        except Exception:
            continue
        if found is None:
            continue
        candidates = list(found) if field.many else [found]
        return [value if _has_type(value, field.type) else _ABSENT for value in candidates]
    return []


def _has_type(value: Any, kind: str) -> bool:
    if value is None:
        return False
    if kind == "json":
        return True
    if kind == "bool":
        return type(value) is bool
    if kind == "string":
        return isinstance(value, str)
    if type(value) is bool:
        return False
    if kind == "integer":
        return isinstance(value, int)
    return isinstance(value, int | float)


def _walk(value: Any, path: tuple[int | str, ...]) -> Any:
    for step in path:
        if type(step) is int and isinstance(value, list | tuple):
            if step >= len(value) or step < -len(value):
                return _ABSENT
            value = value[step]
        elif type(step) is str and isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return _ABSENT
        if value is None:
            return _ABSENT
    return value


def _number(value: Any) -> bool:
    return type(value) is not bool and isinstance(value, int | float)


def _equal(value: Any, literal: Any) -> bool:
    if type(literal) is bool or type(value) is bool:
        return type(value) is type(literal) and value == literal
    if isinstance(literal, str) or isinstance(value, str):
        return isinstance(literal, str) and isinstance(value, str) and value == literal
    return _number(value) and value == literal


def _holds(test: Node, value: Any) -> bool:
    if isinstance(test, Compare):
        literal = test.value.value
        if test.op == "==":
            return _equal(value, literal)
        both_numbers = _number(value) and _number(literal)
        both_strings = isinstance(value, str) and isinstance(literal, str)
        if not (both_numbers or both_strings):
            return False
        outcome: bool = {
            "<": value < literal,
            "<=": value <= literal,
            ">": value > literal,
            ">=": value >= literal,
        }[test.op]
        return outcome
    if isinstance(test, InSet):
        for item in test.items:
            if isinstance(item, Range):
                if _number(value) and item.low.value <= value <= item.high.value:
                    return True
            elif isinstance(item, Literal) and _equal(value, item.value):
                return True
        return False
    if isinstance(test, Contains):
        literal = test.value.value
        if isinstance(value, str):
            return isinstance(literal, str) and value.find(literal) >= 0
        if isinstance(value, bytes):
            if not isinstance(literal, str):
                return False
            return value.find(literal.encode("utf-8", "surrogatepass")) >= 0
        if isinstance(value, dict):
            return isinstance(literal, str) and literal in value
        if isinstance(value, list | tuple):
            return any(_equal(item, literal) for item in value)
        return False
    assert isinstance(test, Matches)
    if not isinstance(value, str):
        return False
    return bool(compile_pattern(str(test.pattern.value))(value))
