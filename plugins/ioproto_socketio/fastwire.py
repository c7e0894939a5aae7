"""The Socket.IO text packet's fast path, in plain Python (no construct).

:func:`parse_fast` reads the well-formed shapes that make up nearly all traffic and gives
``None`` for anything else, which :func:`.wire.parse_slow` (the construct declaration)
decides; a parity test checks that both agree wherever the fast path answers. Kept apart so
that a run whose packets all take the fast path never loads construct. :mod:`.wire`
re-exports these names and documents the :data:`Header` tuple.
"""

from __future__ import annotations

import re

#: Packet types as they are written (the digit) and their wire names.
CONNECT, DISCONNECT, EVENT, ACK, ERROR, BINARY_EVENT, BINARY_ACK = range(7)

#: ``(type, count, nsp, terminated, id, payload)``; see the module docstring.
Header = tuple[int, str | None, str | None, bool, str, str]

#: Matches the header of a well-formed packet; groups: count, nsp (without ","), id digits.
FAST_MATCH = re.compile(r"(?:[0-4]|[56]([0-9]+)-)(?:(/[^,]*),)?([0-9]*)").match


def parse_fast(text: str) -> Header | None:
    """The header of a well-formed packet, or ``None`` when the slow path must decide.

    Answers for: a known type, a correct attachment count for types 5/6, a namespace that
    ends with a comma (or none), digits, then anything that does not start with ``/``.
    """
    match = FAST_MATCH(text)
    if match is None:
        return None
    count, nsp, ack_id = match.groups()
    payload = text[match.end() :]
    if payload[:1] == "/":
        return None
    return (ord(text[0]) - 48, count, nsp, nsp is not None, ack_id, payload)
