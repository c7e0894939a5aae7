"""The live capture clock: the latest record's time plus the time elapsed since one arrived."""

from __future__ import annotations

import time

from ioproto.liveclock import LiveClock


def test_before_any_record_there_is_no_capture_time() -> None:
    clock = LiveClock()
    assert clock.now() is None
    assert clock.latest is None


def test_capture_time_runs_on_from_the_latest_record_by_the_time_elapsed() -> None:
    """The records' clock, not this machine's: a record stamped a day ago is 'now' then,
    and capture time moves on from it as real time passes."""
    clock = LiveClock()
    day_ago = time.time() - 86_400
    before = time.monotonic()
    clock.arrived(day_ago)
    time.sleep(0.2)
    now = clock.now()
    elapsed = time.monotonic() - before
    assert now is not None
    assert day_ago + 0.2 <= now <= day_ago + elapsed


def test_a_late_record_never_moves_the_clock_back_but_restarts_the_elapsed_count() -> None:
    clock = LiveClock()
    clock.arrived(1000.0)
    time.sleep(0.2)
    clock.arrived(999.0)  # late in the pipeline: an older time
    assert clock.latest == 1000.0
    now = clock.now()
    assert now is not None and 1000.0 <= now < 1000.15
    clock.arrived(1005.0)
    assert clock.latest == 1005.0
    now = clock.now()
    assert now is not None and 1005.0 <= now < 1005.15
