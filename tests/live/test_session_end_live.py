"""On a live source a session's summary shows up as its session ends, not at Ctrl-C.

``ioproto decode live:lo --sink jsonl`` with its standard output a pipe, read line by line
while it runs, and real peers: a python-socketio server and client (``peers/py_ticker.py``:
connects over WebSocket, emits a few events at a human pace, then leaves), whose WebSocket
closing ends its session (``transport-close``); and a socket.io server
(``peers/sio_server.js``) with a python-socketio client over polling killed with SIGKILL
while its long poll waits (no Engine.IO ``close`` is ever sent; the server ends the session
as the poll's connection closes), whose cut-off poll ends its session. Each summary line
must be read within a second of the client leaving, while the command is still running.
A polling client frozen with SIGSTOP leaves nothing on the wire: its server times it out
after pingInterval + pingTimeout, and the command says so while it runs, once that wait
and a second have passed (the Engine.IO layer's ``time_passed``, at most a second late).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from clirun import IOPROTO
from emitdelay import LineWatcher
from livehelp import PEERS, Server, node_ok

BOUND = 1.0


def records(watcher: LineWatcher) -> list[tuple[float, dict[str, object]]]:
    return [(read_at, json.loads(line)) for read_at, line in list(watcher.lines)]


def first_summary(watcher: LineWatcher, since: float) -> tuple[float, dict[str, object]] | None:
    """The first summary line and when it was read, waiting up to 5 s after ``since``."""
    deadline = since + 5
    summary = None
    while time.time() < deadline and summary is None:
        time.sleep(0.05)
        summary = next(((at, r) for at, r in records(watcher) if r.get("type") == "summary"), None)
    return summary


def capturing(port: int) -> LineWatcher:
    """``ioproto decode --sink jsonl live:lo --port PORT`` running, its capture on."""
    watcher = LineWatcher([*IOPROTO, "decode", "--sink", "jsonl", "live:lo", "--port", str(port)])
    line = watcher.stderr_line()
    if "capturing on lo" not in line:
        watcher.stop()
        raise AssertionError(line)
    return watcher


def ended_in_time(
    summary: tuple[float, dict[str, object]] | None,
    since: float,
    what: str,
    running: bool,
    stopped: tuple[int, str],
) -> dict[str, object]:
    """The summary's record, checked: read while the command still ran (which then stopped
    cleanly), within :data:`BOUND` of ``since`` (when ``what`` happened), its session ended
    by its transport closing."""
    code, err = stopped
    assert code == 0 and "Traceback" not in err, err
    assert running
    assert summary is not None, "no session summary while the command ran"
    read_at, record = summary
    assert read_at - since < BOUND, f"the summary came {read_at - since:.2f} s after {what}"
    assert record["end_reason"] == "transport closed"
    return record


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
def test_summary_arrives_when_the_client_leaves(py_server: Server) -> None:
    watcher = capturing(py_server.port)
    try:
        ticker = subprocess.run(
            [sys.executable, str(PEERS / "py_ticker.py"), py_server.url, "websocket", "3", "0.2"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        left = time.time()
        assert ticker.returncode == 0, ticker.stderr[-2000:]
        summary = first_summary(watcher, left)
        running = watcher.proc.poll() is None
    finally:
        stopped = watcher.stop()
    record = ended_in_time(summary, left, "the client left", running, stopped)
    assert record["events_c2s"] == 3
    closes = [r for _, r in records(watcher) if r.get("type") == "transport-close"]
    assert [r["sid"] for r in closes] == [record["sid"]]


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
def test_summary_arrives_when_a_polling_client_is_killed(node_server: Server) -> None:
    watcher = capturing(node_server.port)
    client = None
    try:
        client = subprocess.Popen(
            [sys.executable, str(PEERS / "py_ticker.py"), node_server.url, "polling", "50", "0.2"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdout is not None
        assert client.stdout.readline().startswith("SENT 0"), "the client did not emit"
        time.sleep(0.3)  # its next long poll is out, waiting
        client.send_signal(signal.SIGKILL)
        killed = time.time()
        client.wait(10)
        summary = first_summary(watcher, killed)
        running = watcher.proc.poll() is None
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        stopped = watcher.stop()
    record = ended_in_time(summary, killed, "the kill", running, stopped)
    assert record["transports"] == ["polling-xhr"]
    closes = [r for _, r in records(watcher) if r.get("type") == "transport-close"]
    assert [(r["sid"], r["transport"]) for r in closes] == [(record["sid"], "polling")]
    message = closes[0]["message"]
    assert isinstance(message, str) and message.startswith("a poll left unanswered: the ")


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
@pytest.mark.skipif(not node_ok(), reason="node or tests/node/node_modules missing")
def test_a_silent_polling_client_ends_ping_timeout_while_the_capture_runs() -> None:
    server = Server(["node", "sio_server.js", "0"], env={"IOPROTO_PEER_PING": "300,200"})
    watcher = capturing(server.port)
    clients: list[subprocess.Popen[str]] = []
    try:
        for count in ("50", "40"):  # the first is frozen; the second keeps packets coming
            client = subprocess.Popen(
                [sys.executable, str(PEERS / "py_ticker.py"), server.url, "polling", count, "0.2"],
                stdout=subprocess.PIPE,
                text=True,
            )
            clients.append(client)
            assert client.stdout is not None
            assert client.stdout.readline().startswith("SENT 0"), "the client did not emit"
        clients[0].send_signal(signal.SIGSTOP)
        frozen = time.time()
        # its server's wait (0.5 s), the grace (1 s), the clock's tick (up to 1 s)
        summary = first_summary(watcher, frozen)
        running = watcher.proc.poll() is None
    finally:
        for client in clients:
            client.kill()
            client.wait(10)
        stopped = watcher.stop()
        server.stop()
    code, err = stopped
    assert code == 0 and "Traceback" not in err, err
    assert running, "the command had stopped"
    assert summary is not None, "no session summary while the command ran"
    read_at, record = summary
    assert read_at - frozen < 0.5 + 1.0 + 1.0 + 1.0, f"{read_at - frozen:.2f} s after the freeze"
    assert record["end_reason"] == "ping timeout"
    closes = [r for _, r in records(watcher) if r.get("type") == "transport-close"]
    assert [r["sid"] for r in closes][:1] == [record["sid"]]
    message = closes[0]["message"]
    assert isinstance(message, str) and message.startswith("the client went silent: ")
    # it ended at its server's wait, before the command said so
    assert isinstance(record["ts"], float) and record["ts"] < read_at - 1.0
