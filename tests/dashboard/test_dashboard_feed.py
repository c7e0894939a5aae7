"""Where the page says the records come from (``meta.mode``): ``live`` when the sink is told
its records come from a live source (``SinkContext.live``), wherever it is opened; a file
otherwise, however recent its records. Never a guess from the records' times."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from dashhelp import CHAT, SINK, Dashboard
from ioproto_dashboard.hub import Feed, Hub
from livehelp import Server, run_client

import ioproto

#: Longer than the old guess's reach: records this far from the clock were not "live".
QUIET = 11.0


def retimed(capture: Path, out: Path, last: float) -> Path:
    """``capture`` (classic little-endian pcap, microseconds) with its packets moved in
    time so that the last one is at ``last``: the capture as if just made."""
    data = capture.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", "a classic little-endian pcap"
    headers = []
    offset = 24
    while offset < len(data):
        seconds, micros, length, _ = struct.unpack_from("<IIII", data, offset)
        headers.append((offset, seconds + micros / 1e6))
        offset += 16 + length
    shift = last - headers[-1][1]
    moved = bytearray(data)
    for offset, ts in headers:
        micros = round((ts + shift) * 1e6)
        struct.pack_into("<II", moved, offset, micros // 1_000_000, micros % 1_000_000)
    out.write_bytes(bytes(moved))
    return out


def test_a_capture_just_made_is_shown_as_a_file(
    dashboard: Callable[..., Dashboard], tmp_path: Path
) -> None:
    """``tcpdump -w x.pcap``, Ctrl-C, ``ioproto decode x.pcap --sink dashboard``: the
    records are seconds old, but a file's; the page says so, and its clock is the
    records' own (it does not run on with the wall clock, ending sessions)."""
    fresh = retimed(CHAT, tmp_path / "fresh.pcap", last=time.time())
    for command in ("decode", "monitor"):
        board = dashboard([*SINK, str(fresh)], command=command)
        snapshot = board.wait_finished()
        meta = snapshot["meta"]
        assert meta["mode"] == "file", command
        assert meta["now"] == meta["last_ts"]
        assert time.time() - meta["last_ts"] < 10  # the records are recent
        assert snapshot["sessions"]["ends"] == {"disconnected": 3}  # as in the capture
        board.stop()
        assert board.proc.returncode == 0


def test_the_dashboard_command_replays_a_capture_just_made(
    dashboard: Callable[..., Dashboard], tmp_path: Path
) -> None:
    fresh = retimed(CHAT, tmp_path / "fresh.pcap", last=time.time())
    board = dashboard(["--speed", "2", str(fresh)])
    assert board.wait_finished()["meta"]["mode"] == "replay"


def test_a_live_source_whose_clock_is_behind_keeps_its_sessions_open() -> None:
    """A live source whose records carry another clock's time (``ioproto collect`` from a
    tap on a host whose clock is two minutes behind): its sessions stay open as long as
    their traffic says, and capture time moves on from the latest record, not from this
    machine's clock."""
    records = list(ioproto.decode(str(CHAT), proto="socketio"))[:60]  # sessions still open
    behind = time.time() - 120 - records[-1].ts
    as_file = Hub()
    live = Hub(feed=Feed(live=True), interval=0.05)
    for record in records:
        as_file.write(record)
        live.write(attrs.evolve(record, ts=record.ts + behind))
    as_file.finish()
    expected = json.loads(as_file.published.snapshot)["sessions"]
    assert expected["open"] > 0
    time.sleep(0.3)
    live.refresh()  # as the server asks a quiet live pipeline to publish
    snapshot = json.loads(live.published.snapshot)
    meta = snapshot["meta"]
    assert meta["mode"] == "live" and not meta["finished"]
    assert snapshot["sessions"]["open"] == expected["open"]
    assert snapshot["sessions"]["ends"] == expected["ends"]
    assert 0.3 <= meta["now"] - meta["last_ts"] < 5


def _can_capture() -> str | None:
    if shutil.which("tcpdump") is None:
        return "tcpdump missing"
    if os.geteuid() != 0:
        return "needs root to capture"
    return None


def _meta(base: str) -> dict[str, Any]:
    """The ``meta`` of the page at ``base`` now."""
    with urllib.request.urlopen(base + "api/snapshot", timeout=30) as response:
        meta: dict[str, Any] = json.loads(response.read())["meta"]
        return meta


def _settled(base: str) -> dict[str, Any]:
    """The ``meta`` of the page at ``base`` once its count of records has not moved for a
    second."""
    deadline = time.monotonic() + 30
    meta = _meta(base)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        before, meta = meta, _meta(base)
        if meta["records"] == before["records"]:
            return meta
    raise AssertionError(f"the records did not stop coming: {meta}")


