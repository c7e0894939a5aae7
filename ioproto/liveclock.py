"""The capture clock of a live source, between its records.

A live source's records arrive as the traffic happens, so capture time passes between them
as real time does. :class:`LiveClock` says what capture time it is *now*: the latest
record's time plus the time elapsed (``time.monotonic``) since a record last arrived.

Not the wall clock's reading: the records' clock need not be this machine's (a tap on a host
whose clock is a minute behind would otherwise have every session end at once), and a
record that arrives late, carrying an older time, never moves the clock back nor ends a
session early. The dashboard's hub and the ``prometheus`` sink keep time with it.
"""

from __future__ import annotations

import time


class LiveClock:
    """Capture time on a live source; see the module docstring.

    Not locked: the caller serialises :meth:`arrived` and :meth:`now` when they run on
    different threads.
    """

    __slots__ = ("_arrived_at", "_latest")

    def __init__(self) -> None:
        self._latest: float | None = None
        self._arrived_at = 0.0

    @property
    def latest(self) -> float | None:
        """The latest record time seen (the greatest), ``None`` before the first record."""
        return self._latest

    def arrived(self, ts: float) -> float:
        """A record of time ``ts`` has arrived: it moves the clock on if it is the latest,
        and the elapsed time is counted from now. Returns ``time.monotonic()`` as read."""
        if self._latest is None or ts > self._latest:
            self._latest = ts
        self._arrived_at = arrived_at = time.monotonic()
        return arrived_at

    def now(self) -> float | None:
        """Capture time now: :attr:`latest` plus the seconds elapsed since a record last
        arrived; ``None`` before the first record."""
        if self._latest is None:
            return None
        return self._latest + (time.monotonic() - self._arrived_at)
