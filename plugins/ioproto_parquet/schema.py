"""The Parquet schema: one table per kind of record, typed columns (docs/formats.md).

This module is the single source of truth for the tables and their columns; it imports
nothing heavy, so that the CLI can describe the schema without loading pyarrow.
:func:`arrow_schema` turns a :class:`Table` into a ``pyarrow.Schema`` (pyarrow imported
then).

Every table has the same leading columns (:data:`COMMON`), its own columns, then the same
trailing columns (:data:`TRAILING`: ``via``, one typed column per known tag, ``tags_extra``,
``extra`` and ``raw``). The partition columns ``capture`` and ``date`` are not stored in the
files: they are the directory names (hive style) and readers add them.

A column's ``kind`` says how a value is stored:

========== ============================ ===============================================
kind       Parquet type                 value
========== ============================ ===============================================
``text``   string                       a str (text that is not valid UTF-8, such as a
                                        lone surrogate, goes to ``extra`` instead)
``name``   string                       an event name: a str, or a number as its text
``int``    int64                        an int that fits in 64 bits (else ``extra``)
``float``  double                       seconds, ratios
``bool``   boolean
``ts``     timestamp(us, UTC)           seconds since the epoch, rounded to the µs
``bytes``  binary
``json``   string holding JSON text     any JSON value; bytes as ``{"$bytes": …}``
``texts``  list<string>
``pairs``  list<struct<name, value>>    HTTP headers and query parameters, in order
``http``   struct                       :class:`ioproto.model.HttpInfo`
========== ============================ ===============================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    import pyarrow as pa

#: Bumped when a column is renamed, removed or changes type; adding columns does not.
SCHEMA_VERSION = 1
#: The key-value metadata keys every file carries in its footer.
META_SCHEMA_VERSION = "ioproto.schema_version"
META_TABLE = "ioproto.table"
META_IOPROTO_VERSION = "ioproto.version"

#: Hive partition columns, in directory order: DIR/<table>/capture=<name>/date=<YYYY-MM-DD>/.
PARTITIONS = ("capture", "date")


@attrs.frozen
class Column:
    """One column: its name, how values are stored (see the module docstring), a doc line."""

    name: str
    kind: str
    doc: str


@attrs.frozen
class Table:
    """One table: its name, the record classes it holds and its own columns."""

    name: str
    doc: str
    columns: tuple[Column, ...]

    def all_columns(self) -> tuple[Column, ...]:
        """The columns in file order: common, this table's own, trailing."""
        return (*COMMON, *self.columns, *TRAILING)

    def columns_by_name(self) -> frozenset[str]:
        """The names of this table's own columns."""
        return frozenset(column.name for column in self.columns)


def _c(name: str, kind: str, doc: str) -> Column:
    return Column(name, kind, doc)


COMMON: tuple[Column, ...] = (
    _c("record_index", "int", "position of the record in its capture's output, from 0"),
    _c("ts", "ts", "capture time of the bytes the record came from"),
    _c("layer", "text", "chunk, engineio, socketio, session, app, capture …"),
    _c("type", "text", "the record's type within its layer (message, EVENT, error …)"),
    _c("direction", "text", "c2s, s2c or null"),
    _c("sid", "text", "the Engine.IO session id, once known"),
    _c("transport", "text", "polling, websocket, webtransport or null"),
    _c("connection", "text", "client_ip:port-server_ip:port, or the input's name"),
)

#: Known tags (docs/formats.md, "Tags") and the type of their column ``tag_<name>``.
TAGS: dict[str, str] = {
    "transport.kind": "text",
    "upgrade.probe": "text",
    "upgrade.time": "float",
    "upgrade.failed": "bool",
    "client.kind": "text",
    "client.name": "text",
    "client.version": "text",
    "client.os": "text",
    "client.device": "text",
    "latency.handshake": "float",
    "latency.heartbeat": "float",
    "latency.ack": "float",
    "latency.ping_unanswered": "float",
    "event.bytes": "int",
    "error.kind": "text",
    "error.reason": "text",
}


def tag_column(tag: str) -> str:
    """``client.name`` → ``tag_client_name``."""
    return "tag_" + tag.replace(".", "_")


