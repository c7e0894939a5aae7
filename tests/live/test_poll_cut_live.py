"""On a live source a polling session whose client dies shows its summary at once.

A real socket.io server (``peers/sio_server.js``) and a real python-socketio client over
polling only (``peers/py_ticker.py``), killed with SIGKILL while its long poll waits: no
Engine.IO ``close`` is ever sent, the kernel closes the client's connections and the server
ends the session ("transport error"). ``ioproto decode live:lo --sink jsonl``, its standard
output a pipe read line by line while it runs, must give the session's ``transport-close``
and summary within a second of the kill, not at Ctrl-C.
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
from livehelp import PEERS, Server

BOUND = 1.0


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
def test_summary_arrives_when_a_polling_client_is_killed(node_server: Server) -> None:
    watcher = LineWatcher(
        [*IOPROTO, "decode", "--sink", "jsonl", "live:lo", "--port", str(node_server.port)]
    )
    client = None
    try:
        line = watcher.stderr_line()
        assert "capturing on lo" in line, line
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
        deadline = killed + 5
        summary = None
        while time.time() < deadline and summary is None:
            time.sleep(0.05)
            summary = next(
                (
                    (at, record)
                    for at, record in ((at, json.loads(text)) for at, text in list(watcher.lines))
                    if record.get("type") == "summary"
                ),
                None,
            )
        running = watcher.proc.poll() is None
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        code, err = watcher.stop()
    assert code == 0 and "Traceback" not in err, err
    assert running
    assert summary is not None, "no session summary while the command ran"
    read_at, record = summary
    assert read_at - killed < BOUND, f"the summary came {read_at - killed:.2f} s after the kill"
    assert record["end_reason"] == "transport closed"
    assert record["transports"] == ["polling-xhr"]
    closes = [json.loads(text) for _, text in watcher.lines if '"transport-close"' in text]
    assert [(r["sid"], r["transport"]) for r in closes] == [(record["sid"], "polling")]
    assert closes[0]["message"].startswith("a poll left unanswered: the connection")
