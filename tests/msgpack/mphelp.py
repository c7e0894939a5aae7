"""Helpers for the msgpack-parser tests: run the real pipeline with the three plugins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ioproto_engineio
import ioproto_msgpack
import ioproto_socketio
import msgpack  # type: ignore[import-untyped]
from ioproto_socketio.testing import socketio_messages

from ioproto.components import Limits
from ioproto.model import Direction, ErrorRecord, Record
from ioproto.testing import run_pipeline

PLUGINS = [ioproto_engineio, ioproto_socketio, ioproto_msgpack]


def pack(value: Any) -> bytes:
    return msgpack.packb(value)  # type: ignore[no-any-return]


def decode(
    packets: Sequence[tuple[Direction, str | bytes | Sequence[str | bytes]]],
    *,
    revision: int = 4,
    options: dict[str, Any] | None = None,
    limits: Limits | None = None,
    strict: bool = False,
    sid: str | None = "s1",
) -> list[Record]:
    """Socket.IO records of ``packets`` (after an Engine.IO handshake for ``sid``)."""
    chunks = socketio_messages(packets, revision=revision, sid=sid)
    records = run_pipeline(chunks, plugins=PLUGINS, options=options, limits=limits, strict=strict)
    return [r for r in records if r.layer == "socketio"]


def packets(records: list[Record]) -> list[Any]:
    return [
        r for r in records if r.layer == "socketio" and r.type not in ("error", "UNANSWERED_ACK")
    ]


def rules(records: list[Record]) -> list[str]:
    return [r.rule for r in records if isinstance(r, ErrorRecord)]


def one(value: Any, **kw: Any) -> Any:
    """The single Socket.IO record (packet or error) of one client→server msgpack message."""
    kw.setdefault("options", {"socketio_parser": "msgpack"})
    records = decode([("c2s", pack(value) if not isinstance(value, bytes) else value)], **kw)
    records = [r for r in records if r.type != "UNANSWERED_ACK"]
    assert len(records) == 1, records
    return records[0]


def feed_one(data: bytes | str, *, revision: int = 4, strict: bool = False) -> list[Record]:
    """What a msgpack stream (forced to take everything) makes of one Engine.IO message."""
    from ioproto_msgpack.decoder import MsgpackDecoder

    from ioproto.components import DecodeContext
    from ioproto.model import Packet

    stream = MsgpackDecoder().open(
        DecodeContext(options={"socketio_parser": "msgpack"}, strict=strict)
    )
    record = Packet(
        layer="engineio",
        type="message",
        data=data,
        revision=revision,
        ts=1.0,
        sid="S",
        direction="c2s",
    )
    assert stream.accepts(record)
    return [*stream.feed(record), *stream.close()]


def structure(record: Record) -> dict[str, Any]:
    """The fields both parsers must agree on, in JSON form."""
    from ioproto.jsonform import to_jsonable

    return to_jsonable(
        {
            "type": getattr(record, "wire_type", None),
            "nsp": getattr(record, "nsp", None),
            "id": getattr(record, "id", None),
            "data": getattr(record, "data", None),
        }
    )
