"""Reading a component's options: numbers, choices, yes/no flags and port lists.

Options arrive as text from the command line (``--source-option``, ``--decode-option``,
``--sink-option``) or as Python values from the API. Each helper returns the value in its
type, or the default when the option is absent or empty, and raises
:class:`~ioproto.errors.UsageError` for anything else: a typo must end the run with one line
naming the option and what it takes, never be read as the default or as "no".
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import UsageError

_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off", "")
_MAX_PORT = 65535
_SIZE = re.compile(r"\s*(\d+)\s*([kmg]?)(?:i?b)?\s*", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int | None:
    """A byte count written as a whole number, optionally with ``K``, ``M`` or ``G``
    (powers of 1024; ``64M``, ``64MiB``, ``1g``); ``None`` for anything else."""
    match = _SIZE.fullmatch(text)
    if match is None:
        return None
    return int(match.group(1)) * _SIZE_UNITS[match.group(2).lower()]


def size_option(options: Mapping[str, Any], name: str, default: int) -> int:
    """The option ``name`` of ``options`` as a positive byte count (a whole number, or text
    such as ``64M``: :func:`parse_size`; ``default`` when absent); anything else raises
    :class:`~ioproto.errors.UsageError`."""
    value = options.get(name)
    if value is None or value == "":
        return default
    size = None if isinstance(value, bool | float) else parse_size(str(value))
    if size is None or size < 1:
        raise UsageError(f"option {name}={value!r}: give a positive byte count, e.g. 64M")
    return size


def number_option(
    options: Mapping[str, Any],
    name: str,
    default: float,
    kind: type = int,
    *,
    minimum: float | None = None,
) -> Any:
    """The option ``name`` of ``options`` as a number of ``kind`` (``int`` or ``float``;
    ``default`` when absent), at least ``minimum`` when one is given; anything else (text
    that is not a number, a yes/no, infinity or NaN, a number below ``minimum``) raises
    :class:`~ioproto.errors.UsageError`."""
    value = options.get(name)
    if value is None or value == "":
        return kind(default)
    what = "a whole number" if kind is int else "a number"
    if minimum is not None:
        shown = int(minimum) if float(minimum).is_integer() else minimum
        what += f" of at least {shown}"
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(value)
        if not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"option {name}={value!r}: give {what}") from None
    if minimum is not None and number < minimum:
        raise UsageError(f"option {name}={value!r}: give {what}")
    return number


def choice_option(
    options: Mapping[str, Any], name: str, choices: Sequence[str], default: str | None = None
) -> str | None:
    """The option ``name`` of ``options`` as one of ``choices`` (given as text or a number,
    any case; ``default`` when absent); anything else raises
    :class:`~ioproto.errors.UsageError` listing the choices."""
    value = options.get(name)
    if value is None or value == "" or isinstance(value, bool):
        return default
    text = str(value).strip().lower()
    if text not in choices:
        raise UsageError(f"option {name}={value!r}: give one of {', '.join(choices)}")
    return text


def flag_option(options: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """The yes/no option ``name`` of ``options`` (``default`` when absent): ``True`` or one
    of 1, true, yes, on; ``False`` or 0, false, no, off (any case); anything else raises
    :class:`~ioproto.errors.UsageError` (a typo must not read as "no")."""
    value = options.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise UsageError(f"option {name}={value!r}: give true or false")


def ports_option(options: Mapping[str, Any], name: str = "port") -> frozenset[int] | None:
    """The option ``name`` as a set of TCP ports (``None`` when absent: no filter), given as
    an int, a comma-separated text (``"3000,3001"``) or a sequence of either; a part that is
    not a port from 1 to 65535 raises :class:`~ioproto.errors.UsageError`."""
    value = options.get(name)
    if value is None or value == "":
        return None
    items = value if isinstance(value, list | tuple | set | frozenset) else [value]
    ports: set[int] = set()
    for item in items:
        parts = [item] if isinstance(item, int) else str(item).replace(" ", "").split(",")
        for part in parts:
            if part == "":
                continue
            try:
                if isinstance(part, bool):
                    raise ValueError
                port = int(part)
            except (TypeError, ValueError):
                port = 0
            if not 1 <= port <= _MAX_PORT:
                raise UsageError(
                    f"option {name}={value!r}: give ports from 1 to {_MAX_PORT}, "
                    "comma-separated (3000,3001)"
                )
            ports.add(port)
    return frozenset(ports) or None


__all__ = ["choice_option", "flag_option", "number_option", "ports_option"]
