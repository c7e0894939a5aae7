"""``ioproto collect`` as a user runs it: a real tapped server, records on stdout as they come."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time

import pytest
from livehelp import node_ok, run_client
from taphelp import tapped_server

COMMAND = [sys.executable, "-m", "ioproto"]


def test_a_bad_listen_address_is_a_usage_error() -> None:
    done = subprocess.run(
        [*COMMAND, "collect", "--listen", "nowhere"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "is not HOST:PORT" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.node
def test_collect_decodes_a_tapped_node_server_live() -> None:
    if not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    collect = subprocess.Popen(
        [*COMMAND, "collect", "--listen", "127.0.0.1:0", "--sink", "jsonl", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert collect.stderr is not None and collect.stdout is not None
        address = re.search(r"on (127\.0\.0\.1:\d+)", collect.stderr.readline())
        assert address
        server = tapped_server("node", address.group(1))
        try:
            run_client("node", server.url, "websocket")
            # live: the records are there before the collector stops
            deadline = time.monotonic() + 20
            events = []
            while time.monotonic() < deadline and not events:
                record = json.loads(collect.stdout.readline())
                if record["layer"] == "socketio" and record["type"] == "EVENT":
                    events.append(record)
        finally:
            server.stop()
        assert events and events[0]["transport"] == "websocket"
    finally:
        collect.terminate()
        collect.communicate(timeout=30)  # reads the rest, so the pipe never blocks it
    assert collect.returncode == 0
