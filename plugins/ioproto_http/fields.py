"""Filter fields of the ``http`` layer: the HTTP message or WebSocket message a record came
from (``http.*``, ``ws.*``, ``chunk.*``), read from the record's chunk, so they work for the
chunks of every source (pcap, live, proxy, HAR, taps) and everything decoded from them.
"""

from __future__ import annotations

from typing import Any

from ioproto.filters import Field, reads

# The records are named, not imported: listing the fields imports no records module.
CHUNK_LAYER = "chunk"  # .records.LAYER
_CHUNK = "ioproto_http.records:Chunk"


def _http(read: Any) -> Any:
    return reads(_CHUNK, lambda chunk: read(chunk.http) if chunk.http is not None else None)


def _first_values(pairs: tuple[tuple[str, str], ...]) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


#: By ``ChunkKind`` (a ``StrEnum``: its members are these strings).
_OPCODES = {"ws-text": 1, "ws-binary": 2}
#: A control frame's opcode, by its chunk's type (.records.CONTROL_TYPES).
_CONTROL_OPCODES = {"ws-close": 8, "ws-ping": 9, "ws-pong": 10}


def _chunk(read: Any) -> Any:
    return reads(_CHUNK, read)


def _request_header(name: str) -> Any:
    return _http(lambda info: info.request_header(name))


FIELDS = (
    Field(
        name="http.method",
        type="string",
        get=_http(lambda info: info.method),
        layer=CHUNK_LAYER,
        description="the HTTP request method (of the request a response answers)",
        example='http.method == "POST"',
    ),
    Field(
        name="http.path",
        type="string",
        get=_http(lambda info: info.path),
        layer=CHUNK_LAYER,
        description="the request path, without the query",
        example='http.path == "/socket.io/"',
    ),
    Field(
        name="http.target",
        type="string",
        get=_http(lambda info: info.target),
        layer=CHUNK_LAYER,
        description="the request target as sent (path and query)",
        example='http.target contains "transport=polling"',
    ),
    Field(
        name="http.query",
        type="json",
        get=_http(lambda info: _first_values(info.query)),
        layer=CHUNK_LAYER,
        description="the query parameters (first value of each): http.query.EIO",
        example='http.query.EIO == "4"',
    ),
    Field(
        name="http.status",
        type="integer",
        get=_http(lambda info: info.status),
        layer=CHUNK_LAYER,
        description="the response status (101 for WebSocket messages)",
        example="http.status >= 400",
    ),
    Field(
        name="http.headers",
        type="json",
        get=_http(lambda info: _first_values(info.headers)),
        layer=CHUNK_LAYER,
        description='the headers of the message, names in lower case: http.headers["content-type"]',
        example='http.headers["content-encoding"] == "gzip"',
    ),
    Field(
        name="http.user_agent",
        type="string",
        get=_request_header("user-agent"),
        layer=CHUNK_LAYER,
        description="the request's User-Agent",
        example='http.user_agent contains "Firefox"',
    ),
    Field(
        name="http.host",
        type="string",
        get=_request_header("host"),
        layer=CHUNK_LAYER,
        description="the request's Host header",
        example='http.host == "example.com"',
    ),
    Field(
        name="ws.opcode",
        type="integer",
        get=_chunk(lambda chunk: _OPCODES.get(chunk.kind) or _CONTROL_OPCODES.get(chunk.type)),
        layer=CHUNK_LAYER,
        description="1 for a text message, 2 for binary, 8 close, 9 ping, 10 pong",
        example="ws.opcode == 2",
    ),
    Field(
        name="chunk.kind",
        type="string",
        get=_chunk(lambda chunk: str(chunk.kind)),
        layer=CHUNK_LAYER,
        description="http-request, http-response, ws-text, ws-binary, ws-control, line …",
        example='chunk.kind == "http-response"',
    ),
    Field(
        name="chunk.bytes",
        type="size",
        get=_chunk(lambda chunk: len(chunk.data)),
        layer=CHUNK_LAYER,
        description="the size of the HTTP body or WebSocket message (decompressed)",
        example="chunk.bytes > 64kB",
    ),
)
