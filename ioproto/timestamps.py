"""The range of record times every part of ioproto can show. Public API.

A record's ``ts`` is seconds since the epoch. Sinks turn it into a date (text, monitor,
charts), which Python can only do for years 1 to 9999; a capture may claim any time at all
(a pcapng interface with ``if_tsresol=0`` and a 64-bit timestamp, ``"time": 1e400`` in a
HAR). Sources therefore give every record a time for which :func:`usable` holds, replacing
an absurd one and saying so with an error record (docs/formats.md, "Times").
"""

from __future__ import annotations

import math

__all__ = ["MAX_TS", "MIN_TS", "usable"]

#: 0001-01-02T00:00:00Z and 9999-12-30T00:00:00Z: a day inside datetime's range, so that any
#: time zone offset still gives a valid date.
MIN_TS = -62135510400.0
MAX_TS = 253402128000.0


def usable(ts: object) -> bool:
    """Whether ``ts`` is a finite number of seconds within [:data:`MIN_TS`, :data:`MAX_TS`]."""
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        return False
    return MIN_TS <= ts <= MAX_TS and not math.isnan(ts)