def _follows_the_wire_gone_quiet(base: str) -> None:
    """Once a client's traffic is on the page at ``base``: still live, its clock moving
    on, :data:`QUIET` seconds after the last packet."""
    meta = _settled(base)
    assert meta["records"] > 10 and meta["mode"] == "live"
    time.sleep(QUIET)  # nothing more on the wire: the client has gone
    meta = _meta(base)
    assert meta["mode"] == "live" and not meta["finished"]
    assert meta["now"] - meta["last_ts"] > QUIET


@pytest.mark.capture
@pytest.mark.slow
def test_a_live_capture_is_live_from_the_start_and_while_the_wire_is_quiet(
    dashboard: Callable[..., Dashboard],
) -> None:
    """``ioproto monitor live:lo --port P --sink dashboard`` with a real python-socketio
    server and client: live before the first packet, with it, and when the wire has been
    quiet for longer than a few seconds: the page's clock runs on (the charts scroll, idle
    sessions end). Guessed from the records' times, it stopped 10 s after the last packet."""
    missing = _can_capture()
    if missing:
        pytest.skip(missing)
    server = Server([sys.executable, "py_server.py", "0"])
    try:
        args = [*SINK, "live:lo", "--port", str(server.port)]
        board = dashboard(args, command="monitor", lines=5)
        assert board.get("api/snapshot")["meta"]["mode"] == "live"  # before any packet
        time.sleep(0.5)  # tcpdump has started; give it a moment to be capturing
        run_client("py", server.url, "websocket")
        _follows_the_wire_gone_quiet(board.base)
        stderr = board.stop()
        assert board.proc.returncode == 0, stderr
    finally:
        server.stop()


#: The live tests' python-socketio peer server with the in-process tap decoding into the
#: dashboard (``sinks=``), which says where it serves on stdout here, after ``READY``.
TAPPED = """
import asyncio, os, ioproto_tap, py_server
ioproto_tap.instrument(py_server.sio, sinks=["dashboard:" + os.environ["TAPPED_DASHBOARD"]])
asyncio.run(py_server.main(0))
"""

#: No browser is opened where there is no display.
NO_DISPLAY = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}


@pytest.mark.slow
def test_an_in_process_tap_shows_its_records_live() -> None:
    """``ioproto_tap.instrument(sio, sinks=["dashboard"])`` in a real python-socketio
    server, a real client: the page is live, and stays so while the server is quiet."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    server = Server([sys.executable, "-c", TAPPED], env={**NO_DISPLAY, "TAPPED_DASHBOARD": address})
    try:
        run_client("py", server.url, "websocket")
        _follows_the_wire_gone_quiet(f"http://{address}/")
    finally:
        server.stop()


def test_a_pipe_on_stdin_is_live_and_a_file_redirected_in_is_a_file(tmp_path: Path) -> None:
    """``tcpdump -U -w - | ioproto decode - --sink dashboard``: the command reads a pipe as
    live traffic (docs/cli.md), and tells its sinks so; when the pipe ends by itself the
    page holds on until Ctrl-C. ``< x.pcap`` is a file."""
    import subprocess

    from clirun import start_ioproto

    def served(proc: subprocess.Popen[bytes]) -> str:
        assert proc.stderr is not None
        for _ in range(3):
            found = re.search(rb"serving (http://\S+)", proc.stderr.readline())
            if found is not None:
                return found.group(1).decode().split("?", 1)[0]
        raise AssertionError("the dashboard did not start")

    def meta(base: str) -> dict[str, Any]:
        with urllib.request.urlopen(base + "api/snapshot", timeout=30) as response:
            snapshot: dict[str, Any] = json.loads(response.read())
        return snapshot["meta"]

    piped = start_ioproto(
        "decode", *SINK, "-", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert piped.stdin is not None
        piped.stdin.write(CHAT.read_bytes())  # the writer stays: more may come
        piped.stdin.flush()
        base = served(piped)
        deadline = time.monotonic() + 30
        while meta(base)["last_ts"] is None and time.monotonic() < deadline:
            time.sleep(0.1)
        shown = meta(base)
        assert (shown["mode"], shown["finished"]) == ("live", False)
        # The writer is done (`zcat old.pcap.gz |` ends by itself): the page holds on, as
        # after a file, until Ctrl-C; only a live source's stop is the user's.
        piped.stdin.close()
        while not meta(base)["finished"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert meta(base)["finished"] and piped.poll() is None
    finally:
        piped.kill()
        piped.wait(30)
        for stream in (piped.stdin, piped.stdout, piped.stderr):
            if stream is not None:
                stream.close()
    with CHAT.open("rb") as redirected:
        proc = start_ioproto(
            "decode", *SINK, "-", stdin=redirected, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            assert meta(served(proc))["mode"] == "file"
        finally:
            proc.kill()
            proc.communicate()
