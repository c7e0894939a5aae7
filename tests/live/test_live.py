"""The ``live`` source: tcpdump on loopback, decoded while a real Node client talks to a real
Node server; and a clear message (no traceback) when capturing is not allowed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from clirun import start_ioproto
from ioproto_http.records import Chunk, ChunkKind
from ioproto_live.source import LiveSource, capture_filter
from livehelp import Server, run_client

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
    """One reason, said once: libpcap's "No such device exists (No such device exists)"
    loses its repetition."""
    with pytest.raises(UsageError, match=r"nosuchif0.*`ip link` lists the interfaces") as raised:
        list(LiveSource().open("live:nosuchif0", SourceContext()))
    assert str(raised.value).count("No such device") <= 1, raised.value


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
    proc = start_ioproto(
        "decode", "live:lo", "--port", str(node_server.port), "--sink", f"jsonl:{out}",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
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
    proc = start_ioproto(
        "dashboard", "--no-browser", "live:lo", "--port", str(node_server.port),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        said = [proc.stderr.readline(), proc.stderr.readline()]
        # The URL once the capture runs: an interface that does not exist is one line.
        assert "capturing on lo" in said[0] and "serving http://" in said[1], said
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


def _fake_tcpdump(tmp_path: Path, body: str) -> tuple[Path, Path]:
    """A ``tcpdump`` program that writes its pid (the one ``body`` keeps with ``exec``) to a
    file, then runs ``body``; returns the program and the pid file."""
    pid_file = tmp_path / "tcpdump.pid"
    program = tmp_path / "tcpdump"
    program.write_text(f"#!/bin/bash\necho $$ > {pid_file}\n{body}\n")
    program.chmod(0o755)
    return program, pid_file


def _gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether process ``pid`` has ended (gone, or a zombie) within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


STARTS = {
    # never says "listening on": the source is still waiting for it when the signal comes
    "silent": "exec sleep 60",
    # a real tcpdump whose "listening on" comes 3 s late (a slow start)
    "slow": 'exec /usr/bin/tcpdump "$@" 2> >(sleep 3; exec cat >&2)',
}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("start", sorted(STARTS))
def test_a_signal_while_tcpdump_starts_stops_it(tmp_path: Path, start: str, signum: int) -> None:
    """Ctrl-C or SIGTERM before tcpdump says it listens is a clean stop (status 0, saying
    so) that leaves no tcpdump running."""
    if start == "slow" and not can_capture():
        pytest.skip("needs root to capture")
    program, pid_file = _fake_tcpdump(tmp_path, STARTS[start])
    argv = ["decode", "live:lo", "--port", "9", "--source-option", f"tcpdump={program}"]
    proc, pid = _start_cli(argv, pid_file)
    try:
        time.sleep(0.3)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=20)
        assert _gone(pid), f"tcpdump ({pid}) still runs"
    finally:
        _end_group(pid)
    assert proc.returncode == 0, err
    assert (
        err == "ioproto: live:lo: stopped before tcpdump was capturing on lo (tcp and (port 9))\n"
    )


def test_a_second_signal_while_tcpdump_ends_kills_it(tmp_path: Path) -> None:
    """A tcpdump that does not end when told to is killed by a second Ctrl-C, not left."""
    program, pid_file = _fake_tcpdump(tmp_path, "trap '' TERM\nexec sleep 60")
    argv = ["decode", "live:lo", "--port", "9", "--source-option", f"tcpdump={program}"]
    proc, pid = _start_cli(argv, pid_file)
    try:
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)  # the source now waits for the tcpdump that ignored the stop
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
        assert _gone(pid), f"tcpdump ({pid}) still runs"
    finally:
        _end_group(pid)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def _start_cli(argv: list[str], pid_file: Path) -> tuple[subprocess.Popen[str], int]:
    """``ioproto ARGV`` running, once the fake tcpdump it started has written its pid."""
    proc = start_ioproto(*argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"no tcpdump started: {proc.communicate()}")
        time.sleep(0.02)
    return proc, int(pid_file.read_text())


def _end_group(pid: int) -> None:
    """Kill what is left of the fake tcpdump's process group (its delayed-stderr helper;
    the source starts tcpdump in a session of its own, so the group is its pid)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
