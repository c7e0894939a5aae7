"""The records that cross stage boundaries.

Every record is a frozen, slotted attrs class. A capture source produces :class:`Chunk`
records; decoder layers turn records of the layer below into :class:`Packet` records (or a
plugin's subclass of it) and :class:`ErrorRecord` records; classifiers attach :class:`Tag`
values; sinks consume all of them.

Contract shared by every record:

* ``ts`` is seconds since the epoch (float) of the capture time of the bytes it came from.
* ``connection`` names the transport connection (for TCP ``"10.0.0.1:5123-10.0.0.2:3000"``,
  client first), or the input it was read from.
* ``direction`` is ``"c2s"``, ``"s2c"`` or ``None`` when the source cannot tell.
* ``sid`` is the Engine.IO session id once known, else ``None``.
* ``transport`` is the Engine.IO transport (``"polling"``, ``"websocket"``,
  ``"webtransport"``) or ``None``.
* ``parent`` is the record of the layer below that this one was decoded from.
* ``tags`` are classification results, added by classifiers with :meth:`Record.with_tags`.

Binary data is always ``bytes`` inside the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any, Literal

import attrs

from .fastrecords import replace_field

Direction = Literal["c2s", "s2c"]

#: The layer name of the records a capture source produces.
CHUNK_LAYER = "chunk"


class ChunkKind(StrEnum):
    """What the bytes of a :class:`Chunk` are."""

    HTTP_REQUEST = "http-request"
    """The body of one HTTP request."""
    HTTP_RESPONSE = "http-response"
    """The body of one HTTP response."""
    WS_TEXT = "ws-text"
    """One complete WebSocket text message (after reassembly and decompression)."""
    WS_BINARY = "ws-binary"
    """One complete WebSocket binary message."""
    WT_STREAM = "wt-stream"
    """Bytes of a WebTransport bidirectional stream."""
    LINE = "line"
    """One line of the ``lines`` source: a single Engine.IO packet or a polling payload."""
    LINE_BINARY = "line-binary"
    """One line of the ``lines`` source given as hex: a binary Engine.IO message."""
    WS_CONTROL = "ws-control"
    """A WebSocket control frame (ping, pong, close); ``data`` is its payload."""


@attrs.frozen(slots=True)
class Tag:
    """One classification result, e.g. ``Tag("client.browser", "Chrome")``.

    ``name`` is dotted, the first part naming the classifier that set it. ``value`` is a JSON
    value (str, int, float, bool, None, list or dict of those).
    """

    name: str
    value: Any


@attrs.frozen(slots=True)
class HttpInfo:
    """What the capture knows about the HTTP message a chunk came from.

    For a response, ``method``/``target``/``query`` are those of the request it answers,
    ``request_headers`` the request's headers and ``request_ts`` the request's time.
    ``query`` keeps every parameter as ``(name, value)`` in order; ``headers`` keeps the
    headers of the message itself, names in lower case.
    """

    method: str | None = None
    target: str | None = None
    path: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    status: int | None = None
    reason: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    request_headers: tuple[tuple[str, str], ...] = ()
    request_ts: float | None = None

    def query_value(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or ``None``."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive) of this message."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def request_header(self, name: str) -> str | None:
        """The first value of header ``name`` of the request (same as header() on a request)."""
        name = name.lower()
        for key, value in self.request_headers or self.headers:
            if key == name:
                return value
        return None


@attrs.frozen(slots=True, kw_only=True)
class Record:
    """Fields every record has. See the module docstring for their contract."""

    ts: float
    connection: str | None = None
    direction: Direction | None = None
    sid: str | None = None
    transport: str | None = None
    parent: Record | None = attrs.field(default=None, repr=False, eq=False)
    tags: tuple[Tag, ...] = ()

    layer: str = ""
    type: str = ""

    def with_tags(self, tags: Iterable[Tag]) -> Record:
        """A copy of this record with ``tags`` added after the existing ones."""
        added = tuple(tags)
        if not added:
            return self
        return replace_field(self, "tags", self.tags + added)  # type: ignore[no-any-return]

    def tag(self, name: str, default: Any = None) -> Any:
        """The value of the last tag called ``name``, or ``default``."""
        for tag in reversed(self.tags):
            if tag.name == name:
                return tag.value
        return default

    def lineage(self) -> Iterator[Record]:
        """This record, then its parent, its parent's parent, and so on."""
        record: Record | None = self
        while record is not None:
            yield record
            record = record.parent


