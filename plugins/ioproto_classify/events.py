"""Classifier ``event``: the size of Socket.IO events and acks.

Tag ``event.bytes`` on every Socket.IO ``EVENT`` and ``ACK``: the bytes the packet took on
the wire (its Engine.IO packet's encoding, plus its binary attachments).
"""

from __future__ import annotations

from collections.abc import Iterable

from ioproto_socketio.records import SocketIOPacket

from ioproto.components import DecodeContext
from ioproto.model import Record, Tag

from .common import wire_size

_SIZED = frozenset({"EVENT", "ACK"})


class EventState:
    def classify(self, record: Record) -> Record:
        if isinstance(record, SocketIOPacket) and record.type in _SIZED:
            return record.with_tags((Tag("event.bytes", wire_size(record)),))
        return record

    def close(self) -> Iterable[Record]:
        return ()


class EventClassifier:
    name = "event"
    description = "tags event.bytes (wire size) on Socket.IO EVENTs and ACKs"

    def open(self, context: DecodeContext) -> EventState:
        return EventState()
