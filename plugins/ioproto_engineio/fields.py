"""Filter fields of the Engine.IO layer (``eio.*``).

Each is read from the record's Engine.IO packet: the record itself, or the packet it was
decoded from (a Socket.IO record's ``eio.type`` is ``message``). ``eio.sid`` and
``eio.transport`` are the session id and transport any record carries.

``eio.sid`` may be pushed down: every record decoded from an Engine.IO packet has its
session id, and every state kept across records (acks, attachments, heartbeats, upgrades)
is kept per session, so dropping other sessions' packets right after the Engine.IO layer
changes nothing for the session asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ioproto.filters import Field, reads

if TYPE_CHECKING:
    from ioproto.model import Record

    from .records import EngineIOHandshake, EngineIOPacket

# The records are named, not imported: listing the fields imports no records module.
LAYER = "engineio"  # .records.LAYER
_PACKET = "ioproto_engineio.records:EngineIOPacket"
_HANDSHAKE = "ioproto_engineio.records:EngineIOHandshake"
_HTTP_ERROR = "ioproto_engineio.records:EngineIOHttpError"
_TRANSPORT_CLOSE = "ioproto_engineio.records:EngineIOTransportClose"


def _packet(read: Callable[[EngineIOPacket], Any]) -> Callable[[Record], Any]:
    return reads(_PACKET, read)


def _handshake(read: Callable[[EngineIOHandshake], Any]) -> Callable[[Record], Any]:
    return reads(_HANDSHAKE, read)


def _milliseconds(value: int | None) -> float | None:
    return None if value is None else value / 1000


FIELDS = (
    Field(
        name="eio.type",
        type="string",
        get=reads((_PACKET, _HTTP_ERROR, _TRANSPORT_CLOSE), lambda packet: packet.type),
        layer=LAYER,
        description="open, close, ping, pong, message, upgrade, noop (http-error for an "
        "HTTP error answer, transport-close when the session's WebSocket closed)",
        example='eio.type in {"ping", "pong"}',
    ),
    Field(
        name="eio.sid",
        type="string",
        get=lambda record: record.sid,
        layer=LAYER,
        pushdown=True,
        description="the Engine.IO session id",
        example='eio.sid == "EE7cORRoOqaq0DosAAAB"',
    ),
    Field(
        name="eio.transport",
        type="string",
        get=lambda record: record.transport,
        layer=LAYER,
        description="polling, websocket or webtransport",
        example='eio.transport == "polling"',
    ),
    Field(
        name="eio.revision",
        type="integer",
        get=_packet(lambda packet: packet.revision),
        layer=LAYER,
        description="the Engine.IO revision the packet was decoded with: 2, 3 or 4",
        example="eio.revision == 3",
    ),
    Field(
        name="eio.binary",
        type="bool",
        get=_packet(lambda packet: packet.binary),
        layer=LAYER,
        description="a binary message",
        example="eio.binary",
    ),
    Field(
        name="eio.data",
        type="json",
        get=_packet(lambda packet: packet.data),
        layer=LAYER,
        description="the packet's text after the type digit, or a binary message's bytes",
        example='eio.data contains "probe"',
    ),
    Field(
        name="eio.bytes",
        type="size",
        get=_packet(lambda packet: len(packet.raw)),
        layer=LAYER,
        description="the packet's size as encoded on the wire",
        example="eio.bytes > 100kB",
    ),
    Field(
        name="eio.index",
        type="integer",
        get=_packet(lambda packet: packet.index),
        layer=LAYER,
        description="the packet's position in its polling payload (0 on WebSocket)",
        example="eio.index > 0",
    ),
    Field(
        name="eio.upgrades",
        type="json",
        get=_handshake(lambda handshake: list(handshake.upgrades)),
        layer=LAYER,
        description="the handshake's upgrades (a list)",
        example='eio.upgrades contains "websocket"',
    ),
    Field(
        name="eio.ping_interval",
        type="duration",
        get=_handshake(lambda handshake: _milliseconds(handshake.ping_interval)),
        layer=LAYER,
        description="the handshake's pingInterval",
        example="eio.ping_interval < 10s",
    ),
    Field(
        name="eio.ping_timeout",
        type="duration",
        get=_handshake(lambda handshake: _milliseconds(handshake.ping_timeout)),
        layer=LAYER,
        description="the handshake's pingTimeout",
        example="eio.ping_timeout >= 20s",
    ),
    Field(
        name="eio.max_payload",
        type="size",
        get=_handshake(lambda handshake: handshake.max_payload),
        layer=LAYER,
        description="the handshake's maxPayload",
        example="eio.max_payload < 1MB",
    ),
    Field(
        name="eio.close_code",
        type="integer",
        get=reads(_TRANSPORT_CLOSE, lambda closed: closed.code),
        layer=LAYER,
        description="transport-close: the status code of the WebSocket's close frame (1000 "
        "normal, 1001 going away …)",
        example="eio.close_code != 1000",
    ),
)