def _kind_name(chunk: Chunk) -> str:
    """A chunk's ``type`` unless given: its kind (``"ws-text"``, ``"http-response"`` …)."""
    return str(chunk.kind)


@attrs.frozen(slots=True, kw_only=True)
class Chunk(Record):
    """The bytes of one HTTP body, one WebSocket message or one input line.

    ``revision`` is the Engine.IO protocol revision when the capture knows it (the ``EIO``
    query parameter); ``None`` lets the decoder use its default. ``seq`` numbers the chunks
    of one source in the order produced.
    """

    kind: ChunkKind
    data: bytes
    http: HttpInfo | None = None
    revision: int | None = None
    seq: int = 0
    layer: str = CHUNK_LAYER
    type: str = attrs.field(default=attrs.Factory(_kind_name, takes_self=True))


@attrs.frozen(slots=True, kw_only=True)
class Packet(Record):
    """A decoded packet of some layer.

    ``layer`` names the decoder layer (``"engineio"``, ``"socketio"``, …), ``type`` the packet
    type in that layer's own words (``"message"``, ``"EVENT"``). ``data`` is the payload as the
    layer understands it (``str``, ``bytes``, or a JSON value). ``revision`` is the protocol
    revision of this layer for the session. ``raw`` holds the bytes of this packet as they
    appeared on the wire (for binary data, the bytes themselves). ``notes`` are short strings
    that flag leniencies (input the reference accepts but the spec forbids).

    Plugins subclass :class:`Packet` to add typed fields; sinks serialise every attrs field.
    """

    data: Any = None
    revision: int | None = None
    raw: bytes = attrs.field(default=b"", repr=False)
    notes: tuple[str, ...] = ()


@attrs.frozen(slots=True, kw_only=True)
class ErrorRecord(Record):
    """Input that could not be decoded, or a plugin that failed.

    ``rule`` is a stable machine-readable name of what was broken (e.g.
    ``"engineio.payload.bad-length"``); ``reason`` explains it to a person. ``raw`` keeps the
    offending bytes (possibly truncated to the configured limit), ``offset`` the byte or
    character offset inside the parent's data and ``index`` the packet index inside a payload,
    where they apply. ``plugin`` names the plugin whose code raised, for plugin failures.
    """

    rule: str
    reason: str
    raw: bytes = attrs.field(default=b"", repr=False)
    offset: int | None = None
    index: int | None = None
    plugin: str | None = None
    type: str = "error"


def record_context(parent: Record) -> dict[str, Any]:
    """The keyword arguments a derived record copies from ``parent``.

    Decoders call ``Packet(**record_context(parent), layer=..., ...)`` so that every layer
    carries the same time, connection, direction, session and transport.
    """
    return {
        "ts": parent.ts,
        "connection": parent.connection,
        "direction": parent.direction,
        "sid": parent.sid,
        "transport": parent.transport,
        "parent": parent,
    }


def error_from(
    parent: Record,
    *,
    layer: str,
    rule: str,
    reason: str,
    raw: bytes = b"",
    offset: int | None = None,
    index: int | None = None,
    sid: str | None = None,
) -> ErrorRecord:
    """An :class:`ErrorRecord` about input that came from ``parent``."""
    context = record_context(parent)
    if sid is not None:
        context["sid"] = sid
    return ErrorRecord(
        **context,
        layer=layer,
        rule=rule,
        reason=reason,
        raw=raw,
        offset=offset,
        index=index,
    )
