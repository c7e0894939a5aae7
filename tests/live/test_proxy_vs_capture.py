"""Differential test of a claim in docs/cli.md: what the proxy decodes is what a capture of the
client's side of the proxy would give, "the same chunks and records as ``ioproto decode`` on a
pcap of that traffic".

tcpdump records the client<->proxy hop on ``lo`` while a real client (Node, or Python) runs its
scenario through the real proxy relay to the Node server; then the proxy's records and the
records of the pcap source on that capture are compared, chunk by chunk, per connection and
direction. Timestamps and ``seq`` are left out; so is the order across connections and
directions, which the two sides see at slightly different moments.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from ioproto_http.records import CONNECTION_ENDS, Chunk, ChunkKind
from livehelp import Proxy, Server, run_client

import ioproto
from ioproto.model import ErrorRecord

pytestmark = [
    pytest.mark.node,
    pytest.mark.capture,
    pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing"),
]

Key = tuple[str, str | None]  # (client endpoint "ip:port", direction)


class Tcpdump:
    """``tcpdump -i lo`` writing the traffic of one TCP port to ``path``.

    ``--immediate-mode`` hands every packet over at once (by default libpcap's ring hands
    over blocks, up to a second late, and whatever is in it when SIGINT comes is not
    written); ``-B`` gives the ring room for 64 KiB loopback frames, so none are dropped.
    """

    def __init__(self, path: Path, port: int) -> None:
        self.path = path
        argv = ["tcpdump", "-i", "lo", "-U", "--immediate-mode", "-B", "32768", "-s", "0"]
        self.proc = subprocess.Popen(
            [*argv, "-w", str(path), f"tcp port {port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        line = self.proc.stderr.readline()  # "tcpdump: listening on lo, ..." once it captures
        if "listening on" not in line:
            message = line + self._finish()
            if "permission" in message or "not permitted" in message:
                pytest.skip(f"tcpdump cannot capture on lo: {message.strip()}")
            pytest.fail(f"tcpdump did not start: {message.strip()}")

    def stop(self) -> str:
        """Stops once the file has stopped growing; returns tcpdump's statistics."""
        size, deadline = -1, time.monotonic() + 3
        while time.monotonic() < deadline:
            now = self.path.stat().st_size if self.path.exists() else 0
            if now == size:
                break
            size = now
            time.sleep(0.15)
        self.proc.send_signal(signal.SIGINT)
        return self._finish()

    def _finish(self) -> str:
        try:
            return self.proc.communicate(timeout=5)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()[1]


def client_end(connection: str | None) -> str:
    """``clientip:clientport``: the part both sides name alike (the proxy names the server
    part after the upstream, a capture after the proxy's own address)."""
    assert connection, "a record without connection"
    return connection.split("-", 1)[0]


def chunk_groups(records: Sequence[object]) -> dict[Key, list[Any]]:
    """The chunks, per client endpoint and direction, in order, with what the two sides may
    differ in set alike: ts, seq, the connection's server part and the request time."""
    groups: dict[Key, list[Any]] = {}
    for r in records:
        if isinstance(r, Chunk):
            key = client_end(r.connection)
            http = None if r.http is None else attrs.evolve(r.http, request_ts=None)
            same = attrs.evolve(r, ts=0.0, seq=0, connection=key, http=http)
            groups.setdefault((key, r.direction), []).append(same)
    return groups


def error_list(records: Sequence[object]) -> list[tuple[Any, ...]]:
    return [
        (client_end(r.connection), r.direction, r.layer, r.rule, r.sid, r.transport, r.reason)
        for r in records
        if isinstance(r, ErrorRecord)
    ]


def differences(proxy: dict[Key, list[Any]], capture: dict[Key, list[Any]]) -> list[str]:
    """Where the two sides differ, briefly (a 60000-byte message makes a poor diff)."""
    out = []
    for key in sorted(proxy.keys() | capture.keys(), key=str):
        ours, theirs = proxy.get(key, []), capture.get(key, [])
        if ours == theirs:
            continue
        index = next(
            (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
            min(len(ours), len(theirs)),
        )
        out.append(
            f"{key}: {len(ours)} chunks from the proxy, {len(theirs)} from the capture;"
            f" first difference at #{index}:\n"
            f"  proxy:   {str(ours[index : index + 1])[:300]}\n"
            f"  capture: {str(theirs[index : index + 1])[:300]}"
        )
    return out


CASES = [
    pytest.param("node", "default", id="node-default"),
    pytest.param("node", "websocket", id="node-websocket"),
    pytest.param("py", "default", id="py-default"),
]


@pytest.mark.parametrize(("client", "mode"), CASES)
def test_proxy_decodes_what_a_capture_of_the_client_hop_decodes(
    node_server: Server, tmp_path: Path, client: str, mode: str
) -> None:
    pcap = tmp_path / "client-hop.pcap"
    with Proxy(node_server.url) as proxy:
        port = int(proxy.url.rpartition(":")[2])
        tcpdump = Tcpdump(pcap, port)
        try:
            result = run_client(client, proxy.url, mode, timeout=20)
            proxied = proxy.drain()
        finally:
            stats = tcpdump.stop()
    dropped = re.search(r"(\d+) packets? dropped by kernel", stats)
    assert dropped and dropped.group(1) == "0", f"the capture is incomplete: {stats}"
    assert result["echo"] and result["binary"] == [250, 3, 2, 1], result

    captured = list(ioproto.decode(str(pcap), proto="chunk", source_options={"port": [port]}))

    assert all(isinstance(r, (Chunk, ErrorRecord, *CONNECTION_ENDS)) for r in proxied), proxied
    assert all(isinstance(r, (Chunk, ErrorRecord, *CONNECTION_ENDS)) for r in captured), captured
    proxy_chunks = [r for r in proxied if isinstance(r, Chunk)]
    capture_chunks = [r for r in captured if isinstance(r, Chunk)]
    # Each side names the server end its own way: the upstream, or the proxy's listening port.
    upstream = f"-127.0.0.1:{node_server.port}"
    assert all(c.connection and c.connection.endswith(upstream) for c in proxy_chunks)
    assert all(c.connection and c.connection.endswith(f"-127.0.0.1:{port}") for c in capture_chunks)

    # The scenario really ran through the proxy: a WebSocket, binary, and (default) polling.
    kinds = {c.kind for c in proxy_chunks}
    assert {ChunkKind.WS_TEXT, ChunkKind.WS_BINARY} <= kinds
    if mode == "default":
        assert {ChunkKind.HTTP_REQUEST, ChunkKind.HTTP_RESPONSE} <= kinds

    assert error_list(proxied) == error_list(captured) == []
    proxy_groups, capture_groups = chunk_groups(proxied), chunk_groups(captured)
    problems = differences(proxy_groups, capture_groups)
    assert not problems, "\n".join(problems)
    assert len(proxy_chunks) == len(capture_chunks)
