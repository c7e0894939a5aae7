"""Units a number may carry in a filter: durations (in seconds) and sizes (in bytes).

``50ms`` is 0.05, ``1.5s`` 1.5, ``2m`` 120; ``1kB`` is 1000 bytes, ``1KiB`` 1024, ``2MiB``
2097152. Unit names are case-sensitive, as in SI (``ms`` is not ``Ms``).
"""

from __future__ import annotations

DURATION_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "min": 60.0,
    "h": 3600.0,
}

SIZE_UNITS: dict[str, int] = {
    "B": 1,
    "kB": 1000,
    "KB": 1000,
    "MB": 1000**2,
    "GB": 1000**3,
    "KiB": 1024,
    "MiB": 1024**2,
    "GiB": 1024**3,
}


def unit_kind(unit: str) -> str | None:
    """``"duration"``, ``"size"`` or ``None`` for a name that is no unit."""
    if unit in DURATION_UNITS:
        return "duration"
    if unit in SIZE_UNITS:
        return "size"
    return None


def scale(number: int | float, unit: str) -> int | float:
    """``number`` given in ``unit``, in base units (seconds or bytes).

    Sizes stay integers when they come out whole (``1.5kB`` is 1500).
    """
    if unit in SIZE_UNITS:
        value = number * SIZE_UNITS[unit]
        return int(value) if float(value).is_integer() else value
    return number * DURATION_UNITS[unit]


def known_units() -> str:
    """The unit names, for error messages."""
    return ", ".join([*DURATION_UNITS, *SIZE_UNITS])
