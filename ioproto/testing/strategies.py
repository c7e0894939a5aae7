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


#: Engine.IO packet types that carry no data in revision 4 text form.
_EIO_TYPES = "0123456"


@st.composite
def engineio_packets(draw: st.DrawFn) -> str | bytes:
    """One Engine.IO packet as a WebSocket message (revision 4): text, or bytes (binary)."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=32))
    kind = draw(st.sampled_from(_EIO_TYPES))
    return kind + draw(st.text(max_size=32))


@st.composite
def socketio_packets(draw: st.DrawFn, *, binary: bool = True) -> dict[str, object]:
    """A Socket.IO EVENT or ACK as a dict: ``type`` (2 or 3), ``nsp``, ``data``, ``id``.

    ``data`` is a list (an EVENT's starts with its name); with ``binary`` it may hold bytes.
    Encode it with :func:`ioproto.testing.socketio_event`/``socketio_ack``, or as one
    msgpack map for the msgpack parser.
    """
    kind = draw(st.sampled_from([2, 3]))
    nsp = draw(st.sampled_from(["/", "/chat", "/a-b"]))
    args = draw(st.lists(json_values(binary=binary), max_size=4))
    ack_id = draw(st.one_of(st.none(), st.integers(0, 2**31 - 1)))
    if kind == 3 and ack_id is None:
        ack_id = 0
    if kind == 2:
        name = draw(st.text(min_size=1, max_size=12).filter(lambda n: n not in _RESERVED))
        data: list[object] = [name, *args]
    else:
        data = args
    return {"type": kind, "nsp": nsp, "data": data, "id": ack_id}


_RESERVED = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
