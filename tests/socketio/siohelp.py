"""Helpers for the Socket.IO decoder tests: Engine.IO records in, Socket.IO records out."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ioproto_socketio.decoder import SocketIOStream
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck

from ioproto.components import DecodeContext, Limits
from ioproto.model import ErrorRecord, Packet, Record
from ioproto.testing.oracle import OracleProcess

NODE_DIR = Path(__file__).resolve().parent.parent / "node"

Message = str | bytes | tuple[str | bytes, str]


def eio(
    data: str | bytes,
    *,
    direction: str | None = "c2s",
    revision: int = 4,
    sid: str | None = "sid1",
    ts: float = 1.0,
    type: str = "message",
    connection: str | None = "conn1",
) -> Packet:
    """An Engine.IO record like the engineio layer produces."""
    return Packet(
        layer="engineio",
        type=type,
        data=data,
        revision=revision,
        ts=ts,
        sid=sid,
        direction=direction,  # type: ignore[arg-type]
        connection=connection,
        transport="websocket",
    )


def stream(
    *, limits: Limits | None = None, strict: bool = False, fast: bool = True
) -> SocketIOStream:
    context = DecodeContext(limits=limits or Limits(), strict=strict)
    return SocketIOStream(context, fast=fast)


def decode(
    messages: Iterable[Message],
    *,
    revision: int = 4,
    close: bool = True,
    limits: Limits | None = None,
    strict: bool = False,
    fast: bool = True,
    direction: str = "c2s",
) -> list[Record]:
    """Feed messages (or ``(message, direction)`` pairs) to a fresh stream; all records out."""
    decoder = stream(limits=limits, strict=strict, fast=fast)
    out: list[Record] = []
    for index, item in enumerate(messages):
        data, where = item if isinstance(item, tuple) else (item, direction)
        out.extend(decoder.feed(eio(data, direction=where, revision=revision, ts=float(index))))
    if close:
        out.extend(decoder.close())
    return out


def one(message: str, **kwargs: Any) -> Record:
    """The single record a lone text packet decodes to (the stream is not closed)."""
    kwargs.setdefault("close", False)
    records = decode([message], **kwargs)
    assert len(records) == 1, records
    return records[0]


def packets(records: Iterable[Record]) -> list[SocketIOPacket]:
    return [record for record in records if isinstance(record, SocketIOPacket)]


def errors(records: Iterable[Record]) -> list[ErrorRecord]:
    return [record for record in records if isinstance(record, ErrorRecord)]


def unanswered(records: Iterable[Record]) -> list[SocketIOUnansweredAck]:
    return [record for record in records if isinstance(record, SocketIOUnansweredAck)]


def rules(records: Iterable[Record]) -> list[str]:
    return [record.rule for record in errors(records)]


def to_wire_json(value: Any) -> Any:
    """bytes → {"$bytes": base64}, recursively (the node oracle's format)."""
    if isinstance(value, bytes | bytearray):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list | tuple):
        return [to_wire_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_wire_json(item) for key, item in value.items()}
    return value


def from_wire_json(value: Any) -> Any:
    """{"$bytes": base64} → bytes, recursively."""
    if isinstance(value, list):
        return [from_wire_json(item) for item in value]
    if isinstance(value, dict):
        if list(value) == ["$bytes"]:
            return base64.b64decode(value["$bytes"])
        return {key: from_wire_json(item) for key, item in value.items()}
    return value


class NodeOracle(OracleProcess):
    """One ``node tests/node/sio_oracle.js`` process, asked one JSON line at a time."""

    def __init__(self) -> None:
        super().__init__(["node", str(NODE_DIR / "sio_oracle.js")], cwd=NODE_DIR)

    def encode(self, version: int, packet: dict[str, Any]) -> list[str | bytes]:
        parts = self.ask({"op": "encode", "v": version, "packet": to_wire_json(packet)})["parts"]
        return [from_wire_json(part) for part in parts]

    def decode(self, version: int, parts: Sequence[str | bytes]) -> dict[str, Any]:
        answer = self.ask({"op": "decode", "v": version, "parts": to_wire_json(list(parts))})
        answer["packets"] = from_wire_json(answer["packets"])
        return answer
