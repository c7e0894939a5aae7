"""``ioproto browse`` as a person runs it: its own headless Chromium on a page, live
output, Ctrl-C, a HAR; and a user's mistakes end with exit 2 and one line."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from browserhelp import need_chromium, start_server
from clirun import run_ioproto, start_ioproto


def browse(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_ioproto("browse", *args, timeout=timeout, env={"NO_COLOR": "1"})


@pytest.mark.browser
@pytest.mark.node
def test_browse_shows_the_pages_traffic_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    need_chromium()
    server = start_server("node4")
    out, har = tmp_path / "records.jsonl", tmp_path / "run.har"
    try:
        proc = start_ioproto(
            "browse", server.url + "/", "--sink", "monitor", "--sink", f"jsonl:{out}",
            "--sink-option", "jsonl.flush=true", "--har", str(har), "--no-color",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={"PYTHONFAULTHANDLER": "1"},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while b'"again"' not in _read(out):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the page's traffic did not show up"
            time.sleep(0.2)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        try:
            stdout, stderr = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # Where did it hang? faulthandler (PYTHONFAULTHANDLER) prints every thread's
            # stack on SIGABRT.
            proc.send_signal(signal.SIGABRT)
            stdout, stderr = proc.communicate(timeout=30)
            pytest.fail(f"browse did not stop within 30 s of Ctrl-C:\n{stderr[-6000:]}")
    finally:
        server.stop()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and f"wrote {har}" in stderr
    lines = stdout.splitlines()
    assert any('echo("hello", {"n":1})' in line for line in lines), stdout[-2000:]
    assert any("ack #" in line and "for echo" in line for line in lines), stdout[-2000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    events = {r.get("event") for r in records if r["layer"] == "socketio"}
    assert {"echo", "binary", "stats", "question"} <= events
    clients = {t.get("client.name") for r in records for t in [r.get("tags") or {}]}
    assert "HeadlessChrome" in clients
    entries = json.loads(har.read_text())["log"]["entries"]
    assert any(e.get("_webSocketMessages") for e in entries)


def test_a_url_that_is_no_page_is_a_usage_error() -> None:
    done = browse("ftp://example.org/", "--chromium", sys.executable)
    assert done.returncode == 2 and "http(s)" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.browser
@pytest.mark.parametrize("given", ["127.0.0.1:{port}", "{port}"], ids=["host-port", "port"])
def test_a_page_that_does_not_load_ends_the_run(given: str) -> None:
    """Nobody can type another address into a headless browser: waiting would show nothing.
    (A bare port is one of this machine, as the proxy's --upstream takes it.)"""
    need_chromium()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    done = browse(given.format(port=port), "--duration", "50s")
    assert time.monotonic() - started < 40
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()  # one line: not "attached to ..." before it
    assert line.startswith(f"ioproto: error: could not open http://127.0.0.1:{port}"), line
    assert "ERR_CONNECTION_REFUSED" in line and "is the server running" in line


@pytest.mark.browser
def test_a_page_without_socket_io_names_the_devtools_url_it_watched() -> None:
    need_chromium()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = f"http://127.0.0.1:{server.server_address[1]}/"
        done = browse(page, "--duration", "2s")
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0 and done.stdout == "", done.stderr
    attached, empty = done.stderr.splitlines()
    endpoint = attached.removeprefix("ioproto: attached to ").partition(";")[0]
    assert endpoint.startswith("ws://127.0.0.1:") and "/devtools/browser/" in endpoint, attached
    assert empty == (
        f"ioproto: cdp:{endpoint}: no Engine.IO request or WebSocket in the tabs watched "
        f"through DevTools at {endpoint} (it opened {page}): is the page a Socket.IO client? "
        "(--source-option all=true follows every request)"
    )


def test_a_missing_browser_is_a_usage_error() -> None:
    done = browse("http://127.0.0.1:1/", "--chromium", "/nonexistent/chromium")
    assert done.returncode == 2
    assert "apt-get install chromium" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("command", ["decode", "monitor"])
@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            "cdp:127.0.0.1:{port}",
            "no DevTools endpoint at 127.0.0.1:{port} (Connection refused): start "
            "Chrome/Chromium with --remote-debugging-port={port} (and a --user-data-dir of its "
            "own), or use `ioproto browse URL`",
        ),
        (
            "cdp:ws://127.0.0.1:{port}/devtools/browser/x",
            "cannot connect to ws://127.0.0.1:{port}/devtools/browser/x: Connection refused; "
            "start Chrome/Chromium with --remote-debugging-port=PORT and give cdp:HOST:PORT "
            "(its ws:// URL changes at each start), or use `ioproto browse URL`",
        ),
    ],
    ids=["host-port", "ws-url"],
)
def test_a_cdp_endpoint_that_is_not_there_is_a_mistake(
    tmp_path: Path, command: str, spec: str, expected: str
) -> None:
    """No browser to capture is the user's to fix: it ended with status 0 and a
    cdp.connect.failed record, as if a capture had taken place."""
    out = tmp_path / "out.jsonl"
    out.write_text("kept\n")
    with socket.socket() as bound:  # bound, not listening: a refused connect, and ours
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        done = run_ioproto(command, spec.format(port=port), "--sink", f"jsonl:{out}")
    line = f"ioproto: error: {expected.format(port=port)}"
    assert (2, [line], "") == (done.returncode, done.stderr.splitlines(), done.stdout)
    assert out.read_text() == "kept\n"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cdp:127.0.0.1:9222", ("127.0.0.1", 9222)),
        ("cdp:9222", ("127.0.0.1", 9222)),
        ("cdp:[::1]:9222", ("::1", 9222)),
        ("cdp:ws://127.0.0.1:9/devtools/browser/x", "ws://127.0.0.1:9/devtools/browser/x"),
    ],
)
def test_cdp_inputs(spec: str, expected: object) -> None:
    from ioproto_browser.connection import parse_input

    assert parse_input(spec) == expected


