"""The browser's clock: CDP's monotonic ``timestamp`` mapped to seconds since the epoch.

Network events carry ``timestamp``, seconds on the browser's monotonic clock (the same clock
for every tab, worker and process of one browser); ``requestWillBeSent`` and
``webSocketWillSendHandshakeRequest`` also carry ``wallTime``, the epoch time of that same
moment. One offset is used for the whole DevTools connection, so that durations between any
two records are exact differences of the browser's monotonic clock (latencies are computed
from them): it is taken from the first event carrying both, or, if an event without
``wallTime`` comes first (a WebSocket opened before ioproto attached), from the local time at
which that event arrived. Times are rounded to the microsecond, the resolution CDP gives.
"""

from __future__ import annotations

#: Plausible ranges: a monotonic clock in seconds since boot, and an epoch time (1970-5138).
_MAX_MONOTONIC = 1e11
_MAX_EPOCH = 1e11


class BrowserClock:
    """Maps CDP timestamps to epoch seconds with one offset, fixed once known."""

    __slots__ = ("offset",)

    def __init__(self) -> None:
        self.offset: float | None = None

    def learn(self, timestamp: float | None, wall: float | None) -> None:
        """Fix the offset from a ``(timestamp, wallTime)`` pair, unless already fixed."""
        if self.offset is not None or timestamp is None or wall is None:
            return
        if 0.0 <= timestamp < _MAX_MONOTONIC and 0.0 < wall < _MAX_EPOCH:
            self.offset = wall - timestamp

    def epoch(self, timestamp: float | None, received: float) -> float:
        """Epoch seconds of a CDP ``timestamp``; ``received`` (local epoch time of the
        message) stands in for a missing or absurd one, and fixes the offset if none is
        known yet."""
        if timestamp is None or not 0.0 <= timestamp < _MAX_MONOTONIC:
            return round(received, 6)
        if self.offset is None:
            self.offset = received - timestamp
        return round(timestamp + self.offset, 6)
