"""Filter fields of the capture layer: TCP connection, HTTP message, WebSocket message.

They are read from a record's chunk (``http.*``, ``ws.*``, ``chunk.*``) or from the
``connection`` every record carries (``tcp.*``, ``ip.*``: ``client:port-server:port``), so
they work for the chunks of the pcap, live, proxy and HAR sources alike.

``tcp.port`` (either port of the connection, as in Wireshark) and ``tcp.server_port`` may
be pushed down: every record of a connection has the same ports, and an Engine.IO session's
connections all go to one server port. When a filter says ``tcp.server_port == N`` (or
``in {…}``) at its top level, the CLI also gives the source its ``port`` option (the
server's port: the pcap source also uses it to tell the server's side), so pcap and live
skip other connections before any HTTP parsing; ``--port N`` is short for that test.

(These belong to the HTTP layer; they move with it when HTTP parsing leaves this plugin.)
"""

from __future__ import annotations

import re
from typing import Any

from ioproto.filters import Field, reads
from ioproto.model import CHUNK_LAYER, Chunk, ChunkKind, HttpInfo, Record

_CONNECTION = re.compile(r"(\[[^\]]*\]|[^\s\[\]-]+):(\d{1,5})-(\[[^\]]*\]|[^\s\[\]-]+):(\d{1,5})")
_Endpoints = tuple[str, int, str, int] | None
_PARSED: dict[str, _Endpoints] = {}
_MAX_PARSED = 4096


def endpoints(connection: str | None) -> _Endpoints:
    """``(client ip, client port, server ip, server port)`` of a connection name, or
    ``None`` when it is not ``ip:port-ip:port`` (a file name, a HAR page …)."""
    if connection is None:
        return None
    found = _PARSED.get(connection, False)
    if found is not False:
        return found  # type: ignore[return-value]
    match = _CONNECTION.fullmatch(connection)
    parsed: _Endpoints = None
    if match is not None:
        client, client_port, server, server_port = match.groups()
        parsed = (client.strip("[]"), int(client_port), server.strip("[]"), int(server_port))
    if len(_PARSED) >= _MAX_PARSED:  # connections come and go: keep the cache bounded
        _PARSED.clear()
    _PARSED[connection] = parsed
    return parsed


def _ports(record: Record) -> Any:
    found = endpoints(record.connection)
    return None if found is None else (found[1], found[3])


def _addresses(record: Record) -> Any:
    found = endpoints(record.connection)
    return None if found is None else (found[0], found[2])


def _directed(index_c2s: int, index_s2c: int) -> Any:
    def get(record: Record) -> Any:
        found = endpoints(record.connection)
        if found is None or record.direction is None:
            return None
        return found[index_c2s if record.direction == "c2s" else index_s2c]

    return get


def _server(index: int) -> Any:
    def get(record: Record) -> Any:
        found = endpoints(record.connection)
        return None if found is None else found[index]

    return get


def _http(read: Any) -> Any:
    return reads(Chunk, lambda chunk: read(chunk.http) if chunk.http is not None else None)


def _first_values(pairs: tuple[tuple[str, str], ...]) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


_OPCODES = {ChunkKind.WS_TEXT: 1, ChunkKind.WS_BINARY: 2}


def _chunk(read: Any) -> Any:
    return reads(Chunk, read)


def _request_header(name: str) -> Any:
    return _http(lambda info: HttpInfo.request_header(info, name))


FIELDS = (
    Field(
        name="tcp.port",
        type="integer",
        many=True,
        get=_ports,
        layer=CHUNK_LAYER,
        pushdown=True,
        description="either port of the TCP connection (tcp.port == 3000: that server)",
        example="tcp.port == 3000",
    ),
    Field(
        name="tcp.server_port",
        type="integer",
        get=_server(3),
        layer=CHUNK_LAYER,
        pushdown=True,
        source_option="port",
        description="the server's port of the connection (what --port selects)",
        example="tcp.server_port in {3000, 8080}",
    ),
    Field(
        name="tcp.srcport",
        type="integer",
        get=_directed(1, 3),
        layer=CHUNK_LAYER,
        description="the sender's port",
        example="tcp.srcport == 3000",
    ),
    Field(
        name="tcp.dstport",
        type="integer",
        get=_directed(3, 1),
        layer=CHUNK_LAYER,
        description="the receiver's port",
        example="tcp.dstport == 3000",
    ),
    Field(
        name="ip.addr",
        type="string",
        many=True,
        get=_addresses,
        layer=CHUNK_LAYER,
        description="either address of the connection (IPv6 without brackets)",
        example='ip.addr == "127.0.0.1"',
    ),
    Field(
        name="ip.client",
        type="string",
        get=_server(0),
        layer=CHUNK_LAYER,
        description="the client's address",
        example='ip.client matches "^10\\\\."',
    ),
    Field(
        name="ip.server",
        type="string",
        get=_server(2),
        layer=CHUNK_LAYER,
        description="the server's address",
        example='ip.server == "127.0.0.1"',
    ),
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
        get=_chunk(lambda chunk: _OPCODES.get(chunk.kind)),
        layer=CHUNK_LAYER,
        description='1 for a text message, 2 for binary (control frames: type == "ws-control")',
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
