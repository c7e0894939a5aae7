"""The records of the ``tcp`` layer: one TCP connection's reassembled byte streams. Public API.

A source that sees TCP connections (a capture file, a live interface, a proxy) reports each
connection as a sequence of events, all with the same ``connection`` (unique among the open
connections of that source) and in the order they happened:

* one :class:`TcpOpen`, first, naming the two endpoints (side 0 and side 1) and, when the
  source knows it (it saw the SYN, or it accepted the connection), which side is the client;
* :class:`TcpData` with the next bytes of one side's stream, in stream order, each byte once;
* :class:`TcpGap` where a side's stream lost bytes (a segment the capture did not hold, a
  copy the proxy could not keep): the stream goes on after ``length`` missing bytes;
* :class:`TcpFin` when a side has no more bytes (a FIN, a half-close);
* one :class:`TcpClose`, last, when the connection is over (both FINs, a reset, the end of
  the input, a new connection on the same ports, or the source forgetting an idle
  connection); nothing more follows with that ``connection`` unless a new :class:`TcpOpen`
  reuses it.

``side`` is 0 or 1; a gap's ``offset`` counts bytes from the start of that side's stream
as the source saw it. ``direction`` is ``None``: which side is the client is for the layer above to
settle when the source does not know it. The layer above must accept any sequence (a
``TcpData`` without a ``TcpOpen`` is one of a connection picked up mid-stream), never raise,
and bound what it buffers.
"""

from __future__ import annotations

import attrs

from ioproto.model import Record

#: The layer name of TCP events.
LAYER = "tcp"

#: Every ``type`` a ``tcp`` record can have (what sources of TCP byte streams declare).
RECORD_TYPES = ("open", "data", "gap", "fin", "close")


@attrs.frozen(slots=True, kw_only=True)
class TcpEvent(Record):
    """What every TCP event has: the ``side`` (0 or 1) it is about."""

    side: int = 0
    layer: str = LAYER


@attrs.frozen(slots=True, kw_only=True)
class TcpOpen(TcpEvent):
    """A connection begins. ``endpoints`` are the printable ``host:port`` of side 0 and side 1
    (IPv6 hosts in brackets); ``client`` is the client's side when known, else ``None``."""

    endpoints: tuple[str, str]
    client: int | None = None
    type: str = "open"


@attrs.frozen(slots=True, kw_only=True)
class TcpData(TcpEvent):
    """The next ``data`` of side ``side``'s stream."""

    data: bytes
    type: str = "data"


@attrs.frozen(slots=True, kw_only=True)
class TcpGap(TcpEvent):
    """``length`` bytes of side ``side``'s stream, from stream ``offset``, were lost."""

    offset: int
    length: int
    type: str = "gap"


@attrs.frozen(slots=True, kw_only=True)
class TcpFin(TcpEvent):
    """Side ``side`` sends no more bytes."""

    type: str = "fin"


@attrs.frozen(slots=True, kw_only=True)
class TcpClose(TcpEvent):
    """The connection is over; ``reason`` says why (``"closed"``: both FINs, or the source
    closed it; ``"reset"``: an RST; ``"idle"``, ``"evicted"``, ``"reused"``: a new connection
    on the same ports began, ``"input ended"``)."""

    reason: str = "closed"
    type: str = "close"
