"""Sessions the session store evicts are counted once: a later record of an evicted session
continues it (its summary says ``resumed``), and ``stats`` and the summaries count the
capture's sessions whatever ``--limit max_sessions`` / ``max_state_bytes`` evicts, while
saying how many were evicted and came back (docs/robustness.md, "What a session limit
costs")."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_classify.records import SessionSummary
from ioproto_engineio.records import EngineIOPacket
from ioproto_stats.collector import StatsCollector

import ioproto
from ioproto.components import SinkContext
from ioproto.contexts import Limits
from ioproto.pipeline import Pipeline
from ioproto.plugins import make_plugin_manager
from ioproto.sessions import SessionStore

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURE = str(DATA / "clients_mixed.pcap")
#: the capture's sessions (9 Socket.IO clients, tests/peers)
SESSIONS = 9
#: limits that evict sessions of the capture while they are live
LIMITS = ["max_sessions=2", "max_state_bytes=3000"]


def stats_json(*args: str) -> dict[str, Any]:
    result = run_ioproto("stats", "--format", "json", *args, CAPTURE)
    assert result.returncode == 0, result.stderr
    figures: dict[str, Any] = json.loads(result.stdout)
    return figures


def summaries(*args: str) -> list[dict[str, Any]]:
    result = run_ioproto("decode", "--sink", "jsonl", *args, CAPTURE)
    assert result.returncode == 0, result.stderr
    records = (json.loads(line) for line in result.stdout.splitlines())
    return [record for record in records if record["type"] == "summary"]


@pytest.mark.parametrize("limit", LIMITS)
def test_stats_count_the_sessions_a_limit_evicted_once(limit: str) -> None:
    figures = stats_json("--limit", limit)
    assert figures["sessions"]["total"] == SESSIONS
    by_reason = {item["name"]: item["count"] for item in figures["ends"]["by_reason"]}
    assert sum(by_reason.values()) == SESSIONS  # each session has one end
    evicted = by_reason["evicted"]
    again = figures["ends"]["evicted_seen_again"]
    assert 0 < again["count"] <= evicted
    assert again["pct"] == round(100 * again["count"] / SESSIONS, 1)
    # a continuation is no new session: no transport, client or upgrade counted again
    for table in ("sessions_first", "sessions_final"):
        assert sum(item["count"] for item in figures["transport"][table]) == SESSIONS
    assert figures["clients"]["sessions"] <= SESSIONS


def test_a_session_limit_loses_no_transport_close() -> None:
    """A WebSocket's close still ends its session after the store evicted it: the Engine.IO
    layer's map of connections to sids is bounded in bytes, not by ``max_sessions``."""

    def closes(*args: str) -> list[tuple[str, float]]:
        result = run_ioproto("decode", "--sink", "jsonl", "--no-classify", "all", *args, CAPTURE)
        assert result.returncode == 0, result.stderr
        records = (json.loads(line) for line in result.stdout.splitlines())
        return [(r["sid"], r["ts"]) for r in records if r["type"] == "transport-close"]

    unlimited = closes()
    assert len(unlimited) == 7
    assert closes("--limit", "max_sessions=2") == unlimited


