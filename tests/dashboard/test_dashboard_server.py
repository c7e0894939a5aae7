"""The dashboard's HTTP API and its security checks, against the real server (aiohttp on its
own thread) fed with a real capture."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from dashhelp import CHAT
from ioproto_dashboard.hub import Hub
from ioproto_dashboard.server import TOKEN_COOKIE, DashboardServer, bind_socket
from ioproto_stats.report import render_json

import ioproto


def _serve(token: str | None = None) -> tuple[DashboardServer, Hub]:
    hub = Hub()
    for record in ioproto.decode(str(CHAT), proto="socketio"):
        hub.write(record)
    hub.finish()
    server = DashboardServer(hub, bind_socket("127.0.0.1", 0), token=token)
    server.start()
    return server, hub


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Hub]]:
    server, hub = _serve()
    yield f"http://127.0.0.1:{server.port}/", hub
    server.stop()


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_summary_is_the_stats_json_document(served: tuple[str, Hub]) -> None:
    base, hub = served
    status, headers, body = _get(base + "api/summary")
    assert status == 200
    assert render_json(hub.published.figures) == body.decode()
    assert headers["Content-Type"].startswith("application/json")
    assert headers["Cache-Control"] == "no-store"


def test_packets_are_paged_by_sequence_number(served: tuple[str, Hub]) -> None:
    base, _ = served
    _, _, body = _get(base + "api/packets?after=0&limit=5000")
    everything = json.loads(body)["rows"]
    assert [row["seq"] for row in everything] == list(range(1, len(everything) + 1))
    _, _, body = _get(base + "api/packets?after=10&limit=3")  # the newest 3 after 10
    newest = [row["seq"] for row in json.loads(body)["rows"]]
    assert [row["seq"] for row in everything[-3:]] == newest
    _, _, body = _get(base + f"api/packets?after={everything[-1]['seq']}")
    assert json.loads(body)["rows"] == []
    acks = [row for row in everything if row["type"] == "ACK"]
    assert acks and all(row["answers"]["rtt"] >= 0 for row in acks)


def test_a_session_has_its_milestones_and_timeline(served: tuple[str, Hub]) -> None:
    base, _ = served
    _, _, body = _get(base + "api/sessions")
    sessions = json.loads(body)["sessions"]
    upgraded = next(s for s in sessions if s["upgrade_ts"] is not None)
    _, _, body = _get(base + "api/session/" + upgraded["sid"])
    view = json.loads(body)
    assert view["session"]["handshake_ts"] <= view["session"]["upgrade_ts"]
    kinds = [row["chunk"]["kind"] for row in view["rows"] if "chunk" in row]
    assert kinds[0] == "http-response" and "ws-text" in kinds
    assert _get(base + "api/session/nope")[0] == 404


def test_the_page_forbids_scripts_that_are_not_its_own(served: tuple[str, Hub]) -> None:
    base, _ = served
    status, headers, body = _get(base)
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert b"static/app.js" in body
    assert _get(base + "static/uPlot.iife.min.js")[0] == 200
    for path in ("static/..%2Fsink.py", "static/sink.py", "static/index.html", "etc/passwd"):
        assert _get(base + path)[0] == 404, path


def test_a_page_of_another_host_cannot_read_it(served: tuple[str, Hub]) -> None:
    """DNS rebinding: a hostile site's name pointing at 127.0.0.1 is refused."""
    base, _ = served
    status, _, body = _get(base + "api/summary", {"Host": "evil.example:80"})
    assert status == 403
    assert b"localhost" in body
    assert _get(base + "api/summary", {"Host": "localhost"})[0] == 200


def test_the_event_stream_sends_the_snapshot_at_once(served: tuple[str, Hub]) -> None:
    base, hub = served
    port = int(base.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while b"\n\n" not in received.split(b"\r\n\r\n", 1)[-1]:
            received += conn.recv(65536)
    head, stream = received.split(b"\r\n\r\n", 1)
    assert b"text/event-stream" in head
    lines = stream.split(b"\n")
    data = next(line for line in lines if line.startswith(b"data: "))
    snapshot: dict[str, Any] = json.loads(data[6:].split(b"\r\n")[0])
    assert snapshot["meta"]["version"] == hub.published.version


def test_with_a_token_every_request_must_carry_it() -> None:
    server, _ = _serve(token="s3cret-token")
    base = f"http://127.0.0.1:{server.port}/"
    try:
        assert _get(base + "api/summary")[0] == 403
        assert _get(base + "api/summary?token=wrong")[0] == 403
        status, headers, _ = _get(base + "?token=s3cret-token")
        assert status == 200
        assert f"{TOKEN_COOKIE}=s3cret-token" in headers["Set-Cookie"]
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
        cookie = {"Cookie": f"{TOKEN_COOKIE}=s3cret-token"}
        assert _get(base + "api/summary", cookie)[0] == 200
    finally:
        server.stop()
