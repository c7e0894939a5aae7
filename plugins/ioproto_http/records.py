"""The records of the HTTP/WebSocket layer (layer ``chunk``). Public API.

A :class:`Chunk` is one HTTP body, one WebSocket message or one input line, with the
:class:`HttpInfo` of the HTTP message it came from. The ``http`` decoder layer makes them
from TCP byte streams; sources that already have HTTP and WebSocket messages (HAR files, a
browser) or lines make them directly. Layers above (Engine.IO) ride on them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import attrs

from ioproto.fastrecords import Rebuilder, reduce_record
from ioproto.model import Record

#: The layer name of chunks.
LAYER = "chunk"


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

    _ioproto_make = Rebuilder()  # pickle's name for how an HttpInfo is unpickled

    def __reduce__(self) -> tuple[Any, ...]:
        # Shared by the chunks of a connection; cheap to pickle like the records.
        return reduce_record(self)

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


def _kind_name(chunk: Chunk) -> str:
    """A chunk's ``type`` unless given: its kind (``"ws-text"``, ``"http-response"`` …)."""
    return str(chunk.kind)


@attrs.frozen(slots=True, kw_only=True)
class Chunk(Record):
    """The bytes of one HTTP body, one WebSocket message or one input line.

    ``http`` is the HTTP message it came from (for a WebSocket message, the upgrade request
    and its 101 answer); ``seq`` numbers the chunks of one source in the order produced.
    ``connection`` names the TCP connection client first; ``direction`` is known. A chunk
    knows nothing of what its bytes mean: ``sid`` and ``transport`` stay ``None`` (the
    layers above fill them in their own records).
    """

    kind: ChunkKind
    data: bytes
    http: HttpInfo | None = None
    seq: int = 0
    layer: str = LAYER
    type: str = attrs.field(default=attrs.Factory(_kind_name, takes_self=True))


#: The ``type`` of a WebSocket control frame's chunk, by the frame's opcode (its ``kind`` is
#: ``ws-control`` whatever the opcode).
CONTROL_TYPES = {8: "ws-close", 9: "ws-ping", 10: "ws-pong"}
#: The ``type`` of a close frame's chunk.
WS_CLOSE = CONTROL_TYPES[8]


def control_type(opcode: int) -> str:
    """The ``type`` of the chunk of a control frame with ``opcode`` (``"ws-control"`` for
    an opcode that is not a known control frame's)."""
    return CONTROL_TYPES.get(opcode, str(ChunkKind.WS_CONTROL))


def close_status(payload: bytes) -> tuple[int | None, str | None]:
    """The status code and reason a WebSocket close frame's ``payload`` gives (RFC 6455,
    5.5.1): ``(None, None)`` for an empty payload, the code alone (reason ``None``) for a
    payload of one byte (which is invalid: the code is then ``None`` too) or of two bytes; a
    reason that is not UTF-8 is decoded with replacement characters."""
    if len(payload) < 2:
        return None, None
    code = int.from_bytes(payload[:2], "big")
    if len(payload) == 2:
        return code, None
    return code, payload[2:].decode("utf-8", "replace")


#: The ``TcpClose`` reasons by which a peer ended a connection (not the source letting it go:
#: ``idle``, ``evicted``, ``input ended``), with what each is called in a
#: :class:`WebSocketEnd`'s ``reason``.
PEER_ENDS = {
    "closed": "the connection closed (FIN)",
    "reset": "the connection was reset (RST)",
    "reused": "a new connection on the same ports began (SYN)",
}
#: The status a WebSocket API reports for a connection that ended without a close frame
#: (RFC 6455, 7.1.5 and 7.4.1: "abnormal closure"; never sent in a frame).
ABNORMAL_CLOSURE = 1006


@attrs.frozen(slots=True, kw_only=True)
class WebSocketEnd(Record):
    """A WebSocket ended without a close frame among its chunks.

    From the ``http`` layer: its TCP connection ended, by its peers' doing, before either
    side sent a close frame (a process killed, a server restarted): what a WebSocket API
    reports as status 1006, abnormal closure (``code`` :data:`ABNORMAL_CLOSURE`);
    ``reason`` says how it ended (:data:`PEER_ENDS`). Not made when the source let the
    connection go (``idle``, ``evicted``) or the input ended with it open: those say
    nothing of the WebSocket. From a source that sees messages, not frames (the browser's
    ``cdp``): the source was told that the WebSocket closed, but not how; ``code`` is
    ``None`` (unknown) and ``reason`` says who reported the close.

    ``http`` is the upgrade request's, as on the WebSocket's chunks. The Engine.IO layer
    turns the one of a session's transport into its ``transport-close``."""

    reason: str
    http: HttpInfo | None = None
    #: The close status a WebSocket API reports for this end; ``None`` when not known.
    code: int | None = ABNORMAL_CLOSURE
    layer: str = LAYER
    type: str = "ws-end"


@attrs.frozen(slots=True, kw_only=True)
class UnansweredRequest(Record):
    """An HTTP request that its connection's end, by its peers' doing, left without a
    complete response: a long poll cut off because its client went away (a tab closed, a
    process killed) or its server did. ``reason`` says how the connection ended
    (:data:`PEER_ENDS`); ``http`` is the request's; ``request_ts`` the time the request was
    complete, ``ts`` the connection's end. Made only when a layer above takes it (the
    Engine.IO layer: a request naming a session; every one with ``all_http``), never for a
    WebSocket upgrade request (a failed upgrade is no session's transport), nor when the
    source let the connection go or the input ended with it open. The browser source
    (``cdp``), which sees requests and not connections, makes one for a request its page
    left waiting when the page was closed, crashed or loaded another document (``reason``
    says which). The Engine.IO layer turns a poll's into its session's ``transport-close``."""

    reason: str
    http: HttpInfo | None = None
    request_ts: float | None = None
    layer: str = LAYER
    type: str = "http-unanswered"


@attrs.frozen(slots=True, kw_only=True)
class ReportedEnd(Record):
    """A server said, in its own words, that one of its sessions ended: from a source that
    runs inside the server (an in-process tap), which sees the messages the server handles
    but neither its connections nor their close frames.

    ``reason`` is the server's word for the end, as it gave it (Engine.IO's servers say
    ``transport close``, ``transport error``, ``ping timeout``, ``forced close``, ``client
    disconnect``, ...); ``http`` is the request that opened the session's transport, as on
    its chunks (its query names the session: ``sid``, ``transport``); ``connection`` its
    chunks' connection. The Engine.IO layer decides what it ends: a session its server
    ended without an Engine.IO ``close`` gets its ``transport-close`` from it."""

    reason: str
    http: HttpInfo | None = None
    layer: str = LAYER
    type: str = "reported-end"


#: The records of the HTTP layer that say a connection ended with something unfinished.
CONNECTION_ENDS: tuple[type[Record], ...] = (WebSocketEnd, UnansweredRequest)


#: Every ``type`` a chunk may have: its kinds, and the control frames' types.
CHUNK_TYPES: tuple[str, ...] = (*(str(kind) for kind in ChunkKind), *CONTROL_TYPES.values())


def is_bare_control(record: Record) -> bool:
    """Whether ``record`` is a WebSocket control frame without payload (a bare ping, pong
    or close frame): it says nothing the Engine.IO records do not, so the views for people
    leave it out unless asked (``empty_control``)."""
    return isinstance(record, Chunk) and record.kind is ChunkKind.WS_CONTROL and not record.data
