"""Sessions the session store evicts are counted once: a later record of an evicted session
continues it (its summary says ``resumed``), and ``stats`` and the summaries count the
capture's sessions whatever ``--limit max_sessions`` / ``max_state_bytes`` evicts, while
saying how many were evicted and came back (docs/robustness.md, "What a session limit
costs")."""

from __future__ import annotations

from ioproto.sessions import SessionStore


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
