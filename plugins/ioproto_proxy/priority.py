"""Forwarding first, and live when the traffic is slow: the decoder's CPU priority.

The relay (a child process) and the decoder (the pipeline's thread in the parent) compete
for the same cores as the proxied server and its clients. Decoding a message costs about ten
times what relaying it does, so during a flood a decoder at normal priority would take CPU
time from the traffic it watches. At ``idle`` priority the decoding thread is scheduled only
when a core would otherwise be idle (Linux ``SCHED_IDLE``; elsewhere the weakest ``nice``):
the copies wait in the tap's buffer and, past it, are dropped and reported, while the traffic
keeps its speed. But a machine kept busy by anything else (a build, other services) then
starves the decoder altogether: slow traffic, a message every few hundred milliseconds,
would show up seconds late or never (measured: nothing at all in 2 s with two busy
processes on two cores).

So the default, ``auto``, follows the load: decoding runs at normal priority while the
traffic is light (each message is decoded as it passes, at a cost the traffic does not feel)
and drops to idle priority when it is heavy: once decoding has taken more than
:data:`BUSY_SHARE` of a core over the last :data:`WINDOW_SECONDS`, or more than
:data:`BEHIND_BYTES` of copies wait. A backlog alone is not enough of a signal: at normal
priority the decoder keeps up with a flood precisely by taking the traffic's CPU time (the
proxy benchmark's flood went from 94% to 43% of direct throughput that way). It comes back
to normal once it has used less than :data:`QUIET_SHARE` of a core over a window and fewer
than :data:`CAUGHT_UP_BYTES` wait. Coming back needs the system's leave: Linux lets a
thread leave ``SCHED_IDLE`` only as root, with ``CAP_SYS_NICE`` or an ``RLIMIT_NICE`` of 20
or more; without it the decoder stays at idle priority after its first flood.
``idle`` lowers it for the whole run, ``normal`` never.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator

PRIORITIES = ("auto", "idle", "normal")
#: ``auto``: how long a stretch the decoder's CPU share is measured over.
WINDOW_SECONDS = 0.5
#: ``auto``: decoding that takes more than this share of a core drops to idle priority.
BUSY_SHARE = 0.25
#: ``auto``: decoding that takes less than this share of a core is back at normal priority.
QUIET_SHARE = 0.05
#: ``auto``: with more copied bytes than this waiting, decoding drops to idle priority.
BEHIND_BYTES = 256 * 1024
#: ``auto``: with fewer than this waiting, decoding is back at normal priority.
CAUGHT_UP_BYTES = 32 * 1024


class DecodePriority:
    """The calling thread's CPU priority for decoding, one of :data:`PRIORITIES`.

    Entered, it lowers the thread for ``idle``; :meth:`follow`, called by the thread that
    decodes, moves an ``auto`` thread between normal and idle priority as the load rises
    and falls (see the module docstring); on exit the thread gets its normal scheduling
    back where the system allows. Never raises for lack of support or permission.
    ``clock`` and ``cpu_clock`` (wall time, the thread's CPU time) are for tests.
    """

    def __init__(
        self,
        priority: str,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.priority = priority
        self.lowered = False
        self._restore: Callable[[], bool] | None = None
        self._stuck = False  # lowered, and the system does not let it come back
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._since = clock()
        self._cpu = cpu_clock()
        self._share = 0.0  # of a core, over the last complete window

    def __enter__(self) -> DecodePriority:
        if self.priority == "idle":
            self._lower()
        return self

    def __exit__(self, *exc: object) -> None:
        self._raise()

    def follow(self, waiting: int) -> None:
        """``auto``: adjust to the decoder's recent CPU share and ``waiting`` bytes of
        copies not yet decoded."""
        if self.priority != "auto" or self._stuck:
            return
        now = self._clock()
        if now - self._since >= WINDOW_SECONDS:
            cpu = self._cpu_clock()
            self._share = (cpu - self._cpu) / (now - self._since)
            self._since, self._cpu = now, cpu
        if not self.lowered:
            if waiting > BEHIND_BYTES or self._share > BUSY_SHARE:
                self._lower()
        elif waiting < CAUGHT_UP_BYTES and self._share < QUIET_SHARE:
            self._raise()

    def _lower(self) -> None:
        if not self.lowered:
            self._restore = _lower()
            self.lowered = True

    def _raise(self) -> None:
        if self.lowered and self._restore is not None:
            if self._restore():
                self.lowered = False
                self._restore = None
            else:
                self._stuck = True


@contextlib.contextmanager
def decode_with_priority(priority: str) -> Iterator[DecodePriority]:
    """Run the body with the calling thread at ``priority`` (see :class:`DecodePriority`)."""
    with DecodePriority(priority) as chosen:
        yield chosen


def _lower() -> Callable[[], bool]:
    """Lower the calling thread's priority; returns how to undo it, which says whether it
    could."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            previous = os.sched_getscheduler(0)
            parameters = os.sched_getparam(0)
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass
        else:

            def restore() -> bool:
                try:
                    os.sched_setscheduler(0, previous, parameters)
                except OSError:
                    return False
                return True

            return restore
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    return lambda: False  # a raised nice cannot be lowered again without privileges
