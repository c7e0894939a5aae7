"""Classifier ``event``: the size of Socket.IO events and acks.

Tag ``event.bytes`` on every Socket.IO ``EVENT`` and ``ACK``: the bytes the packet took on
the wire (its Engine.IO packet's encoding, plus its binary attachments).
"""

from __future__ import annotations

from collections.abc import Iterable

from ioproto_socketio.records import SocketIOPacket

from ioproto.components import DecodeContext
from ioproto.model import Record, Tag, make_tag

from .common import wire_size

_SIZED = frozenset({"EVENT", "ACK"})


class EventState:
    def classify(self, record: Record) -> Record:
        added = self.tags(record)
        return record.with_tags(added) if added else record

    def tags(self, record: Record) -> tuple[Tag, ...]:
        """The tags this classifier adds to ``record`` (the pipeline adds them in one go)."""
        if isinstance(record, SocketIOPacket) and record.type in _SIZED:
            return (make_tag("event.bytes", wire_size(record)),)
        return ()

    def close(self) -> Iterable[Record]:
        return ()


class EventClassifier:
    name = "event"
    description = "tags event.bytes (wire size) on Socket.IO EVENTs and ACKs"
    types: tuple[str, ...] = ()

    def open(self, context: DecodeContext) -> EventState:
        return EventState()
