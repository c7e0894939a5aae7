"""Shared helpers of the Engine.IO tests: decode bytes as one chunk, summarise records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ioproto_engineio.decoder import EngineIODecoder, EngineIOStream
from ioproto_engineio.records import EngineIOPacket
from ioproto_http.records import Chunk, ChunkKind, HttpInfo
from ioproto_socketio.testing import engineio_url

from ioproto.components import DecodeContext, Limits
from ioproto.model import ErrorRecord, Record

ALL_KINDS = (
    ChunkKind.HTTP_REQUEST,
    ChunkKind.HTTP_RESPONSE,
    ChunkKind.WS_TEXT,
    ChunkKind.WS_BINARY,
    ChunkKind.LINE,
    ChunkKind.LINE_BINARY,
)


def stream(
    options: Mapping[str, Any] | None = None, limits: Limits | None = None
) -> EngineIOStream:
    return EngineIODecoder().open(DecodeContext(limits=limits or Limits(), options=options or {}))


def chunk(
    data: bytes,
    kind: ChunkKind = ChunkKind.LINE,
    *,
    revision: int | None = None,
    http: HttpInfo | None = None,
    **fields: Any,
) -> Chunk:
    fields.setdefault("ts", 1.0)
    sid, transport = fields.pop("sid", None), fields.pop("transport", None)
    http = engineio_url(revision=revision, sid=sid, transport=transport, http=http)
    return Chunk(kind=kind, data=data, http=http, **fields)


def decode(
    data: bytes,
    kind: ChunkKind = ChunkKind.LINE,
    *,
    revision: int | None = None,
    http: HttpInfo | None = None,
    options: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    **fields: Any,
) -> list[Record]:
    """Decode ``data`` as one chunk with a fresh decoder; checks the records' invariants."""
    decoder = stream(options, limits)
    source = chunk(data, kind, revision=revision, http=http, **fields)
    records = list(decoder.feed(source)) + list(decoder.close())
    for record in records:
        assert record.layer == "engineio"
        assert record.parent is source
        assert record.ts == source.ts
        if isinstance(record, EngineIOPacket):
            assert isinstance(record.raw, bytes)
            assert record.revision in (2, 3, 4)
        if isinstance(record, ErrorRecord):
            assert record.rule.startswith("engineio.")
            assert record.reason
    return records


def summary(records: Iterable[Record]) -> list[tuple[str, Any]]:
    """``(type, data)`` per packet and ``("error", rule)`` per error record."""
    out: list[tuple[str, Any]] = []
    for record in records:
        if isinstance(record, ErrorRecord):
            out.append(("error", record.rule))
        else:
            out.append((record.type, record.data))
    return out


def rules(records: Iterable[Record]) -> list[str]:
    return [record.rule for record in records if isinstance(record, ErrorRecord)]


def packets(records: Iterable[Record]) -> list[tuple[str, Any]]:
    return [(r.type, r.data) for r in records if isinstance(r, EngineIOPacket)]
