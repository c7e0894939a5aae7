"""The proxy's decoder priority: ``auto`` (the default) decodes at normal priority while the
traffic is light and at idle priority while it is heavy (decoding takes much CPU, or copies
pile up), so slow traffic is not starved on a machine kept busy by other work
(benchmarks/bench_live_latency.py --busy 2 measures that) and a flood is not slowed down by
its decoding (benchmarks/bench_proxy.py)."""

from __future__ import annotations

import os

import pytest
from ioproto_proxy.priority import (
    BEHIND_BYTES,
    CAUGHT_UP_BYTES,
    WINDOW_SECONDS,
    DecodePriority,
    decode_with_priority,
)
from ioproto_proxy.source import ProxySource

from ioproto.components import SourceContext
from ioproto.errors import UsageError

linux_only = pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling")


def test_auto_is_the_default() -> None:
    # The source passes its default to the priority context; a bad value names the choices
    # (a mistake of the user: UsageError, which the command shows as one line, exit 2).
    context = SourceContext(options={"upstream": "http://127.0.0.1:1", "priority": "high"})
    with pytest.raises(UsageError, match="auto, idle, normal"):
        list(ProxySource().open("proxy:0", context))


@linux_only
def test_auto_follows_the_backlog() -> None:
    normal = os.sched_getscheduler(0)
    with decode_with_priority("auto") as governor:
        assert os.sched_getscheduler(0) == normal
        governor.follow(BEHIND_BYTES // 2)
        assert os.sched_getscheduler(0) == normal  # a little waiting is keeping up
        governor.follow(BEHIND_BYTES + 1)
        assert os.sched_getscheduler(0) == os.SCHED_IDLE
        governor.follow(CAUGHT_UP_BYTES * 2)
        assert os.sched_getscheduler(0) == os.SCHED_IDLE  # not caught up yet
        governor.follow(0)
        if os.geteuid() == 0:  # leaving SCHED_IDLE needs privileges (or RLIMIT_NICE)
            assert os.sched_getscheduler(0) == normal
    assert os.geteuid() != 0 or os.sched_getscheduler(0) == normal


class Clocks:
    """Wall time and the decoder's CPU time, moved by hand."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def spend(self, share: float) -> None:
        """A window passes with the decoder busy ``share`` of the time."""
        self.wall += WINDOW_SECONDS
        self.cpu += WINDOW_SECONDS * share


@linux_only
def test_auto_follows_the_decoders_cpu_share() -> None:
    normal = os.sched_getscheduler(0)
    clocks = Clocks()
    with DecodePriority("auto", lambda: clocks.wall, lambda: clocks.cpu) as governor:
        for _ in range(4):  # light traffic: a message now and then
            clocks.spend(0.01)
            governor.follow(0)
            assert os.sched_getscheduler(0) == normal
        clocks.spend(0.6)  # a flood that the decoder keeps up with, by taking CPU time
        governor.follow(0)
        assert os.sched_getscheduler(0) == os.SCHED_IDLE
        clocks.spend(0.1)  # lighter, not quiet yet
        governor.follow(0)
        assert os.sched_getscheduler(0) == os.SCHED_IDLE
        clocks.spend(0.01)  # quiet, but copies still wait
        governor.follow(BEHIND_BYTES)
        assert os.sched_getscheduler(0) == os.SCHED_IDLE
        clocks.spend(0.01)
        governor.follow(0)
        if os.geteuid() == 0:
            assert os.sched_getscheduler(0) == normal


@linux_only
@pytest.mark.parametrize("priority", ["idle", "normal"])
def test_fixed_priorities_ignore_the_backlog(priority: str) -> None:
    normal = os.sched_getscheduler(0)
    expected = os.SCHED_IDLE if priority == "idle" else normal
    with decode_with_priority(priority) as governor:
        for waiting in (0, BEHIND_BYTES * 4, 0):
            governor.follow(waiting)
            assert os.sched_getscheduler(0) == expected
    assert os.geteuid() != 0 or os.sched_getscheduler(0) == normal
