"""A session captured from a real browser ends when its WebSocket closes, while the capture
still runs: ``ioproto decode cdp:…`` attached to a real headless Chromium whose page holds a
Socket.IO session (socket.io 4.8.1, upgraded to WebSocket) until the page disconnects or
the server is killed.

Chromium reports no close frames, only ``Network.webSocketClosed``
(plugins/ioproto_browser/network.py says what it reports when); the ``cdp`` source makes a
``ws-end`` of it, which the Engine.IO layer turns into the session's ``transport-close``:
its close code unknown, at the time the browser reported the close. The session's summary
says ``transport closed`` and comes then, not when the capture stops.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from browserhelp import chromium, start_server, wait_title
from clirun import start_ioproto
from ioproto_browser.network import BROWSER_CLOSED

pytestmark = [pytest.mark.browser, pytest.mark.node]


def records_of(path: Path) -> list[dict[str, Any]]:
    text = path.read_text() if path.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.endswith("}")]


def summaries(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in records if r["layer"] == "session" and r["type"] == "summary"]


def disconnect(page: Any, server: Any) -> None:
    page.evaluate("window.staying.disconnect()")


def kill_server(page: Any, server: Any) -> None:
    server.proc.kill()  # SIGKILL: no close frame, no Engine.IO close


@pytest.mark.parametrize("end", [disconnect, kill_server], ids=["disconnect", "server-killed"])
def test_the_session_ends_when_the_browser_reports_its_websocket_closed(
    tmp_path: Path, end: Any
) -> None:
    server = start_server("node4")
    out = tmp_path / "records.jsonl"
    try:
        with chromium(tmp_path) as (context, endpoint):
            proc = start_ioproto(
                "decode", "--proto", "socketio", endpoint, "--sink", f"jsonl:{out}",
                "--sink-option", "jsonl.flush=true",
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                assert proc.stderr is not None
                attached = proc.stderr.readline()
                assert attached.startswith("ioproto: attached to "), attached
                page = context.new_page()
                page.goto(server.url + "/?stay=1")
                wait_title(page, "ready")
                page.wait_for_timeout(300)  # the ack's frames are reported
                assert summaries(records_of(out)) == []  # the session is open
                ended_at = time.time()
                end(page, server)
                deadline = time.monotonic() + 20
                while not summaries(records_of(out)):
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "no summary while the capture ran"
                    time.sleep(0.1)
                assert proc.poll() is None  # the capture still runs: it ended the session
                seen = records_of(out)
            finally:
                proc.send_signal(signal.SIGINT)
                _, stderr = proc.communicate(timeout=30)
    finally:
        server.stop()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    (summary,) = summaries(seen)
    assert summary["end_reason"] == "transport closed"
    sid = summary["sid"]
    (closed,) = [r for r in seen if r["type"] == "transport-close"]
    assert closed["sid"] == sid and closed["transport"] == "websocket"
    assert closed["code"] is None and closed["message"] == BROWSER_CLOSED
    assert closed["connection"].startswith("cdp:")
    # At the browser's time of the close: after the action, not at the capture's end.
    assert ended_at - 0.05 <= closed["ts"] <= ended_at + 5, (ended_at, closed["ts"])
    assert summary["ts"] == closed["ts"]
    # Nothing more of the session at the end of the capture (no second summary).
    assert summaries(records_of(out)) == [summary]
