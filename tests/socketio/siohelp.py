"""Helpers for the Socket.IO decoder tests: Engine.IO records in, Socket.IO records out."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ioproto_socketio.decoder import SocketIODecoder, SocketIOStream
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck

from ioproto.components import DecodeContext, Limits
from ioproto.model import ErrorRecord, Packet, Record
from ioproto.sessions import SessionStore, session_key
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


class Driven:
    """A Socket.IO stream driven as a pipeline drives it, with a session store of its own:
    Engine.IO ``close`` records end their session (as the Engine.IO layer says), records the
    layer does not take pass through, and every session end (closed, evicted, input ended)
    is announced to the stream, whose reports follow."""

    def __init__(self, limits: Limits, strict: bool, fast: bool) -> None:
        self.sessions = SessionStore(
            max_sessions=limits.max_sessions, max_bytes=limits.max_state_bytes
        )
        context = DecodeContext(limits=limits, strict=strict, sessions=self.sessions)
        self.stream = SocketIOStream(context, fast=fast)
        self.accepts = SocketIODecoder().accepts
        self.last_ts = 0.0

    def feed(self, record: Record) -> list[Record]:
        self.last_ts = max(self.last_ts, record.ts)
        out = list(self.stream.feed(record)) if self.accepts(record) else [record]
        if record.type == "close":
            key = session_key(record)
            if key is not None:
                self.sessions.end(key, record.ts, "closed", record)
        return out + self._announce()

    def close(self) -> list[Record]:
        self.sessions.end_all(self.last_ts)
        return self._announce() + list(self.stream.close())

    def _announce(self) -> list[Record]:
        out: list[Record] = []
        for session, end in self.sessions.take_ended():
            out.extend(self.stream.session_ended(session, end))
        return out


def stream(*, limits: Limits | None = None, strict: bool = False, fast: bool = True) -> Driven:
    return Driven(limits or Limits(), strict, fast)


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
