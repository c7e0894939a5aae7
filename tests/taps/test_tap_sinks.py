"""An in-process tap's ``sinks=`` and ``sink_options=`` as a user of the library meets them:
the dashboard of a real python-socketio server serves where ``dashboard:HOST:PORT`` says, stops
with ``tap.close()`` unless ``hold`` was asked for, and options are checked with the command's
words before anything is opened."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ioproto_tap
import pytest
from taphelp import echo_server, run_echo_session

from ioproto.errors import UsageError


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test runs in an empty folder, so that a stray file shows."""
    monkeypatch.chdir(tmp_path)
    yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        document: dict[str, Any] = json.loads(answer.read())
        return document


def serving(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_taps_dashboard_serves_at_its_address_and_stops_with_the_tap(tmp_path: Path) -> None:
    """``dashboard:HOST:PORT`` is where the page is, as with ``--sink`` (it made an empty
    file named HOST:PORT and served on a random port); the page is there from
    ``instrument()``, live, shows the session, and goes when the tap closes (it served until
    the process exited)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    sio = echo_server()
    tap = ioproto_tap.instrument(
        sio, sinks=[f"dashboard:127.0.0.1:{port}"], sink_options={"dashboard.browser": False}
    )
    try:
        assert get_json(f"{base}/api/snapshot")["meta"]["mode"] == "live"
        assert run_echo_session(sio, "hi") == ["hi"]
        deadline = time.monotonic() + 10
        while get_json(f"{base}/api/summary")["sessions"]["total"] < 1:
            assert time.monotonic() < deadline, "the session never reached the page"
            time.sleep(0.1)
    finally:
        tap.close()
    assert not serving(port)
    assert list(tmp_path.iterdir()) == []


def test_hold_keeps_a_taps_page_after_close_until_the_process_exits() -> None:
    port = free_port()
    tap = ioproto_tap.instrument(
        echo_server(),
        sinks=[f"dashboard:127.0.0.1:{port}"],
        sink_options={"dashboard.browser": "false", "dashboard.hold": "true"},
    )
    pipeline = tap.sender.link._feed.__self__  # type: ignore[attr-defined]
    (stage,) = pipeline.sinks
    try:
        tap.close()
        meta = get_json(f"http://127.0.0.1:{port}/api/snapshot")["meta"]
        assert meta["finished"] is True
    finally:
        stage.component.server.stop()  # what the end of this process would do


@pytest.mark.parametrize(
    ("sinks", "options", "message"),
    [
        (
            ["dashboard"],
            {"dashboard.browsr": False},
            "sink_options[dashboard.browsr]: not an option of the dashboard sink "
            "(did you mean browser?); valid: ",
        ),
        (
            ["dashboard"],
            {"dashbord.browser": False},
            "sink_options[dashbord.browser]: no sink 'dashbord' in sinks= "
            "(did you mean dashboard?); its sinks: dashboard",
        ),
        (
            ["jsonl:out.jsonl", "dashboard"],
            {"widht": 3},
            "sink_options[widht]: not an option of the dashboard, jsonl sinks",
        ),
        (["dashboard"], {"dashboard.hold": "maybe"}, "option hold='maybe': give true or false"),
        (["jsonl:out.jsonl", "dashboard:out.html"], {}, "dashboard: 'out.html' is not"),
        (None, {"dashboard.browser": False}, "sink_options are for the tap's sinks="),
    ],
)
def test_a_mistake_is_one_usage_error_and_opens_nothing(
    tmp_path: Path, sinks: list[str] | None, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError) as raised:
        ioproto_tap.instrument(echo_server(), sinks=sinks, sink_options=options)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert list(tmp_path.iterdir()) == []


def test_a_port_in_use_leaves_no_file_of_the_other_sinks(tmp_path: Path) -> None:
    """Found only as the dashboard opens, after the jsonl file was: the file goes again."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"port {port} on 127.0.0.1 is in use"):
            ioproto_tap.instrument(
                echo_server(),
                sinks=["jsonl:out.jsonl", f"dashboard:127.0.0.1:{port}"],
                sink_options={"browser": "false"},
            )
    assert list(tmp_path.iterdir()) == []


def test_an_option_for_every_sink_reaches_those_that_take_it(tmp_path: Path) -> None:
    """``{"KEY": value}`` as ``--sink-option KEY=VALUE``: ``browser`` goes to the dashboard
    and not to jsonl, which would refuse it."""
    port = free_port()
    tap = ioproto_tap.instrument(
        echo_server(),
        sinks=["jsonl:out.jsonl", f"dashboard:127.0.0.1:{port}"],
        sink_options={"browser": False, "interval": "0.1"},
    )
    try:
        assert serving(port)
    finally:
        tap.close()
    assert not serving(port)
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_taps_metrics_endpoint_stops_with_the_tap_unless_exit_false() -> None:
    """As the dashboard's page: a live source's endpoint goes when it stops (it served on
    after ``tap.close()``); ``prometheus.exit=false`` keeps it until the process exits."""
    port, kept = free_port(), free_port()
    tap = ioproto_tap.instrument(echo_server(), sinks=[f"prometheus:127.0.0.1:{port}"])
    assert serving(port)
    tap.close()
    assert not serving(port)
    tap = ioproto_tap.instrument(
        echo_server(),
        sinks=[f"prometheus:127.0.0.1:{kept}"],
        sink_options={"prometheus.exit": False},
    )
    pipeline = tap.sender.link._feed.__self__  # type: ignore[attr-defined]
    (stage,) = pipeline.sinks
    try:
        tap.close()
        assert serving(kept)
    finally:
        stage.component.stop()  # what the end of this process would do


def test_a_taps_handle_says_where_its_sinks_serve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``tap.urls``: what the page and the endpoint say on stderr, for code (port 0 picks a
    free port, which only they know); nothing for a sink that does not serve."""
    sinks = ["dashboard:127.0.0.1:0", "prometheus:127.0.0.1:0", "jsonl:out.jsonl"]
    sio = echo_server()
    tap = ioproto_tap.instrument(sio, sinks=sinks, sink_options={"dashboard.browser": False})
    try:
        assert sorted(tap.urls) == sorted(sinks[:2])
        page, metrics = tap.urls["dashboard:127.0.0.1:0"], tap.urls["prometheus:127.0.0.1:0"]
        said = capsys.readouterr().err
        assert f"serving {page} " in said and f"metrics on {metrics}\n" in said
        assert get_json(page + "api/snapshot")["meta"]["mode"] == "live"
        with urllib.request.urlopen(metrics, timeout=5) as answer:
            assert b"ioproto_sessions_ended_total" in answer.read()
    finally:
        tap.close()
    quiet = ioproto_tap.instrument(echo_server(), sinks=["jsonl:b.jsonl"])
    try:
        assert quiet.urls == {}
    finally:
        quiet.close()
