"""Filter fields of the ``tcp`` layer: the TCP connection a record travelled.

They are read from the ``connection`` every record carries (``client:port-server:port``
for the chunks and everything decoded from them), so they work for the records of the pcap,
live and proxy sources alike, at every layer.

``tcp.port`` (either port of the connection, as in Wireshark) is pushed down to the ``tcp``
layer: every record of a connection has the same ports, so a record of another connection
is dropped before its bytes are parsed. ``tcp.server_port`` needs to know which side is the
server, which the ``http`` layer settles; when a filter says ``tcp.server_port == N`` (or
``in {…}``) at its top level, the CLI also gives the source its ``port`` option, so pcap and
live skip other connections before any reassembly; ``--port N`` is short for that test.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ioproto.filters import Field

if TYPE_CHECKING:
    from ioproto.model import Record

# Named, not imported: listing the fields imports no records module.
LAYER = "tcp"  # .records.LAYER
CHUNK_LAYER = "chunk"  # ioproto_http.records.LAYER

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


FIELDS = (
    Field(
        name="tcp.port",
        type="integer",
        many=True,
        get=_ports,
        layer=LAYER,
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
)
