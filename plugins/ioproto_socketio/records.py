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

``answers`` (ACK only) links to an :class:`AckRequest` describing the EVENT it answers,
``None`` if that event was not seen. ``attachment_records`` links to the Engine.IO records
that carried the attachments. Neither link is written by the JSON form.

An :class:`AckRequest` is what ack pairing keeps of an EVENT while it waits: its time,
connection, direction, session, namespace, id, event name and size, but not its arguments,
payload or parent records. A capture may hold many EVENTs that are never answered, each as
large as the payload limit; keeping only this much bounds what waiting costs.
"""

from __future__ import annotations

from typing import Any

import attrs

from ioproto.fastrecords import positional_maker
from ioproto.model import Packet, Record

LAYER = "socketio"

#: Every ``type`` a Socket.IO record can have: the logical packet types, then the record
#: of an EVENT whose ack never came.
RECORD_TYPES = ("CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "ERROR", "UNANSWERED_ACK")

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
class AckRequest(Record):
    """What ack pairing keeps of an EVENT that asked for an ack (see the module docstring).

    ``ts``, ``connection``, ``direction``, ``sid``, ``transport``, ``revision``, ``nsp``,
    ``id`` and ``event`` are the EVENT's; ``size`` is the bytes of its text packet plus its
    attachments. ``parent`` is always ``None``. Build one with :meth:`of`.
    """

    layer: str = LAYER
    type: str = "ACK_REQUEST"
    revision: int | None = None
    nsp: str = "/"
    id: int = 0
    event: str | int | None = None
    size: int = 0

    @classmethod
    def of(cls, event: SocketIOPacket) -> AckRequest:
        """The request of EVENT packet ``event`` (``attachment_records`` give its binary size)."""
        size = len(event.raw)
        for part in event.attachment_records:
            size += len(getattr(part, "raw", b""))
        event_id = event.id
        return _make_request(  # type: ignore[no-any-return]
            event.ts,
            event.connection,
            event.direction,
            event.sid,
            event.transport,
            event.revision,
            event.nsp,
            event_id if event_id is not None else 0,
            event.event,
            size,
        )


#: ``AckRequest(**fields)`` without keywords: one is made per EVENT that asks for an ack.
_make_request = positional_maker(
    AckRequest,
    ("ts", "connection", "direction", "sid", "transport", "revision", "nsp", "id", "event", "size"),
)


@attrs.frozen(slots=True, kw_only=True)
class SocketIOUnansweredAck(Packet):
    """An EVENT that asked for an ack and got none before its session or the input ended.

    ``ts`` is when that was noticed (the session's close, or the last record of the input);
    ``event_ts`` is when the event was sent; ``request`` links to the EVENT's
    :class:`AckRequest`.
    ``direction`` is the EVENT's direction.
    """

    layer: str = LAYER
    type: str = "UNANSWERED_ACK"
    nsp: str = "/"
    id: int = 0
    event: str | int | None = None
    event_ts: float = attrs.field(default=0.0, metadata={"unit": "epoch"})
    reason: str = "input ended"
    request: Record | None = attrs.field(default=None, repr=False, eq=False, metadata=_LINK)
