"""The Python tap on a real python-socketio server (aiohttp) with a real python-socketio
client: what the collector receives decodes to the scenario, and the tap never hurts the app
(collector absent, killed mid-run, not reading)."""

from __future__ import annotations

import os
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ioproto_engineio.records import EngineIOHandshake
from ioproto_http.records import Chunk, ChunkKind
from ioproto_socketio.records import SocketIOPacket
from livehelp import node_ok, run_client
from taphelp import (
    CollectorThread,
    decode,
    echo_server,
    run_echo_session,
    stop_tapped,
    tapped_server,
)

from ioproto.model import ErrorRecord

EXPECTED = {"echo": ["hello", {"n": 1, "list": [1, "two", None]}], "binary": [250, 3, 2, 1]}


def check_result(result: dict[str, object]) -> None:
    for key, value in EXPECTED.items():
        assert result[key] == value, result
    assert result["answer"] == 42 and result["total"] == 10


@pytest.fixture
def collector() -> Iterator[CollectorThread]:
    thread = CollectorThread()
    yield thread
    thread.stop()


# python-socketio's client cannot finish the scenario on polling alone (its namespace
# refusal waits a ping interval): socket.io-client 4 drives the polling case.
@pytest.mark.parametrize(
    ("client", "mode"), [("py", "default"), ("py", "websocket"), ("node", "polling")]
)
def test_every_packet_of_a_real_session_reaches_the_collector(
    collector: CollectorThread, client: str, mode: str
) -> None:
    if client == "node" and not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    server = tapped_server("py", collector.spec)
    try:
        check_result(run_client(client, server.url, mode))
    finally:
        counts = stop_tapped(server)
    assert counts == {"dropped": 0, "failures": 0, "connects": 1}
    records = collector.settle()
    assert not [r for r in records if isinstance(r, ErrorRecord)]
    kinds = {r.kind for r in records if isinstance(r, Chunk)}
    if mode == "polling":
        assert {ChunkKind.HTTP_REQUEST, ChunkKind.HTTP_RESPONSE} <= kinds
    elif mode == "default":  # python-socketio's client upgrades before it sends anything
        assert ChunkKind.HTTP_RESPONSE in kinds
    if mode != "polling":
        assert {ChunkKind.WS_TEXT, ChunkKind.WS_BINARY} <= kinds
    out = decode(records)
    errors = [r for r in out if isinstance(r, ErrorRecord)]
    assert not errors, errors
    handshakes = [r for r in out if isinstance(r, EngineIOHandshake)]
    agent = "aiohttp" if client == "py" else "Node.js engine.io-client"
    assert handshakes and all(h.tag("client.name") == agent for h in handshakes)
    assert all(h.tag("latency.handshake") is not None for h in handshakes)
    events = [r for r in out if isinstance(r, SocketIOPacket) and r.type == "EVENT"]
    names = {r.event for r in events}
    assert {"echo", "binary", "question", "count", "total"} <= names
    acks = [r for r in out if isinstance(r, SocketIOPacket) and r.type == "ACK"]
    assert acks and all(a.answers is not None for a in acks)
    assert any(r.nsp == "/admin" for r in out if isinstance(r, SocketIOPacket))


def test_in_process_sinks(tmp_path: object) -> None:
    import json
    from pathlib import Path

    import ioproto_tap

    path = Path(str(tmp_path)) / "out.jsonl"
    sio = echo_server()
    tap = ioproto_tap.instrument(sio, sinks=[f"jsonl:{path}"])
    assert run_echo_session(sio, "hi", b"\x01") == ["hi", b"\x01"]
    tap.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    events = [r for r in lines if r["layer"] == "socketio" and r["type"] == "EVENT"]
    assert events and events[0]["event"] == "echo"
    assert events[0]["args"] == ["hi", {"$bytes": "AQ=="}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_absent_collector_costs_the_app_nothing_and_drops_are_counted() -> None:
    port = free_port()  # nobody listens there
    server = tapped_server("py", f"127.0.0.1:{port}", IOPROTO_TAP_BUFFER="4000")
    try:
        check_result(run_client("py", server.url, "default"))
    finally:
        counts = stop_tapped(server)
    assert counts["failures"] == 0 and counts["connects"] == 0
    assert isinstance(counts["dropped"], int) and counts["dropped"] > 0


def test_a_collector_killed_mid_run_is_reconnected_and_the_loss_reported() -> None:
    first = CollectorThread()
    address = first.address
    server = tapped_server("py", first.spec, IOPROTO_TAP_BUFFER="4000")
    second = None
    try:
        check_result(run_client("py", server.url, "websocket"))
        first.settle()
        first.stop()  # the collector dies
        check_result(run_client("py", server.url, "websocket"))  # the app does not notice
        second = CollectorThread(address)  # a new collector on the same address
        records = second.settle(quiet=1.0)
        for _ in range(3):
            if [e for e in second.events if "connected" in e]:
                break
            records = second.settle(quiet=2.0)
        check_result(run_client("py", server.url, "websocket"))
        records = second.settle()
    finally:
        counts = stop_tapped(server)
        if second is not None:
            second.stop()
    assert counts["failures"] == 0 and counts["connects"] == 2
    assert isinstance(counts["dropped"], int) and counts["dropped"] > 0
    dropped = [r for r in records if isinstance(r, ErrorRecord) and r.rule == "collect.tap.dropped"]
    assert dropped  # the reconnection's hello reported what was lost
    assert {r.event for r in decode(records) if isinstance(r, SocketIOPacket)} >= {"echo", "binary"}


def test_a_collector_that_does_not_read_never_slows_the_app() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    server = tapped_server(
        "py", f"127.0.0.1:{listener.getsockname()[1]}", IOPROTO_TAP_BUFFER="100000"
    )
    try:
        for _ in range(3):  # 3 x 60 kB echoes and more: beyond the socket buffers and the tap's
            check_result(run_client("py", server.url, "websocket", timeout=30))
    finally:
        counts = stop_tapped(server)
        for sock in accepted:
            sock.close()
        listener.close()
    assert counts["failures"] == 0
    assert isinstance(counts["dropped"], int) and counts["dropped"] > 0


def test_in_process_sinks_are_told_the_records_are_live(tmp_path: Path) -> None:
    """The tap's records arrive as its server handles them, so its sinks are a live
    source's (the prometheus sink then ends idle sessions at a scrape, by the wall clock);
    and ``prometheus:HOST:PORT`` is the sink's address, as on the command line, not a file."""
    from ioproto_prometheus.metrics import LiveMetrics
    from ioproto_tap.inprocess import pipeline_link

    port = free_port()
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        link = pipeline_link([f"prometheus:127.0.0.1:{port}"], "socketio")
    finally:
        os.chdir(here)
    try:
        pipeline = link._feed.__self__  # type: ignore[attr-defined]
        (stage,) = pipeline.sinks
        assert isinstance(stage.component.metrics, LiveMetrics)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert b"ioproto_sessions_open" in answer.read()
    finally:
        link._close()
    assert list(tmp_path.iterdir()) == []  # no file named after the address
