"""The records of the Socket.IO layer. Public: other plugins and sinks may import them.

``SocketIOPacket.type`` is the *logical* packet type: ``CONNECT``, ``DISCONNECT``, ``EVENT``,
``ACK``, ``CONNECT_ERROR`` (protocol 5) or ``ERROR`` (protocol 4). A BINARY_EVENT is an
``EVENT`` with ``wire_type`` 5 and ``attachments`` > 0 (BINARY_ACK likewise an ``ACK`` with
``wire_type`` 6). ``revision`` is the Socket.IO protocol revision (4 or 5).

``data`` is the whole JSON payload with binary attachments put back in place of their
placeholders (``None`` when the packet had no payload). For EVENTs ``event`` is the first
element and ``args`` the rest; for ACKs ``args`` is the payload array. ``nsp`` is the
namespace without its query; ``query`` is the protocol-4 CONNECT query string, if any.
``id`` is the ack id (0 is valid) or ``None``.

``answers`` (ACK only) links to the EVENT record it answers, ``None`` if that event was not
seen. ``attachment_records`` links to the Engine.IO records that carried the attachments.
Neither link is written by the JSON form.
"""

from __future__ import annotations

from typing import Any

import attrs

from ioproto.model import Packet, Record

LAYER = "socketio"

_LINK = {"json": False}


@attrs.frozen(slots=True, kw_only=True)
class SocketIOPacket(Packet):
    """One Socket.IO packet, attachments re-assembled."""

    layer: str = LAYER
    wire_type: int = 0
    nsp: str = "/"
    id: int | None = None
    event: str | int | None = None
    args: list[Any] = attrs.field(factory=list)
    attachments: int = 0
    query: str | None = None
    answers: Record | None = attrs.field(default=None, repr=False, eq=False, metadata=_LINK)
    attachment_records: tuple[Record, ...] = attrs.field(
        default=(), repr=False, eq=False, metadata=_LINK
    )


@attrs.frozen(slots=True, kw_only=True)
class SocketIOUnansweredAck(Packet):
    """An EVENT that asked for an ack and got none before its session or the input ended.

    ``ts`` is when that was noticed (the session's close, or the last record of the input);
    ``event_ts`` is when the event was sent; ``request`` links to the EVENT record.
    ``direction`` is the EVENT's direction.
    """

    layer: str = LAYER
    type: str = "UNANSWERED_ACK"
    nsp: str = "/"
    id: int = 0
    event: str | int | None = None
    event_ts: float = 0.0
    reason: str = "input ended"
    request: Record | None = attrs.field(default=None, repr=False, eq=False, metadata=_LINK)
