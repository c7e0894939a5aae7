"""JSON that real servers accept is decoded however deep (issue 11, item 12).

A real Node socket.io 4.8.1 client sends a real server an event nested 500 arrays deep
(acked with the same value) and one nested 5000 deep (which the server counts, as its
``total`` ack shows), captured with tcpdump on the test's own port (peers/deep_client.js).
The old 256-level cap turned them into ``socketio.payload.too-deep``; now the EVENTs and the
ACK decode, and no RecursionError escapes anywhere (sinks included).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import run_ioproto
from livehelp import PEERS, ROOT, Server

import ioproto
from ioproto.model import ErrorRecord

sys.path.insert(0, str(ROOT / "tests" / "peers"))
from capture import Tcpdump

pytestmark = [
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing"),
]


def _depth(value: object) -> int:
    depth = 0
    while isinstance(value, list):
        value, depth = value[0], depth + 1
    return depth


def test_deep_events_a_node_server_answers_are_decoded(node_server: Server, tmp_path: Path) -> None:
    capture = tmp_path / "deep.pcap"
    tcpdump = Tcpdump(capture, node_server.port)
    try:
        done = subprocess.run(
            ["node", "deep_client.js", node_server.url],
            cwd=PEERS,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    finally:
        tcpdump.stop()
    # the reference implementation parsed both (and answered the echo with its value)
    assert json.loads(done.stdout) == {"echo": 500, "counted": 1}

    records = list(ioproto.decode(str(capture), proto="socketio"))
    events = {r.event: r for r in records if r.layer == "socketio" and r.type == "EVENT"}
    assert _depth(events["echo"].args[0]) == 500  # type: ignore[attr-defined]
    assert _depth(events["count"].args[0]) == 5000  # type: ignore[attr-defined]
    acks = {
        r.answers.event: r  # type: ignore[attr-defined]
        for r in records
        if r.layer == "socketio" and r.type == "ACK"
    }
    assert _depth(acks["echo"].args[0][0]) == 500  # type: ignore[attr-defined]
    assert acks["total"].args == [1]  # type: ignore[attr-defined]
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    assert not [e for e in errors if e.rule.startswith("socketio.")], errors

    # every sink takes them (text and monitor render, jsonl serialises)
    for sink in ("jsonl", "text", "monitor"):
        result = run_ioproto("decode", "--sink", sink, str(capture))
        assert result.returncode == 0, (sink, result.stderr[-2000:])
        assert "RecursionError" not in result.stdout + result.stderr
