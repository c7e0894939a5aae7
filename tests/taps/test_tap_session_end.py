"""A tapped session ends as its captured twin does, from what its server said of the end.

Real servers with their taps (Node socket.io 4 with ioproto-tap, python-socketio with
ioproto_tap) and real clients that leave without an Engine.IO ``close``: a python-socketio
client (``peers/py_ticker.py``) killed with SIGKILL, over WebSocket and over polling, and a
raw WebSocket client that answers no ping (the servers run with a 300 ms pingInterval and
pingTimeout). While tcpdump captures the server's port (when it can), the session's end from
the tap is compared with the one from the capture: both ``transport closed`` where the server
saw the transport close; from the tap, a ``transport-close`` with no code and the server's
reason (``the server reported: transport close``), and ``ping timeout`` where the server
gave up on a silent client (docs/taps.md, "How a tapped session ends").
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest
from ioproto_pcap.source import PcapSource
from livehelp import PEERS, Server, node_ok
from taphelp import CollectorThread, decode, tapped_server

from ioproto.components import SourceContext
from ioproto.model import ErrorRecord, Record

#: pingInterval,pingTimeout (ms) of the servers here: a silent client is found in a second.
FAST_PING = "300,300"

CAN_CAPTURE = shutil.which("tcpdump") is not None and os.geteuid() == 0


def needs(kind: str) -> None:
    if kind == "node" and not node_ok():
        pytest.skip("node or tests/node/node_modules missing")


@contextmanager
def tapped(kind: str, pcap: Path | None) -> Iterator[tuple[Server, Callable[[], list[Record]]]]:
    """A tapped ``kind`` server with :data:`FAST_PING`, its port captured into ``pcap``
    when given; yields it and a function that waits for the tap to fall quiet and returns
    what the tap and the capture gave, decoded (the capture's after the tap's)."""
    from test_proxy_vs_capture import Tcpdump

    collector = CollectorThread()
    server = tapped_server(kind, collector.spec, IOPROTO_PEER_PING=FAST_PING)
    tcpdump = Tcpdump(pcap, server.port) if pcap is not None else None
    results: dict[str, list[Record]] = {}

    def finish() -> list[Record]:
        results["tap"] = decode(collector.settle(quiet=1.0, timeout=15))
        return results["tap"]

    try:
        yield server, finish
    finally:
        if tcpdump is not None:
            tcpdump.stop()
        server.stop()
        collector.stop()


def captured(pcap: Path, port: int) -> list[Record]:
    return decode(PcapSource().open(str(pcap), SourceContext(options={"port": [port]})))


def the_end(records: list[Record]) -> tuple[Record, list[Record]]:
    """The one session's summary and its transport-close records (no error anywhere)."""
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    assert not errors, errors[:3]
    summaries = [r for r in records if r.type == "summary"]
    assert len(summaries) == 1, summaries
    closes = [r for r in records if r.type == "transport-close"]
    return summaries[0], closes


def kill_ticking_client(url: str, mode: str) -> None:
    """A python-socketio client over ``mode`` emits, then is killed with SIGKILL while it
    waits (its next long poll out, on polling): gone without an Engine.IO ``close``."""
    client = subprocess.Popen(
        [sys.executable, str(PEERS / "py_ticker.py"), url, mode, "50", "0.2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert client.stdout is not None
        assert client.stdout.readline().startswith("SENT 0"), "the client did not emit"
        time.sleep(0.3)
        client.send_signal(signal.SIGKILL)
        client.wait(10)
    finally:
        if client.poll() is None:
            client.kill()


async def _answering_no_ping(url: str, seconds: float) -> None:
    """Open a WebSocket-only session, join the main namespace, then send an event every
    0.1 s but never answer a ping, until the server closes the WebSocket."""
    target = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(target) as ws:
        opened = await ws.receive_str(timeout=5)
        assert opened.startswith("0{"), opened
        await ws.send_str("40")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                message = await ws.receive(timeout=0.1)
            except TimeoutError:
                await ws.send_str('42["count",1]')
                continue
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return
            if message.type is aiohttp.WSMsgType.ERROR:
                return
        raise AssertionError(f"the server kept a client answering no ping for {seconds} s")


KILLED = [
    pytest.param("node", "websocket", "transport close", id="node-websocket"),
    pytest.param("node", "polling", "transport error", id="node-polling"),
    pytest.param("py", "websocket", "transport close", id="py-websocket"),
]


@pytest.mark.parametrize(("kind", "mode", "reported"), KILLED)
def test_a_killed_client_ends_its_tapped_session_as_its_capture_does(
    tmp_path: Path, kind: str, mode: str, reported: str
) -> None:
    needs(kind)
    pcap = tmp_path / "server.pcap" if CAN_CAPTURE else None
    with tapped(kind, pcap) as (server, finish):
        kill_ticking_client(server.url, mode)
        from_tap = finish()
    summary, closes = the_end(from_tap)
    assert summary.end_reason == "transport closed"  # type: ignore[attr-defined]
    assert [(r.sid, r.transport) for r in closes] == [(summary.sid, mode)]
    close = closes[0]
    assert close.code is None  # type: ignore[attr-defined]
    assert close.message == f"the server reported: {reported}"  # type: ignore[attr-defined]
    assert not [r for r in from_tap if r.type == "close"]  # no Engine.IO close reached the client
    if pcap is None:
        return
    twin, twin_closes = the_end(captured(pcap, server.port))
    assert twin.sid == summary.sid
    assert twin.end_reason == summary.end_reason  # type: ignore[attr-defined]
    assert [r.transport for r in twin_closes] == [mode]


def test_a_killed_polling_client_of_python_engineio_ends_by_its_ping_timeout(
    tmp_path: Path,
) -> None:
    # python-engineio does not notice a poll's connection closing: the session ends when the
    # client misses a ping, and the server says so. A capture sees the poll cut off.
    pcap = tmp_path / "server.pcap" if CAN_CAPTURE else None
    with tapped("py", pcap) as (server, finish):
        kill_ticking_client(server.url, "polling")
        from_tap = finish()
    summary, closes = the_end(from_tap)
    assert summary.end_reason == "ping timeout"  # type: ignore[attr-defined]
    assert [r.message for r in closes] == ["the server reported: ping timeout"]  # type: ignore[attr-defined]
    assert closes[0].transport == "polling"
    if pcap is not None:
        twin, _ = the_end(captured(pcap, server.port))
        assert twin.end_reason == "transport closed"  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["node", "py"])
def test_a_client_answering_no_ping_ends_its_tapped_session_by_ping_timeout(
    tmp_path: Path, kind: str
) -> None:
    needs(kind)
    pcap = tmp_path / "server.pcap" if CAN_CAPTURE else None
    with tapped(kind, pcap) as (server, finish):
        asyncio.run(_answering_no_ping(server.url, 10))
        from_tap = finish()
    summary, closes = the_end(from_tap)
    assert summary.end_reason == "ping timeout"  # type: ignore[attr-defined]
    assert [(r.transport, r.code, r.message) for r in closes] == [  # type: ignore[attr-defined]
        ("websocket", None, "the server reported: ping timeout")
    ]
    pings = [r for r in from_tap if r.type == "ping" and r.direction == "s2c"]
    assert pings and not [r for r in from_tap if r.type == "pong"]
    if pcap is not None:
        # On the wire the server closed the WebSocket, and nothing tells why.
        twin, twin_closes = the_end(captured(pcap, server.port))
        assert twin.end_reason == "transport closed"  # type: ignore[attr-defined]
        assert [r.direction for r in twin_closes] == ["s2c"]
