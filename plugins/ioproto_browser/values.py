"""Reading fields of DevTools Protocol messages defensively.

A CDP message is JSON from a browser: usually well formed, but nothing here may assume so.
Each reader returns the value when it has the expected type and ``None`` (or an empty value)
otherwise, so that a bad field costs at most the record it belongs to.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

Headers = tuple[tuple[str, str], ...]


def text(value: Any) -> str | None:
    """``value`` if it is a string."""
    return value if isinstance(value, str) else None


def number(value: Any) -> float | None:
    """``value`` as a float if it is a finite int or float (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    """``value`` if it is an int (not a bool)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def headers(value: Any) -> Headers:
    """CDP ``Headers`` (an object; several values of one name joined by newlines) as
    ``(name, value)`` pairs with names in lower case, in order. HTTP/2 pseudo-headers
    (``:path``) are left out, as the HAR source does; values that are not strings are
    written out as JSON would show them."""
    pairs: list[tuple[str, str]] = []
    for name, item in mapping(value).items():
        if not isinstance(name, str) or name.startswith(":"):
            continue
        lowered = name.lower()
        values = item if isinstance(item, str) else _as_text(item)
        for part in values.split("\n"):
            pairs.append((lowered, part))
    return tuple(pairs)


def headers_size(pairs: Headers) -> int:
    """Roughly the bytes ``pairs`` hold (for byte budgets)."""
    return sum(len(name) + len(value) + 4 for name, value in pairs)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
