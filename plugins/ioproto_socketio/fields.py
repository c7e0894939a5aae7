"""Filter fields of the Socket.IO layer (``sio.*``).

Read from the record's Socket.IO packet: the record itself, or the packet an application
message was decoded from. ``sio.event`` of an ACK is the name of the EVENT it answers (so
``sio.event == "move"`` shows the moves and their acks), and of an unanswered-ack record
the EVENT that waited. ``sio.bytes`` is the size the packet took on the wire (the
``event.bytes`` tag when the ``event`` classifier ran, else its Engine.IO packet's size).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ioproto.filters import Field, reads

if TYPE_CHECKING:
    from ioproto.model import Record

    from .records import SocketIOPacket

# The records are named, not imported: listing the fields imports no records module.
LAYER = "socketio"  # .records.LAYER
_PACKET = "ioproto_socketio.records:SocketIOPacket"
_UNANSWERED = "ioproto_socketio.records:SocketIOUnansweredAck"


def _packet(read: Callable[[SocketIOPacket], Any]) -> Callable[[Record], Any]:
    return reads(_PACKET, read)


def _either(read: Callable[[Any], Any]) -> Callable[[Record], Any]:
    """For Socket.IO packets and unanswered-ack records alike."""
    return reads((_PACKET, _UNANSWERED), read)


def _name(event: Any) -> str | None:
    if event is None:
        return None
    return event if isinstance(event, str) else str(event)


def _event_of(record: Any) -> Any:
    """The event of a packet (an ACK's: that of the EVENT it answers) or unanswered ack."""
    answers = getattr(record, "answers", None)
    if record.type == "ACK" and answers is not None:
        return _name(getattr(answers, "event", None))
    return _name(record.event)


_event = _either(_event_of)


def _packet_bytes(record: SocketIOPacket) -> Any:
    tagged = record.tag("event.bytes") if record.tags else None
    if isinstance(tagged, int):
        return tagged
    parent = record.parent
    raw = getattr(parent, "raw", None) if parent is not None else None
    return len(raw) if isinstance(raw, bytes) and raw else len(record.raw)


_bytes = _packet(_packet_bytes)


FIELDS = (
    Field(
        name="sio.type",
        type="string",
        get=_either(lambda packet: packet.type),
        layer=LAYER,
        description="CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, ERROR (UNANSWERED_ACK "
        "for an ack that never came)",
        example='sio.type == "EVENT"',
    ),
    Field(
        name="sio.wire_type",
        type="integer",
        get=_packet(lambda packet: packet.wire_type),
        layer=LAYER,
        description="the type digit on the wire (5 BINARY_EVENT, 6 BINARY_ACK)",
        example="sio.wire_type == 5",
    ),
    Field(
        name="sio.nsp",
        type="string",
        get=_either(lambda packet: packet.nsp),
        layer=LAYER,
        description="the namespace",
        example='sio.nsp == "/admin"',
    ),
    Field(
        name="sio.event",
        type="string",
        get=_event,
        layer=LAYER,
        description="the event name (an ACK: the event it answers)",
        example='sio.event == "chat"',
    ),
    Field(
        name="sio.ack_id",
        type="integer",
        get=_either(lambda packet: packet.id),
        layer=LAYER,
        description="the ack id of an EVENT that wants an ack, or of an ACK",
        example="sio.ack_id",
    ),
    Field(
        name="sio.args",
        type="json",
        get=_packet(lambda packet: packet.args),
        layer=LAYER,
        description="the EVENT's arguments after the name, or the ACK's: sio.args[0].room",
        example='sio.args[0].room == "lobby"',
    ),
    Field(
        name="sio.data",
        type="json",
        get=_packet(lambda packet: packet.data),
        layer=LAYER,
        description="the whole payload (CONNECT auth, CONNECT_ERROR reason, …)",
        example='sio.data.message contains "denied"',
    ),
    Field(
        name="sio.attachments",
        type="integer",
        get=_packet(lambda packet: packet.attachments),
        layer=LAYER,
        description="the number of binary attachments",
        example="sio.attachments > 0",
    ),
    Field(
        name="sio.revision",
        type="integer",
        get=_packet(lambda packet: packet.revision),
        layer=LAYER,
        description="the Socket.IO protocol: 4 or 5",
        example="sio.revision == 4",
    ),
    Field(
        name="sio.bytes",
        type="size",
        get=_bytes,
        layer=LAYER,
        description="the size on the wire (binary attachments included)",
        example="sio.bytes > 1kB",
    ),
    Field(
        name="sio.query",
        type="string",
        get=_packet(lambda packet: packet.query),
        layer=LAYER,
        description="the protocol-4 CONNECT query string",
        example='sio.query contains "token="',
    ),
)
