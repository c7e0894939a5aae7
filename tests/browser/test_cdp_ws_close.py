"""A session captured from a real browser ends when its WebSocket closes, while the capture
still runs: ``ioproto decode cdp:…`` attached to a real headless Chromium whose page holds a
Socket.IO session (socket.io 4.8.1, upgraded to WebSocket, or polling only) until the page
disconnects, the server is killed, or the page is closed, crashes or navigates away.

Chromium reports no close frames, only ``Network.webSocketClosed``, and nothing at all of
the WebSockets and polls of a page closed or navigated away, only that (the target
detaches; ``Page.frameNavigated``): plugins/ioproto_browser/network.py says what it reports
when. The ``cdp`` source makes a ``ws-end`` (or, of a waiting poll, an ``http-unanswered``)
of it, which the Engine.IO layer turns into the session's ``transport-close``: its close
code unknown, at the time the browser reported the end. The session's summary says
``transport closed`` and comes then, not when the capture stops.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from browserhelp import chromium, start_server, wait_title
from clirun import start_ioproto
from ioproto_browser.network import BROWSER_CLOSED, PAGE_CLOSED, PAGE_CRASHED, PAGE_NAVIGATED

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


def close_page(page: Any, server: Any) -> None:
    page.close()


def crash(page: Any, server: Any) -> None:
    with contextlib.suppress(Exception):  # the navigation is aborted: the renderer is gone
        page.goto("chrome://crash", timeout=5000)


def leave(page: Any, server: Any) -> None:
    page.goto("about:blank")


def reload(page: Any, server: Any) -> None:
    page.reload()  # the new page's session is another one, open until the capture ends


def another_page(page: Any, server: Any) -> None:
    page.goto(server.url + "/socket.io.js")


POLL_CUT = "a poll left unanswered: "
ENDS = [
    # (query, what ends it, the transport-close's transport and message)
    ("stay=1", disconnect, "websocket", BROWSER_CLOSED),
    ("stay=1", kill_server, "websocket", BROWSER_CLOSED),
    ("stay=1", close_page, "websocket", PAGE_CLOSED),
    ("stay=1", crash, "websocket", PAGE_CRASHED),
    ("stay=1", leave, "websocket", PAGE_NAVIGATED),
    ("stay=1", reload, "websocket", PAGE_NAVIGATED),
    ("stay=1&polling=1", close_page, "polling", POLL_CUT + PAGE_CLOSED),
    ("stay=1&polling=1", another_page, "polling", POLL_CUT + PAGE_NAVIGATED),
    ("stay=1&polling=1", crash, "polling", POLL_CUT + PAGE_CRASHED),
]
IDS = [
    "disconnect",
    "server-killed",
    "tab-closed",
    "tab-crashed",
    "navigated-away",
    "reloaded",
    "polling-tab-closed",
    "polling-navigated-away",
    "polling-tab-crashed",
]


@pytest.mark.parametrize(("query", "end", "transport", "message"), ENDS, ids=IDS)
def test_the_session_ends_when_the_browser_reports_its_transport_gone(
    tmp_path: Path, query: str, end: Any, transport: str, message: str
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
                page.goto(f"{server.url}/?{query}")
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
    assert closed["sid"] == sid and closed["transport"] == transport
    assert closed["code"] is None and closed["message"] == message
    assert closed["connection"].startswith("cdp:")
    # At the browser's time of the close: after the action, not at the capture's end.
    assert ended_at - 0.05 <= closed["ts"] <= ended_at + 5, (ended_at, closed["ts"])
    assert summary["ts"] == closed["ts"]
    # Nothing more of the session at the end of the capture (no second summary; a reload's
    # new session ends then).
    assert [s for s in summaries(records_of(out)) if s["sid"] == sid] == [summary]
