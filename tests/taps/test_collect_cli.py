"""``ioproto collect`` as a user runs it: a real tapped server, records on stdout as they come."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
from clirun import run_ioproto, start_ioproto
from livehelp import node_ok, run_client
from taphelp import tapped_server


def collect(*args: str) -> subprocess.CompletedProcess[str]:
    return run_ioproto("collect", *args)


def test_a_bad_listen_address_is_a_usage_error() -> None:
    done = collect("--listen", "nowhere")
    assert done.returncode == 2
    assert "is not HOST:PORT" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("file/x.sock", "{tmp}/file is a file, not a folder; pick another with --listen unix:PATH"),
        ("no/x.sock", "the folder {tmp}/no does not exist; create it or pick another with"),
        ("/proc/x.sock", "the folder /proc takes no new files; pick another with --listen unix:"),
    ],
    ids=["under-a-file", "no-folder", "proc"],
)
def test_a_unix_socket_path_that_cannot_be_made_says_why(
    tmp_path: Path, where: str, why: str
) -> None:
    """One line naming the path and what to do, exit 2: not a bare "Not a directory"."""
    (tmp_path / "file").write_text("")
    path = tmp_path / where
    done = collect("--listen", f"unix:{path}", "--duration", "1s")
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"ioproto: error: cannot listen on unix:{path}: "), done.stderr
    assert why.format(tmp=tmp_path) in done.stderr and done.stderr.count("\n") == 1, done.stderr


@pytest.mark.node
def test_collect_decodes_a_tapped_node_server_live() -> None:
    if not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    collect = start_ioproto(
        "collect", "--listen", "127.0.0.1:0", "--sink", "jsonl", "--duration", "60",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
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


HOW_TO_TAP = (
    "instrument a server with ioproto_tap (docs/taps.md) and have it report there "
    "($IOPROTO_COLLECTOR), or try `ioproto demo --tap`"
)


def test_a_run_no_tap_connected_to_says_so(tmp_path: Path) -> None:
    """Not "the collect source found nothing to decode in it": which address waited for
    a tap, and how to get one there. The line starts with the input, which names the
    addresses: it said them twice ("collect:127.0.0.1:P: no tap connected to
    127.0.0.1:P")."""
    socket_path = tmp_path / "tap.sock"
    listen = ["--listen", "127.0.0.1:0", "--listen", f"unix:{socket_path}"]
    done = collect(*listen, "--duration", "0.5s")
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("ioproto: collecting tap streams on "), lines
    port = re.search(r"127\.0\.0\.1:(\d+)", lines[0])
    assert port is not None, lines[0]
    # Only the port 0 stood for is said again.
    expected = (
        f"ioproto: collect:127.0.0.1:0,unix:{socket_path}: no tap connected "
        f"(listening on 127.0.0.1:{port.group(1)}); {HOW_TO_TAP}"
    )
    assert expected == lines[1]


def test_a_run_no_tap_connected_to_names_its_address_once(tmp_path: Path) -> None:
    socket_path = tmp_path / "tap.sock"
    done = collect("--listen", f"unix:{socket_path}", "--duration", "0.5s")
    assert done.returncode == 0, done.stderr
    expected = f"ioproto: collect:unix:{socket_path}: no tap connected; {HOW_TO_TAP}"
    assert expected == done.stderr.splitlines()[-1]
