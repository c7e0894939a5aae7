"""The cdp source follows a real browser's tabs: new tabs (also ones the page opens),
reloads, a closed tab and a crashed one (their WebSockets end with them), and a browser
killed under it; and ``--har`` writes a HAR that ioproto reads back to the same records."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import urllib.request
from pathlib import Path

import attrs
import pytest
from browserhelp import Capture, chromium, start_server, wait_title
from ioproto_browser.network import PAGE_CLOSED, PAGE_CRASHED
from ioproto_har.source import HarSource
from ioproto_http.records import Chunk, WebSocketEnd
from taphelp import decode

from ioproto.components import SourceContext
from ioproto.model import ErrorRecord, InputSummary, Record

pytestmark = [pytest.mark.browser, pytest.mark.node]


def sessions_by_tab(records: list[Record]) -> dict[str, set[str]]:
    """``{tab prefix: {Engine.IO sids}}`` from the decoded records."""
    tabs: dict[str, set[str]] = {}
    for record in decode(records):
        if record.layer == "engineio" and record.sid and record.connection:
            tab = record.connection.split("/", 1)[0]
            tabs.setdefault(tab, set()).add(record.sid)
    return tabs


def errors(records: list[Record]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for record in records:
        if isinstance(record, ErrorRecord):
            found.setdefault(record.rule, []).append(record.reason)
    return found


def test_two_tabs_a_popup_and_a_reload(tmp_path: Path) -> None:
    server = start_server("node4")
    try:
        with chromium(tmp_path) as (context, endpoint):
            capture = Capture(endpoint)
            capture.wait_ready()
            first = context.new_page()
            first.goto(server.url + "/?short=1")
            wait_title(first)
            with context.expect_page() as opened:
                first.evaluate("window.open('/?short=1&popup=1')")
            popup = opened.value
            wait_title(popup)
            first.reload()
            wait_title(first)
            first.wait_for_timeout(300)
        records = capture.finish()
    finally:
        server.stop()
    tabs = sessions_by_tab(records)
    assert sorted(len(sids) for sids in tabs.values()) == [1, 2], tabs  # popup; first + reload
    decoded = decode(records)
    acks = [r for r in decoded if r.layer == "socketio" and r.type == "ACK"]
    assert len(acks) == 6  # two echoes in each of the three page loads
    assert all(r.tag("latency.ack") is not None for r in acks)


def test_a_closed_tab_and_a_crashed_tab(tmp_path: Path) -> None:
    server = start_server("node4")
    try:
        with chromium(tmp_path) as (context, endpoint):
            capture = Capture(endpoint)
            capture.wait_ready()
            closing, crashing = context.new_page(), context.new_page()
            for page, query in ((closing, "stay=1"), (crashing, "stay=1&crash=1")):
                page.goto(f"{server.url}/?{query}")
                wait_title(page, "ready")
            closing.wait_for_timeout(300)
            closing.close()
            crash(endpoint, "crash=1")
            deadline = time.monotonic() + 10
            while "cdp.target.crashed" not in errors(capture.records):
                assert time.monotonic() < deadline, errors(capture.records)
                time.sleep(0.1)
        records = capture.finish()
    finally:
        server.stop()
    found = errors(records)
    (closed,) = found["cdp.target.closed"]
    (crashed,) = found["cdp.target.crashed"]
    # Each tab's WebSocket ended with a record of its own (and its session with it).
    assert "cut off" not in closed and "cut off" not in crashed
    ends = [r for r in records if isinstance(r, WebSocketEnd)]
    assert sorted(end.reason for end in ends) == sorted([PAGE_CLOSED, PAGE_CRASHED])
    assert all(end.code is None for end in ends)
    staying = [r for r in decode(records) if r.layer == "socketio" and r.type == "ACK" and r.args]
    assert [r.args for r in staying] == [[["staying"]], [["staying"]]]  # received before


def test_a_killed_browser_ends_the_capture_with_what_it_had(tmp_path: Path) -> None:
    server = start_server("node4")
    try:
        with chromium(tmp_path) as (context, endpoint):
            capture = Capture(endpoint)
            capture.wait_ready()
            page = context.new_page()
            page.goto(server.url + "/?stay=1")
            wait_title(page, "ready")
            page.wait_for_timeout(300)
            os.kill(_browser_pid(tmp_path / "profile"), signal.SIGKILL)
            records = capture.finish()
    finally:
        server.stop()
    assert list(errors(records)) == ["cdp.connection.lost"]
    assert "1 open WebSocket" in errors(records)["cdp.connection.lost"][0]
    acks = [r for r in decode(records) if r.layer == "socketio" and r.type == "ACK"]
    assert [r.args for r in acks] == [[["staying"]]]


def test_the_har_reads_back_to_the_same_records(tmp_path: Path) -> None:
    """Same chunks from the source and from its HAR, but for the numbering (the HAR source
    numbers after sorting by time) and the connection prefix (``har:`` for ``cdp:``)."""
    server = start_server("node2")
    har = tmp_path / "run.har"
    try:
        with chromium(tmp_path) as (context, endpoint):
            capture = Capture(endpoint, har=str(har))
            capture.wait_ready()
            page = context.new_page()
            page.goto(server.url + "/")
            wait_title(page)
            page.wait_for_timeout(300)
            page.close()
        records = capture.finish()
    finally:
        server.stop()
    ours = sorted((same(r) for r in records if isinstance(r, Chunk)), key=order)
    *read_back, end = HarSource().open(str(har), SourceContext())
    assert isinstance(end, InputSummary)  # the input's end
    theirs = sorted((same(r) for r in read_back), key=order)
    assert len(ours) > 20 and ours == theirs


def same(record: Record) -> Record:
    assert isinstance(record, Chunk), record
    connection = (record.connection or "").replace("har:", "cdp:", 1)
    return attrs.evolve(record, seq=0, connection=connection, ts=round(record.ts, 6))


def order(chunk: Record) -> tuple[float, str, str, str, bytes]:
    """A total order: messages of one connection and direction may share a time."""
    assert isinstance(chunk, Chunk), chunk
    return (chunk.ts, chunk.connection or "", chunk.direction or "", chunk.kind, chunk.data)


def crash(endpoint: str, marker: str) -> None:
    """Crash the tab whose URL has ``marker`` (Page.crash on its own DevTools endpoint; the
    command never gets a reply, so it is sent and left)."""
    from websockets.sync.client import connect

    port = endpoint.rsplit(":", 1)[1]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
        targets = json.load(answer)
    (target,) = [t for t in targets if marker in t.get("url", "") and t["type"] == "page"]
    with connect(target["webSocketDebuggerUrl"], close_timeout=1) as socket:
        socket.send(json.dumps({"id": 1, "method": "Page.crash"}))
        with contextlib.suppress(TimeoutError, Exception):
            socket.recv(timeout=1)


def _browser_pid(profile: Path) -> int:
    """The main Chromium process of ``profile`` (the one without ``--type=``)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        flag = f"--user-data-dir={profile}".encode()
        if flag in argv and not any(arg.startswith(b"--type=") for arg in argv):
            return int(entry.name)
    raise AssertionError("the browser process was not found")