@pytest.mark.parametrize("limit", LIMITS)
def test_the_text_report_says_how_many_evicted_sessions_came_back(limit: str) -> None:
    result = run_ioproto("stats", "--limit", limit, CAPTURE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{SESSIONS} sessions,")
    section = result.stdout.split("\nSession ends\n")[1].split("\n\n")[0].splitlines()
    assert section[1].split()[0] == "evicted"
    assert section[2].startswith("    seen again later")


def test_the_chart_says_how_many_evicted_sessions_came_back(tmp_path: Path) -> None:
    chart = tmp_path / "stats.html"
    result = run_ioproto("stats", "--limit", LIMITS[0], "--chart", str(chart), CAPTURE)
    assert result.returncode == 0, result.stderr
    again = stats_json("--limit", LIMITS[0])["ends"]["evicted_seen_again"]
    assert "evicted: seen again later" in chart.read_text()
    assert f"{again['count']} ({again['pct']:.1f}%)" in chart.read_text()


def test_without_a_session_evicted_the_figures_say_nothing_of_it() -> None:
    assert "evicted_seen_again" not in stats_json()["ends"]
    assert "seen again later" not in run_ioproto("stats", CAPTURE).stdout


@pytest.mark.parametrize("limit", LIMITS)
def test_each_session_has_one_summary_that_is_not_a_continuation(limit: str) -> None:
    unlimited = summaries()
    sids = {summary["sid"] for summary in unlimited}
    assert len(sids) == SESSIONS and not any("resumed" in summary for summary in unlimited)
    limited = summaries("--limit", limit)
    first = [summary for summary in limited if not summary.get("resumed")]
    assert sorted(summary["sid"] for summary in first) == sorted(sids)
    assert {summary["end_reason"] for summary in first} >= {"evicted"}
    continued = [summary for summary in limited if summary.get("resumed")]
    assert continued and {summary["sid"] for summary in continued} <= sids
    assert all(summary["resumed"] is True for summary in continued)


@pytest.mark.parametrize("limit", LIMITS)
def test_without_a_session_store_the_summaries_count_the_same(limit: str) -> None:
    """As the dashboard feeds its collector: every record, no session ends announced; the
    continuations' summaries say which evicted sessions came back."""
    name, value = limit.split("=")
    limits = Limits(**{name: int(value)})
    collector = StatsCollector()
    for record in ioproto.decode(CAPTURE, classifiers=None, limits=limits):
        collector.add(record)
    figures = collector.figures()
    streamed = stats_json("--limit", limit)
    assert figures["sessions"] == streamed["sessions"]
    assert figures["ends"] == streamed["ends"]


@pytest.mark.parametrize("limit", LIMITS)
def test_a_parquet_archive_counts_the_evicted_sessions_as_the_stream_does(
    limit: str, tmp_path: Path
) -> None:
    archive = tmp_path / "archive"
    result = run_ioproto(
        "decode", "--jobs", "1", "--limit", limit, "--sink", f"parquet:{archive}", CAPTURE
    )
    assert result.returncode == 0, result.stderr
    stored = run_ioproto("stats", "--from", str(archive), "--format", "json")
    assert stored.returncode == 0, stored.stderr
    figures = json.loads(stored.stdout)
    streamed = stats_json("--limit", limit)
    assert figures["sessions"] == streamed["sessions"]
    assert figures["ends"] == streamed["ends"]


def test_sharded_workers_count_the_sessions_once_under_a_limit() -> None:
    """Each worker bounds its own store, so its evictions differ from one process's; the
    sessions are counted once all the same."""
    for jobs in (1, 2, 3, 4):
        records = ioproto.decode(
            CAPTURE,
            classifiers=None,
            limits=Limits(max_sessions=2),
            source_options={"parallel_min_bytes": "0", "shard": "true"},
            jobs=jobs,
        )
        found = [r for r in records if isinstance(r, SessionSummary) and not r.resumed]
        assert len(found) == SESSIONS, f"{jobs} workers"


def test_a_continuation_is_a_session_the_store_evicted() -> None:
    store = SessionStore(max_sessions=1)
    first = store.session("a", 1.0)
    assert not first.resumed
    store.session("b", 2.0)  # evicts a
    again = store.session("a", 3.0)  # evicts b
    assert again.resumed and again.evictions == 1
    assert store.has_ended("b") and store.evictions("b") == 1 and store.evicted == 2
    store.session("b", 4.0)  # evicts a a second time
    assert store.session("a", 5.0).evictions == 2


def test_the_memory_of_evicted_keys_has_a_budget_of_its_own() -> None:
    """Not ``max_sessions``, which would forget a key as fast as it evicts; its own bytes,
    oldest forgotten first."""
    store = SessionStore(max_sessions=1, max_evicted_bytes=10 * 120)
    for number in range(30):
        store.session(f"{number:020d}", float(number))
    assert store.evictions(f"{0:020d}") == 0  # forgotten
    assert store.evictions(f"{28:020d}") == 1
    remembered = [number for number in range(30) if store.evictions(f"{number:020d}")]
    assert len(remembered) == 10


def ping(sid: str, ts: float) -> EngineIOPacket:
    return EngineIOPacket(
        ts=ts, sid=sid, connection=f"conn-{sid}", direction="s2c", transport="websocket",
        type="ping", revision=4,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    order=st.lists(st.integers(min_value=0, max_value=7), min_size=1, max_size=60),
    max_sessions=st.integers(min_value=1, max_value=9),
    max_state_bytes=st.sampled_from([1, 2_500, 6_000, 64 * 1024 * 1024]),
)
def test_no_limit_counts_more_sessions_than_there_are_sids(
    order: list[int], max_sessions: int, max_state_bytes: int
) -> None:
    """Sessions seen in any order under any limits: ``stats`` and the summaries count each
    sid once (the memory of evicted keys is within its default budget here)."""
    stream = io.StringIO()
    pipeline = Pipeline.build(
        proto="socketio",
        plugin_manager=make_plugin_manager(),
        classifiers=None,
        limits=Limits(max_sessions=max_sessions, max_state_bytes=max_state_bytes),
        sinks=[("stats", SinkContext(stream=stream, options={"format": "json"}))],
    )
    records = [ping(f"sid{number}", float(ts)) for ts, number in enumerate(order)]
    out = list(pipeline.stream(records))
    sids = len(set(order))
    figures = json.loads(stream.getvalue())
    assert figures["sessions"]["total"] == sids
    assert sum(item["count"] for item in figures["ends"]["by_reason"]) == sids
    first = [r for r in out if isinstance(r, SessionSummary) and not r.resumed]
    assert sorted(r.sid for r in first) == sorted({f"sid{number}" for number in order})
