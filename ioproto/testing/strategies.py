"""hypothesis strategies for decoder tests: split, mutated and arbitrary input, JSON values,
Engine.IO and Socket.IO packets."""

from __future__ import annotations

import itertools

from hypothesis import strategies as st


@st.composite
def chunked(draw: st.DrawFn, data: bytes, max_pieces: int = 16) -> list[bytes]:
    """``data`` split into consecutive pieces at arbitrary points (joined, they give it back)."""
    if not data:
        return [b""]
    cuts = draw(
        st.lists(st.integers(1, max(1, len(data) - 1)), max_size=max_pieces - 1, unique=True)
    )
    points = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


@st.composite
def mutated(draw: st.DrawFn, data: bytes, max_edits: int = 4) -> bytes:
    """``data`` with a few bytes flipped, inserted or deleted."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, max_edits))):
        operation = draw(st.sampled_from(["flip", "insert", "delete"]))
        position = draw(st.integers(0, len(buffer)))
        if operation == "insert" or not buffer:
            buffer.insert(position, draw(st.integers(0, 255)))
        elif operation == "flip":
            index = min(position, len(buffer) - 1)
            buffer[index] ^= draw(st.integers(1, 255))
        else:
            del buffer[min(position, len(buffer) - 1)]
    return bytes(buffer)


def json_values(max_leaves: int = 8, *, binary: bool = False) -> st.SearchStrategy[object]:
    """JSON values (what a Socket.IO argument can be); with ``binary``, ``bytes`` too.

    Floats are finite; integers stay within JavaScript's safe range, so the values survive a
    trip through a JavaScript peer unchanged.
    """
    leaves: st.SearchStrategy[object] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**53) + 1, 2**53 - 1),
        st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
        st.text(max_size=20),
    )
    if binary:
        leaves = st.one_of(leaves, st.binary(max_size=20))
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.text(max_size=8), children, max_size=4),
        ),
        max_leaves=max_leaves,
    )