TRAILING: tuple[Column, ...] = (
    _c("via", "texts", "the layers below the record, nearest first (null: none)"),
    *(_c(tag_column(tag), kind, f"tag {tag}") for tag, kind in TAGS.items()),
    _c("tags_extra", "json", "other tags (and tag values of an unexpected type) as an object"),
    _c("extra", "json", "fields with no column here, or whose value did not fit its column"),
    _c("raw", "bytes", "raw bytes: always for errors, else only with parquet.raw=true"),
)

_PACKET = (
    _c("revision", "int", "protocol revision of this layer"),
    _c("notes", "texts", "leniencies (empty list: none)"),
)

CHUNKS = Table(
    "chunks",
    "what a capture source produced (HTTP bodies, WebSocket messages, lines)",
    (
        _c("kind", "text", "http-request, http-response, ws-text, ws-binary, ws-control …"),
        _c("data", "bytes", "the bytes"),
        _c("http", "http", "the HTTP message the chunk came from, or null"),
        _c("seq", "int", "running number of the chunk within its source"),
    ),
)

ENGINEIO = Table(
    "engineio",
    "Engine.IO packets, handshakes (type open), HTTP errors (type http-error) and the closing "
    "of a session's WebSocket (type transport-close)",
    (
        _c("data", "text", "the text after the type digit (null for a binary message)"),
        _c("data_bytes", "bytes", "the bytes of a binary message (null for text)"),
        *_PACKET,
        _c("binary", "bool", "a binary message"),
        _c("index", "int", "position in its polling payload"),
        _c("upgrades", "texts", "handshake: the upgrades offered"),
        _c("ping_interval", "int", "handshake: pingInterval (ms)"),
        _c("ping_timeout", "int", "handshake: pingTimeout (ms)"),
        _c("max_payload", "int", "handshake: maxPayload (bytes)"),
        _c("status", "int", "http-error: the HTTP status"),
        _c("code", "int", "http-error: Engine.IO's error code; transport-close: the close code"),
        _c("message", "text", "http-error: Engine.IO's error message; transport-close: the reason"),
    ),
)

SOCKETIO = Table(
    "socketio",
    "Socket.IO packets and unanswered acks (type UNANSWERED_ACK)",
    (
        _c("data", "json", "the whole payload, attachments put back"),
        *_PACKET,
        _c("wire_type", "int", "the type digit on the wire"),
        _c("nsp", "text", "namespace"),
        _c("id", "int", "ack id"),
        _c("event", "name", "event name (a number name as its text)"),
        _c("args", "json", "the EVENT's other elements, or the ACK's array"),
        _c("attachments", "int", "number of binary attachments"),
        _c("query", "text", "protocol-4 CONNECT query string"),
        _c("event_ts", "ts", "UNANSWERED_ACK: when the event was sent"),
        _c("reason", "text", "UNANSWERED_ACK: why it is unanswered"),
        _c("answers_event", "name", "ACK: the event name of the EVENT it answers (not in jsonl)"),
        _c("answers_ts", "ts", "ACK: the time of the EVENT it answers (not in jsonl)"),
    ),
)

