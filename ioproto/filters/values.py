"""How a test treats a JSON value (fields of type ``json``), shared by every filter.

Typed fields need none of this: their values have the declared type or are missing, and
the compiler writes the comparison out. A JSON value may be anything, so these functions
say what each test means for it: numbers equal numbers (``true`` is not ``1``), strings
equal strings, nothing else is equal to a literal; ``<``/``>`` compare two numbers or two
strings and are false otherwise; ``contains`` looks for a substring in a string (or its
UTF-8 bytes in binary data), an element in a list, a key in an object.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from .fields import MISSING

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_equal(value: Any, literal: Any) -> bool:
    if isinstance(literal, bool):
        return value is literal
    if isinstance(literal, str):
        return isinstance(value, str) and value == literal
    return is_number(value) and value == literal


def json_order(op: str) -> Callable[[Any, Any], bool]:
    """``(value, literal) → bool`` for ``op`` in ``< <= > >=``."""
    compare = _ORDERING[op]

    def ordered(value: Any, literal: Any) -> bool:
        if isinstance(literal, str):
            return isinstance(value, str) and compare(value, literal)
        return is_number(value) and compare(value, literal)

    return ordered


def json_contains(value: Any, literal: Any) -> bool:
    if isinstance(value, str):
        return isinstance(literal, str) and literal in value
    if isinstance(value, bytes):
        return isinstance(literal, str) and literal.encode("utf-8", "surrogatepass") in value
    if isinstance(value, list | tuple):
        return any(json_equal(item, literal) for item in value)
    if isinstance(value, dict):
        return isinstance(literal, str) and literal in value
    return False


def step_into(value: Any, path: tuple[int | str, ...]) -> Any:
    """The part of ``value`` at ``path`` (list indexes, object keys), or :data:`MISSING`."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list | tuple) or not -len(value) <= step < len(value):
                return MISSING
            value = value[step]
        else:
            if not isinstance(value, dict):
                return MISSING
            value = value.get(step, MISSING)
        if value is None:
            return MISSING
    return value
