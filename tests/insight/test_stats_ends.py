"""The stats figures' "Session ends": why the sessions of real captures ended, and how their
transports closed; open sessions while the figures are read before the end."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto
from ioproto_stats.collector import StatsCollector, transport_close_how

from ioproto.components import SinkContext
from ioproto.model import Record
from ioproto.pipeline import Pipeline
from ioproto.plugins import make_plugin_manager
from ioproto.testing import run_pipeline

DATA = Path(__file__).resolve().parents[1] / "data"
sys.path.insert(0, str(DATA.parent / "pcap"))
from pcaphelp import decode_file  # noqa: E402


def counts(items: list[dict[str, Any]]) -> dict[str, int]:
    return {item["name"]: item["count"] for item in items}


def ends_of(capture: str) -> dict[str, Any]:
    result = run_ioproto("stats", "--format", "json", str(DATA / capture))
    assert result.returncode == 0, result.stderr
    ends: dict[str, Any] = json.loads(result.stdout)["ends"]
    return ends


@pytest.mark.parametrize(
    ("capture", "by_reason", "transport_closed_by"),
    [
        # dead-tcp's WebSocket ends without a close frame; mute's server closes it
        (
            "clients_mixed.pcap",
            {"transport closed": 7, "closed": 2},
            {
                "close frame from the client": 5,
                "close frame from the server": 1,
                "no close frame (1006)": 1,
            },
        ),
        ("polling_gone.pcap", {"transport closed": 3}, {"poll cut off": 3}),
        (
            "rejected.pcap",
            {"closed": 1, "transport closed": 1, "input ended": 1},
            {"close frame from the client": 1},
        ),
        (
            "python_server.pcap",
            {"closed": 1, "transport closed": 1},
            {"close frame from the client": 1},
        ),
    ],
)
def test_sessions_by_end_reason(
    capture: str, by_reason: dict[str, int], transport_closed_by: dict[str, int]
) -> None:
    ends = ends_of(capture)
    assert counts(ends["by_reason"]) == by_reason
    assert counts(ends["transport_closed_by"]) == transport_closed_by
    total = sum(by_reason.values())
    for item in ends["by_reason"] + ends["transport_closed_by"]:
        assert item["pct"] == round(100 * item["count"] / total, 1)


def test_the_text_report_lists_how_transports_closed_under_transport_closed() -> None:
    result = run_ioproto("stats", str(DATA / "clients_mixed.pcap"))
    assert result.returncode == 0, result.stderr
    section = result.stdout.split("\nSession ends\n")[1].split("\n\n")[0].splitlines()
    assert section[0].split() == ["sessions", "%"]
    assert section[1].endswith("7  77.8%")
    assert "    no close frame (1006)" in section[4]  # indented under transport closed
    assert section[5].split() == ["closed", "2", "22.2%"]
    markdown = run_ioproto("stats", "--format", "md", str(DATA / "polling_gone.pcap")).stdout
    assert "#### Session ends" in markdown and "| ↳ poll cut off | 3 | 100.0% |" in markdown


def chunks_of(capture: str) -> list[Record]:
    return decode_file(str(DATA / capture))


def test_sessions_still_open_when_the_figures_are_read_count_as_open() -> None:
    chunks = chunks_of("clients_mixed.pcap")
    stream = io.StringIO()
    context = SinkContext(stream=stream, options={"format": "json"})
    pipeline = Pipeline.build(
        proto="socketio", plugin_manager=make_plugin_manager(), sinks=[("stats", context)]
    )
    sink = pipeline.sinks[0].component
    half = len(chunks) // 2
    for chunk in chunks[:half]:
        pipeline.feed(chunk)
    midway = json.loads(sink.snapshot())["ends"]
    assert counts(midway["by_reason"]) == {"open": 6, "transport closed": 2}
    for chunk in chunks[half:]:
        pipeline.feed(chunk)
    pipeline.close()
    final = json.loads(stream.getvalue())["ends"]
    assert counts(final["by_reason"]) == {"transport closed": 7, "closed": 2}


def test_without_a_session_store_the_summaries_say_how_sessions_ended() -> None:
    """As the dashboard feeds its collector: every record, no session ends announced."""
    collector = StatsCollector()
    for record in run_pipeline(chunks_of("clients_mixed.pcap"), classifiers=None):
        collector.add(record)
    assert collector.figures()["ends"] == ends_of("clients_mixed.pcap")


def test_sessions_the_store_evicted_count_as_evicted() -> None:
    result = run_ioproto(
        "stats", "--limit", "max_sessions=2", "--format", "json", str(DATA / "clients_mixed.pcap")
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    by_reason = counts(figures["ends"]["by_reason"])
    assert by_reason["evicted"] > 0
    assert sum(by_reason.values()) == figures["sessions"]["total"]


@pytest.mark.parametrize(
    ("transport", "code", "message", "direction", "how"),
    [
        # what the cdp source's ws-end becomes: no code, the browser's words
        (
            "websocket",
            None,
            "the browser reported it closed; the close code is unknown",
            "s2c",
            "reported by a browser",
        ),
        ("websocket", None, "the page was closed", "c2s", "reported by a browser"),
        ("websocket", None, None, "c2s", "close frame from the client"),  # an empty close frame
        ("websocket", 1000, "bye", "s2c", "close frame from the server"),
        (
            "websocket",
            1006,
            "no close frame: the connection was reset (RST)",
            "c2s",
            "no close frame (1006)",
        ),
        ("polling", None, "a poll left unanswered: the page was closed", "c2s", "poll cut off"),
        # what a tap's reported-end becomes: the server's words, on either transport
        (
            "websocket",
            None,
            "the server reported: transport close",
            None,
            "reported by the server",
        ),
        ("polling", None, "the server reported: transport error", None, "reported by the server"),
    ],
)
def test_how_a_transport_closed(
    transport: str, code: int | None, message: str | None, direction: str, how: str
) -> None:
    assert transport_close_how(transport, code, message, direction) == how