SESSIONS = Table(
    "sessions",
    "session summaries (type summary) and heartbeat timeouts (type heartbeat-timeout)",
    (
        _c("data", "json", "unused (null)"),
        *_PACKET,
        _c("started", "ts", "summary: time of the session's first record"),
        _c("duration", "float", "summary: seconds from first to last record"),
        _c("end_reason", "text", "summary: closed, transport closed, input ended, evicted"),
        _c("handshake_seen", "bool", "summary"),
        _c("transports", "texts", "summary: transport kinds used, first one first"),
        _c("upgraded", "bool", "summary"),
        _c("upgrade_time", "float", "summary: handshake to upgrade, seconds"),
        _c("upgrade_failed", "bool", "summary: probed, never upgraded"),
        _c("client_kind", "text", "summary"),
        _c("client_name", "text", "summary"),
        _c("client_version", "text", "summary"),
        _c("client_os", "text", "summary"),
        _c("client_device", "text", "summary"),
        _c("handshake_time", "float", "summary: seconds"),
        _c("heartbeats", "int", "summary"),
        _c("heartbeat_rtt_min", "float", "summary: seconds"),
        _c("heartbeat_rtt_mean", "float", "summary: seconds"),
        _c("heartbeat_rtt_max", "float", "summary: seconds"),
        _c("ping_unanswered", "bool", "summary"),
        _c("packets_c2s", "int", "summary"),
        _c("packets_s2c", "int", "summary"),
        _c("events_c2s", "int", "summary"),
        _c("events_s2c", "int", "summary"),
        _c("acks", "int", "summary"),
        _c("ack_rtt_mean", "float", "summary: seconds"),
        _c("unanswered_acks", "int", "summary"),
        _c("errors", "int", "summary"),
        _c("ping_ts", "ts", "heartbeat-timeout: the unanswered ping's time"),
        _c("waited", "float", "heartbeat-timeout: seconds waited"),
        _c("ping_timeout", "float", "heartbeat-timeout: the handshake's pingTimeout, seconds"),
        _c("timed_out", "bool", "heartbeat-timeout: waited reached ping_timeout"),
        _c("reason", "text", "heartbeat-timeout: session closed, input ended"),
    ),
)

ERRORS = Table(
    "errors",
    "error records of every layer (type error)",
    (
        _c("rule", "text", "stable machine-readable rule, e.g. engineio.payload.bad-length"),
        _c("reason", "text", "what was wrong, for a person"),
        _c("offset", "int", "byte or character offset, where it applies"),
        _c("index", "int", "packet index inside a payload, where it applies"),
        _c("plugin", "text", "plugin whose code raised (plugin.crash)"),
    ),
)

APP = Table(
    "app",
    "application messages decoded by application-protocol plugins",
    (
        _c("data", "json", "unused (null)"),
        *_PACKET,
        _c("protocol", "text", "the protocol's name"),
        _c("message", "text", "the message's name"),
        _c("nsp", "text", "namespace of the Socket.IO binding"),
        _c("event", "name", "event of the Socket.IO binding"),
        _c("arg", "int", "argument index of the Socket.IO binding"),
        _c("fields", "json", "the decoded value"),
    ),
)

OTHER = Table(
    "other",
    "records of any other class (a third-party layer): their fields are in extra",
    (),
)

TABLES: tuple[Table, ...] = (CHUNKS, ENGINEIO, SOCKETIO, SESSIONS, ERRORS, APP, OTHER)
TABLE_NAMES = tuple(table.name for table in TABLES)


def table_named(name: str) -> Table:
    for table in TABLES:
        if table.name == name:
            return table
    raise KeyError(name)


def _pairs_type() -> pa.DataType:
    import pyarrow as pa

    return pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))


def arrow_type(kind: str) -> pa.DataType:
    """The pyarrow type of a column kind."""
    import pyarrow as pa

    simple: dict[str, Any] = {
        "text": pa.string(),
        "name": pa.string(),
        "json": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "bool": pa.bool_(),
        "ts": pa.timestamp("us", tz="UTC"),
        "bytes": pa.binary(),
        "texts": pa.list_(pa.string()),
    }
    if kind in simple:
        return simple[kind]  # type: ignore[no-any-return]
    if kind == "pairs":
        return _pairs_type()
    if kind == "http":
        return pa.struct(
            [
                ("method", pa.string()),
                ("target", pa.string()),
                ("path", pa.string()),
                ("query", _pairs_type()),
                ("status", pa.int64()),
                ("reason", pa.string()),
                ("headers", _pairs_type()),
                ("request_headers", _pairs_type()),
                ("request_ts", pa.timestamp("us", tz="UTC")),
            ]
        )
    raise ValueError(f"unknown column kind {kind!r}")


def arrow_schema(table: Table, *, ioproto_version: str = "") -> pa.Schema:
    """The pyarrow schema of ``table``'s files, with the versioning metadata."""
    import pyarrow as pa

    fields = [pa.field(column.name, arrow_type(column.kind)) for column in table.all_columns()]
    return pa.schema(
        fields,
        metadata={
            META_SCHEMA_VERSION: str(SCHEMA_VERSION),
            META_TABLE: table.name,
            META_IOPROTO_VERSION: ioproto_version,
        },
    )
