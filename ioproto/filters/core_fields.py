"""The fields every record has, whatever its layer (the core knows no protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fields import Field, reads

if TYPE_CHECKING:
    from ioproto.model import Record


def _tags(record: Record) -> Any:
    if not record.tags:
        return None
    return {tag.name: tag.value for tag in record.tags}


def _error(attribute: str) -> Any:
    return reads("ioproto.model:ErrorRecord", lambda error: getattr(error, attribute))


CORE_FIELDS = (
    Field(
        name="layer",
        type="string",
        get=lambda record: record.layer,
        description="the record's layer: chunk, engineio, socketio, app, session, capture …",
        example='layer == "socketio"',
    ),
    Field(
        name="type",
        type="string",
        get=lambda record: record.type,
        description="the record's type in its layer: EVENT, ping, ws-text, error, summary …",
        example='type in {"EVENT", "ACK"}',
    ),
    Field(
        name="direction",
        type="string",
        get=lambda record: record.direction,
        description="c2s (client to server) or s2c",
        example='direction == "c2s"',
    ),
    Field(
        name="connection",
        type="string",
        get=lambda record: record.connection,
        description="the connection, client first (10.0.0.1:5123-10.0.0.2:3000), or the input",
        example='connection contains "127.0.0.1:3000"',
    ),
    Field(
        name="ts",
        type="number",
        get=lambda record: record.ts,
        description="capture time, seconds since the Unix epoch",
        example="ts >= 1700000000",
    ),
    Field(
        name="tags",
        type="json",
        get=_tags,
        description='every tag of the record by name: tags["client.name"]',
        example='tags["transport.kind"] == "websocket"',
    ),
    Field(
        name="error.rule",
        type="string",
        get=_error("rule"),
        description="an error record's rule (engineio.payload.bad-length, capture.tcp.gap …)",
        example='error.rule matches "^capture\\\\."',
    ),
    Field(
        name="error.reason",
        type="string",
        get=_error("reason"),
        description="an error record's reason, for people",
        example='error.reason contains "gap"',
    ),
    Field(
        name="error.plugin",
        type="string",
        get=_error("plugin"),
        description="the plugin whose code raised, for plugin.crash errors",
        example="error.plugin",
    ),
)
