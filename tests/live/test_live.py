"""The ``live`` source: tcpdump on loopback, decoded while a real Node client talks to a real
Node server; and a clear message (no traceback) when capturing is not allowed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ioproto_http.records import Chunk, ChunkKind
from ioproto_live.source import LiveSource, capture_filter
from livehelp import PEERS, Server, run_client

import ioproto
from ioproto.components import SourceContext
from ioproto.errors import UsageError
from ioproto.model import Record

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")


def can_capture() -> bool:
    return os.geteuid() == 0


def test_filter() -> None:
    assert capture_filter(None, None) == "tcp"
    assert capture_filter([3000, 3001], None) == "tcp and (port 3000 or port 3001)"
    assert capture_filter({8080}, "host 127.0.0.1") == "tcp and (port 8080) and (host 127.0.0.1)"


def test_probe() -> None:
    assert LiveSource().probe("live:lo") > 0
    assert LiveSource().probe("iface:eth0") > 0
    assert LiveSource().probe("capture.pcap") < 0


def test_no_permission_is_a_clear_error(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "tcpdump"
    fake.write_text(
        '#!/bin/sh\necho "tcpdump: lo: You don\'t have permission to capture on that device" >&2'
        "\necho '(socket: Operation not permitted)' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    with pytest.raises(UsageError) as raised:
        list(LiveSource().open("live:lo", SourceContext(options={"tcpdump": str(fake)})))
    message = str(raised.value)
    assert "setcap cap_net_raw,cap_net_admin=eip" in message and "root" in message
    assert "\n" not in message and capfd.readouterr().err == ""


def test_unknown_interface() -> None:
    with pytest.raises(UsageError, match=r"nosuchif0.*`ip link` lists the interfaces"):
        list(LiveSource().open("live:nosuchif0", SourceContext()))


@pytest.mark.node
@pytest.mark.capture
@pytest.mark.skipif(not can_capture(), reason="needs root to capture")
def test_live_capture_of_real_traffic(node_server: Server) -> None:
    records: list[Record] = []
    options = {"port": [node_server.port], "duration": 4}

    def consume() -> None:
        # The live source gives TCP byte streams; the http layer makes the chunks.
        records.extend(ioproto.decode("live:lo", proto="chunk", source_options=options))

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(1.0)
    result = run_client("node", node_server.url, "default")
    assert result["binary"] == [250, 3, 2, 1]
    thread.join(20)
    assert not thread.is_alive()
    chunks = [r for r in records if isinstance(r, Chunk)]
    kinds = {c.kind for c in chunks}
    assert {ChunkKind.HTTP_REQUEST, ChunkKind.HTTP_RESPONSE, ChunkKind.WS_TEXT} <= kinds
    assert any(c.kind is ChunkKind.WS_BINARY and c.data == b"\x01\x02\x03\xfa" for c in chunks)
    assert all(c.connection and c.connection.endswith(f":{node_server.port}") for c in chunks)


@pytest.mark.node
@pytest.mark.capture
@pytest.mark.skipif(not can_capture(), reason="needs root to capture")
def test_monitor_live_stops_cleanly_on_sigint(node_server: Server, tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(PEERS / "ioproto_cli.py"),
            "decode",
            "live:lo",
            "--port",
            str(node_server.port),
            "--sink",
            f"jsonl:{out}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "capturing on lo" in line, line
    run_client("node", node_server.url, "websocket")
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    text = out.read_text()
    assert '"EVENT"' in text and "echo" in text


@pytest.mark.node
@pytest.mark.capture
@pytest.mark.skipif(not can_capture(), reason="needs root to capture")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_one_signal_ends_a_live_dashboard(node_server: Server, signum: int) -> None:
    """The page outlives a file's end, not a live capture's stop: one Ctrl-C or SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, str(PEERS / "ioproto_cli.py"), "dashboard", "--no-browser",
         "live:lo", "--port", str(node_server.port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        said = [proc.stderr.readline(), proc.stderr.readline()]
        assert "capturing on lo" in said[-1], said
        run_client("node", node_server.url, "websocket")
        time.sleep(0.5)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "showing it until Ctrl-C" not in err