@pytest.mark.parametrize("spec", ["cdp:", "cdp:host", "cdp:host:99999", "cdp:host:port"])
def test_bad_cdp_inputs_say_what_to_write(spec: str) -> None:
    from ioproto_browser.connection import EndpointError, parse_input

    with pytest.raises(EndpointError, match="cdp:HOST:PORT"):
        parse_input(spec)


def test_page_urls() -> None:
    from ioproto_browser.command import page_url

    assert page_url("localhost:3000") == "http://localhost:3000"
    assert page_url(" 35439 ") == "http://127.0.0.1:35439"  # a port of this machine
    assert page_url("localhost:3000/chat?room=1") == "http://localhost:3000/chat?room=1"
    assert page_url("https://example.org/app") == "https://example.org/app"
    for bad in ("http://", "javascript:alert(1)", "ftp://x/", "99999", "0", "localhost:0"):
        with pytest.raises(ValueError):
            page_url(bad)


def test_the_chromium_command_line(tmp_path: Path) -> None:
    from ioproto_browser.launch import chromium_argv

    argv = chromium_argv("/usr/bin/chromium", tmp_path, headless=True)
    assert argv[0] == "/usr/bin/chromium" and argv[-1] == "about:blank"
    assert "--headless" in argv and "--remote-debugging-port=0" in argv
    assert f"--user-data-dir={tmp_path}" in argv
    assert ("--no-sandbox" in argv) == (os.geteuid() == 0)
    assert "--headless" not in chromium_argv("chromium", tmp_path, headless=False)


def test_bad_source_options_are_a_usage_error() -> None:
    from ioproto_browser.source import CdpSource

    from ioproto.components import SourceContext
    from ioproto.errors import UsageError

    for options, said in (
        ({"pending_bytes": "lots"}, "pending_bytes='lots': give a whole number of at least 1"),
        ({"reorder": "11"}, "reorder='11': give 0 to 10 seconds"),
        ({"all": "maybe"}, "all='maybe': give true or false"),
    ):
        with pytest.raises(UsageError, match=said):
            list(CdpSource().open("cdp:1", SourceContext(options=options)))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--har", "{out}", "-o", "{out}"], "-o/--output and --har {out} write the same file"),
        (["--sink-option", "monitor.widht=3"], "(did you mean width?)"),
        (["-f", "sio.evnt == 'x'"], "unknown field 'sio.evnt' (did you mean sio.event?)"),
    ],
    ids=["same-file", "sink-option", "filter"],
)
def test_a_mistake_is_said_before_a_browser_starts(
    tmp_path: Path, args: list[str], said: str
) -> None:
    """Options and outputs are checked before Chromium starts (about a second, and a
    browser for nothing); the browser here is a script that notes it was started."""
    started = tmp_path / "started"
    fake = tmp_path / "chromium"
    fake.write_text(f"#!/bin/sh\ntouch {started}\nexit 1\n")
    fake.chmod(0o755)
    out = str(tmp_path / "out.har")
    given = [arg.format(out=out) for arg in args]
    done = browse("http://127.0.0.1:1/", "--chromium", str(fake), *given)
    assert done.returncode == 2, done.stderr
    assert said.format(out=out) in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2  # (a filter's line, then its caret)
    assert not started.exists()
    done = browse("http://127.0.0.1:1/", "--chromium", str(fake))
    assert done.returncode == 2 and started.exists()  # (a run without a mistake starts it)
