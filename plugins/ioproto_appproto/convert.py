"""construct parse results → plain JSON-able values (what ``AppMessage.fields`` holds)."""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 64


def to_plain(value: Any, depth: int = 0) -> Any:
    """``value`` with construct containers as dicts/lists, ``_``-prefixed keys (``_io``)
    dropped, ``str``/``int`` subclasses (enum values) as plain ``str``/``int``, bytes kept;
    anything else (functions from ``Computed``, say) as its ``repr``."""
    if value is None or type(value) in (bool, int, float, str, bytes):
        return value
    if depth > _MAX_DEPTH:
        return repr(value)
    if isinstance(value, dict):
        return {
            str(key): to_plain(item, depth + 1)
            for key, item in value.items()
            if not str(key).startswith("_")
        }
    if isinstance(value, list | tuple):
        return [to_plain(item, depth + 1) for item in value]
    if isinstance(value, str):
        return str(value)  # EnumIntegerString and other str subclasses
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    return repr(value)
