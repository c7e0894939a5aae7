"""The proxy is transparent: real clients behave the same with and without it, and the tap
sees every message as chunks following the source contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ioproto_http.records import Chunk, ChunkKind
from livehelp import Proxy, Server, run_client

from ioproto.model import ErrorRecord

CASES = [
    ("node", "default"),
    ("node", "websocket"),
    pytest.param("node", "polling", marks=pytest.mark.slow),
    ("py", "default"),
    pytest.param("py", "websocket", marks=pytest.mark.slow),
]


@pytest.fixture(scope="module", params=["node_server", "py_server"])
def upstream(request: pytest.FixtureRequest) -> Server:
    server: Server = request.getfixturevalue(request.param)
    return server


@pytest.fixture(scope="module")
def proxy(upstream: Server) -> Iterator[Proxy]:
    with Proxy(upstream.url) as running:
        yield running


@pytest.mark.node
@pytest.mark.parametrize(("client", "mode"), CASES)
def test_same_behaviour_through_proxy(
    upstream: Server, proxy: Proxy, client: str, mode: str
) -> None:
    direct = run_client(client, upstream.url, mode)
    proxy.drain(quiet=0.05)
    proxied = run_client(client, proxy.url, mode)
    assert proxied == direct
    assert direct["after_reconnect"] == ["again"] or (client == "py" and mode == "polling")
    assert direct["binary"] == [250, 3, 2, 1]
    assert direct["admin"] == {"users": 1, "uptime": 42.5}
    assert proxy.process.dropped_bytes == 0

    records = proxy.drain()
    # The relayed bytes decode cleanly: no gap, no invalid HTTP or WebSocket framing.
    assert [r for r in records if isinstance(r, ErrorRecord)] == []
    chunks = [record for record in records if isinstance(record, Chunk)]
    kinds = {chunk.kind for chunk in chunks}
    if mode != "websocket":
        assert {ChunkKind.HTTP_REQUEST, ChunkKind.HTTP_RESPONSE} <= kinds
        first = next(c for c in chunks if c.kind is ChunkKind.HTTP_RESPONSE)
        assert first.data.startswith(b"0{") and first.direction == "s2c"
        assert first.http is not None and first.http.query_value("EIO") == "4"
        assert first.http.query_value("transport") == "polling"
        polled = [c for c in chunks if c.http is not None and c.http.query_value("sid")]
        assert polled
    if mode != "polling":
        ws = [c for c in chunks if c.kind in (ChunkKind.WS_TEXT, ChunkKind.WS_BINARY)]
        assert any(c.data.startswith(b"42[") for c in ws)
        assert any(
            (c.kind is ChunkKind.WS_BINARY and c.data.endswith(b"\x03\x02\x01"))
            or (c.kind is ChunkKind.WS_BINARY and b"\x01\x02\x03" in c.data)
            for c in ws
        )
        assert all(c.http is not None and c.http.method == "GET" for c in ws)
        assert all(c.http and c.http.query_value("transport") == "websocket" for c in ws)
    seqs = [chunk.seq for chunk in chunks]
    assert seqs == sorted(seqs)
    for chunk in chunks:
        assert chunk.connection is not None and chunk.connection.startswith("127.0.0.1:")
        assert chunk.direction in ("c2s", "s2c")
