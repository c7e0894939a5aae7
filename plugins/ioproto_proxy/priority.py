"""Forwarding first: the proxy's decoder runs at the lowest CPU priority.

The relay (a child process) and the decoder (the pipeline's thread in the parent) compete
for the same cores as the proxied server and its clients. Decoding a message costs about ten
times what relaying it does, so on a busy machine a decoder at normal priority would take
CPU time from the traffic it watches. With ``idle`` priority the decoding thread is
scheduled only when a core would otherwise be idle (Linux ``SCHED_IDLE``; elsewhere the
weakest ``nice``): on a machine with spare CPU nothing changes, on a saturated one the copies
wait in the tap's buffer and, past it, are dropped and reported, while the traffic keeps its
speed. ``normal`` leaves the thread alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

PRIORITIES = ("idle", "normal")


@contextlib.contextmanager
def decode_with_priority(priority: str) -> Iterator[None]:
    """Run the body with the calling thread at ``priority`` (one of :data:`PRIORITIES`).

    On exit the thread gets its normal scheduling back where the system allows an
    unprivileged thread that (Linux does for ``SCHED_IDLE``; a raised ``nice`` stays), so
    draining at shutdown is not starved. Never raises for lack of support or permission.
    """
    if priority != "idle":
        yield
        return
    restore = _lower()
    try:
        yield
    finally:
        restore()


def _lower() -> Callable[[], None]:
    """Lower the calling thread's priority; returns how to undo it (as far as allowed)."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            previous = os.sched_getscheduler(0)
            parameters = os.sched_getparam(0)
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass
        else:

            def restore() -> None:
                with contextlib.suppress(OSError):
                    os.sched_setscheduler(0, previous, parameters)

            return restore
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    return lambda: None
