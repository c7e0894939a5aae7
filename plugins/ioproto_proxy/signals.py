"""Turning Ctrl-C and SIGTERM into a clean stop of a live source.

A live source runs until it is told to stop. Instead of letting ``KeyboardInterrupt`` unwind
through the pipeline (no traceback, but also no chance to report what happened), the first
SIGINT or SIGTERM sets an event; the source then drains what it has, reports, and returns
normally, so the pipeline closes and flushes every sink. A second signal interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """Set ``stop`` on the first SIGINT/SIGTERM while inside the block (main thread only;
    elsewhere signals are left alone). Previous handlers are restored on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous: dict[signal.Signals, Any] = {}

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    for signum in _SIGNALS:
        previous[signum] = signal.signal(signum, handler)
    try:
        yield stop
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
