"""Ctrl-C and SIGTERM as a request to stop, so that a live source can finish cleanly.

The first SIGINT or SIGTERM sets an event: the source drains what the browser still owes,
returns, and the pipeline closes every sink. A second one raises ``KeyboardInterrupt`` at
once. Only the main thread can install handlers; elsewhere signals are left alone.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Within the block, the first SIGINT/SIGTERM sets ``stop``; handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    saved = [(number, signal.signal(number, request_stop)) for number in _STOPS]
    try:
        yield
    finally:
        for number, handler in saved:
            signal.signal(number, handler)


_STOPS = (signal.SIGINT, signal.SIGTERM)
