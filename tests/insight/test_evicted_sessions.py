"""Sessions the session store evicts are counted once: a later record of an evicted session
continues it (its summary says ``resumed``), and ``stats`` and the summaries count the
capture's sessions whatever ``--limit max_sessions`` / ``max_state_bytes`` evicts, while
saying how many were evicted and came back (docs/robustness.md, "What a session limit
costs")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto
from ioproto_classify.records import SessionSummary

import ioproto
from ioproto.contexts import Limits
from ioproto.sessions import SessionStore

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURE = str(DATA / "clients_mixed.pcap")
#: the capture's sessions (9 Socket.IO clients, tests/peers)
SESSIONS = 9
#: limits that evict sessions of the capture while they are live
LIMITS = ["max_sessions=2", "max_state_bytes=3000"]


def summaries(*args: str) -> list[dict[str, Any]]:
    result = run_ioproto("decode", "--sink", "jsonl", *args, CAPTURE)
    assert result.returncode == 0, result.stderr
    records = (json.loads(line) for line in result.stdout.splitlines())
    return [record for record in records if record["type"] == "summary"]


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
