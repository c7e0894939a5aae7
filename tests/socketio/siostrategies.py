"""hypothesis strategies and value helpers shared by the Socket.IO property and differential
tests (a test module should not import another one)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from ioproto_socketio.payload import RESERVED_EVENTS

#: Logical packet type names by number (protocol 5).
NAMES = {0: "CONNECT", 1: "DISCONNECT", 2: "EVENT", 3: "ACK", 4: "CONNECT_ERROR"}


def scalars(max_int: int) -> st.SearchStrategy[Any]:
    """JSON scalars, integers within ``±max_int``."""
    return (
        st.none()
        | st.booleans()
        | st.integers(min_value=-max_int, max_value=max_int)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=10)
    )


def values(
    leaves: st.SearchStrategy[Any], keys: st.SearchStrategy[str], max_leaves: int
) -> st.SearchStrategy[Any]:
    """Nested lists and objects of ``leaves`` with ``keys``."""
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=max_leaves,
    )


names = st.text(max_size=8).filter(lambda key: key != "_placeholder")
namespaces = st.one_of(
    st.just("/"),
    st.text(min_size=1, max_size=8)
    .filter(lambda s: "," not in s and "?" not in s)
    .map(lambda s: "/" + s),
)
event_names = st.one_of(
    st.text(max_size=10).filter(lambda name: name not in RESERVED_EVENTS),
    st.integers(min_value=-(10**6), max_value=10**6),
)


def binary_count(value: Any) -> int:
    """How many ``bytes`` ``value`` holds."""
    if isinstance(value, bytes):
        return 1
    if isinstance(value, list):
        return sum(binary_count(item) for item in value)
    if isinstance(value, dict):
        return sum(binary_count(item) for item in value.values())
    return 0


def without_binary(value: Any) -> Any:
    """``value`` with every ``bytes`` replaced by its hex string."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list):
        return [without_binary(item) for item in value]
    if isinstance(value, dict):
        return {key: without_binary(item) for key, item in value.items()}
    return value
