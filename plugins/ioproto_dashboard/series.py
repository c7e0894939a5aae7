"""Fixed-size aggregates over time: bucketed counters and log-scale histograms.

:class:`TimeSeries` keeps at most ``capacity`` buckets for the whole run. It starts with
10 ms buckets and, when the run outgrows them, moves up a ladder of widths (each a multiple
of the one before: 10 ms, 20 ms, 100 ms, 200 ms, 1 s, 2 s, 10 s, ... 1 day), merging old
buckets into the wider ones. A 0.5 s capture and a week of live traffic therefore both fit
the same memory, at the finest resolution that covers them.

:class:`LogHistogram` counts values in logarithmic bins (latencies: 8 bins per decade from
0.1 ms to 100 s; sizes: powers of two); percentiles read from it are approximate to one bin
(a factor of 1.33 for latencies). The exact percentiles of the stats summary come from
``ioproto_stats``; these histograms draw the distributions and the percentiles over time.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

#: Bucket widths in milliseconds; each divides the next, so buckets merge exactly.
WIDTHS_MS = (
    10,
    20,
    100,
    200,
    1_000,
    2_000,
    10_000,
    20_000,
    60_000,
    120_000,
    600_000,
    1_200_000,
    3_600_000,
    7_200_000,
    21_600_000,
    43_200_000,
    86_400_000,
)


class LogHistogram:
    """Counts in logarithmic bins; bin 0 is "below ``low``", the last "at or above ``high``".

    ``edges`` (``bins + 1`` values) bound the bins: bin ``i`` holds ``edges[i] <= v <
    edges[i + 1]``; the first edge is 0 and the last is infinity.
    """

    __slots__ = ("_log_low", "_per_log", "count", "counts", "edges", "total")

    def __init__(self, low: float, high: float, per_decade: int = 8, base: float = 10.0) -> None:
        steps = round(math.log(high / low, base) * per_decade)
        inner = [low * base ** (i / per_decade) for i in range(steps + 1)]
        self.edges: tuple[float, ...] = (0.0, *inner, math.inf)
        self._log_low = math.log(low)
        self._per_log = per_decade / math.log(base)
        self.counts = array("I", bytes(4 * (len(self.edges) - 1)))
        self.count = 0
        self.total = 0.0

    @classmethod
    def latency(cls) -> LogHistogram:
        """Seconds from 0.1 ms to 100 s, 8 bins per decade (50 bins)."""
        return cls(1e-4, 100.0)

    @classmethod
    def size(cls) -> LogHistogram:
        """Bytes from 1 B to 64 MiB, one bin per power of two (28 bins)."""
        return cls(1.0, float(1 << 26), per_decade=1, base=2.0)

    def bin(self, value: float) -> int:
        """The index of the bin ``value`` falls in."""
        if value < self.edges[1]:
            return 0
        index = int((math.log(value) - self._log_low) * self._per_log + 1e-9) + 1
        return min(index, len(self.counts) - 1)

    def add(self, value: float, weight: int = 1) -> None:
        self.counts[self.bin(value)] += weight
        self.count += weight
        self.total += value * weight

    def percentile(self, fraction: float) -> float | None:
        """The value below which ``fraction`` of the counts fall, interpolated inside its
        bin on the log scale; ``None`` when empty."""
        return percentile_of(self.counts, self.edges, fraction)

    def as_list(self) -> list[int]:
        return self.counts.tolist()


def percentile_of(counts: Sequence[int], edges: Sequence[float], fraction: float) -> float | None:
    """:meth:`LogHistogram.percentile` for bare ``counts`` (a bucket's histogram)."""
    total = sum(counts)
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for index, count in enumerate(counts):
        if count and seen + count >= rank:
            low, high = edges[index], edges[index + 1]
            if index == 0:
                return high
            if math.isinf(high):
                return low
            inside = (rank - seen) / count
            return float(low * (high / low) ** inside)
        seen += count
    return edges[-2]


class TimeSeries:
    """Named counters, gauges and histograms in at most ``capacity`` time buckets.

    * ``add(name, ts, amount)`` adds to a counter (or ``counters[name][slot(ts)] += amount``
      for several counters of one time);
    * ``set(name, ts, value)`` records a gauge's value (the last one in a bucket wins, and an
      empty bucket repeats the one before);
    * ``observe(name, ts, value)`` adds a value to that bucket's histogram of ``name``.

    Times before the first bucket are counted in the first bucket.
    """

    def __init__(
        self,
        counters: Iterable[str],
        gauges: Iterable[str] = (),
        histograms: Iterable[str] = (),
        *,
        capacity: int = 240,
    ) -> None:
        self.capacity = max(8, capacity)
        self._level = 0
        self.width_ms = WIDTHS_MS[0]
        self.origin: int | None = None  # absolute index of bucket 0, in width_ms units
        self.used = 0  # buckets 0 .. used-1 are in use
        self.counters = {name: array("d", bytes(8 * self.capacity)) for name in counters}
        self._gauges: dict[str, list[float | None]] = {
            name: [None] * self.capacity for name in gauges
        }
        template = LogHistogram.latency()
        self.hist_edges = template.edges
        self._hist_bins = len(template.counts)
        self._template = template
        self._hists: dict[str, list[array[int] | None]] = {
            name: [None] * self.capacity for name in histograms
        }

    # -- feeding ------------------------------------------------------------------------------

    def slot(self, ts: float) -> int:
        """The bucket index of ``ts``, widening the buckets when ``ts`` is beyond them."""
        absolute = int(ts * 1000.0) // self.width_ms
        if self.origin is None:
            self.origin = absolute
        offset = absolute - self.origin
        if offset < 0:
            return 0
        while offset >= self.capacity:
            if self.width_ms == WIDTHS_MS[-1]:
                # The widest buckets: drop the oldest ones, as many as needed at once (a
                # bogus time far ahead must not cost a loop per bucket).
                self._shift(max(self.capacity // 2, offset - self.capacity + 1))
                offset = absolute - self.origin
                break
            self._widen()
            absolute = int(ts * 1000.0) // self.width_ms
            offset = absolute - self.origin
        if offset >= self.used:
            self.used = offset + 1
        return offset

    def add(self, name: str, ts: float, amount: float = 1.0) -> None:
        self.counters[name][self.slot(ts)] += amount

    def set(self, name: str, ts: float, value: float) -> None:
        self._gauges[name][self.slot(ts)] = value

    def observe(self, name: str, ts: float, value: float) -> None:
        slot = self.slot(ts)
        column = self._hists[name]
        counts = column[slot]
        if counts is None:
            counts = column[slot] = array("I", bytes(4 * self._hist_bins))
        counts[self._template.bin(value)] += 1

    def advance(self, ts: float) -> None:
        """Extend the series to ``ts`` (a live source's clock) without adding anything."""
        if self.origin is not None:
            self.slot(ts)

    def _widen(self) -> None:
        assert self.origin is not None
        self._level += 1
        old_width, new_width = self.width_ms, WIDTHS_MS[self._level]
        factor = new_width // old_width
        new_origin = (self.origin * old_width) // new_width
        mapping = [((self.origin + i) // factor) - new_origin for i in range(self.used)]
        for values in self.counters.values():
            merged = array("d", bytes(8 * self.capacity))
            for old, new in enumerate(mapping):
                merged[new] += values[old]
            values[:] = merged
        for gauge in self._gauges.values():
            kept: list[float | None] = [None] * self.capacity
            for old, new in enumerate(mapping):
                if gauge[old] is not None:
                    kept[new] = gauge[old]
            gauge[:] = kept
        for column in self._hists.values():
            joined: list[array[int] | None] = [None] * self.capacity
            for old, new in enumerate(mapping):
                counts = column[old]
                if counts is None:
                    continue
                target = joined[new]
                if target is None:
                    joined[new] = counts
                else:
                    for index, value in enumerate(counts):
                        target[index] += value
            column[:] = joined
        self.width_ms = new_width
        self.origin = new_origin
        self.used = (mapping[-1] + 1) if mapping else 0

    def _shift(self, drop: int) -> None:
        assert self.origin is not None
        kept = min(drop, self.capacity)  # beyond the capacity everything goes
        for values in self.counters.values():
            values[:] = values[kept:] + array("d", bytes(8 * kept))
        for gauge in self._gauges.values():
            gauge[:] = gauge[kept:] + [None] * kept
        for column in self._hists.values():
            column[:] = column[kept:] + [None] * kept
        self.origin += drop
        self.used = max(0, self.used - drop)

    # -- reading ------------------------------------------------------------------------------

    def view(self, now: float | None = None) -> dict[str, Any]:
        """The used buckets as plain JSON types.

        ``t`` holds each bucket's start (seconds), ``width`` the bucket width (seconds);
        counters are given per second (``rate``): the last bucket, which may be partial, is
        divided by the part of it that has elapsed by ``now`` (at least a fifth of it).
        Gauges repeat their last value through empty buckets; histograms become ``p50``,
        ``p90``, ``p99`` per bucket (``None`` where empty).
        """
        width = self.width_ms / 1000.0
        used = self.used
        if self.origin is None or used == 0:
            return {
                "width": width,
                "t": [],
                "rate": {name: [] for name in self.counters},
                "gauge": {name: [] for name in self._gauges},
                "percentiles": {name: {"p50": [], "p90": [], "p99": []} for name in self._hists},
            }
        start = self.origin * width
        times = [round(start + i * width, 3) for i in range(used)]
        divisors = [width] * used
        if now is not None:
            elapsed = now - times[-1]
            divisors[-1] = min(width, max(elapsed, width / 5))
        rates = {
            name: [values[i] / divisors[i] for i in range(used)]
            for name, values in self.counters.items()
        }
        gauges: dict[str, list[float | None]] = {}
        for name, gauge in self._gauges.items():
            filled: list[float | None] = []
            last: float | None = None
            for i in range(used):
                if gauge[i] is not None:
                    last = gauge[i]
                filled.append(last)
            gauges[name] = filled
        percentiles: dict[str, dict[str, list[float | None]]] = {}
        for name, column in self._hists.items():
            points: dict[str, list[float | None]] = {"p50": [], "p90": [], "p99": []}
            for i in range(used):
                counts = column[i]
                for key, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
                    value = percentile_of(counts, self.hist_edges, fraction) if counts else None
                    points[key].append(value)
            percentiles[name] = points
        return {
            "width": width,
            "t": times,
            "rate": rates,
            "gauge": gauges,
            "percentiles": percentiles,
        }

    def memory_bytes(self) -> int:
        """The bytes the buckets take at most (all histograms allocated)."""
        counters = len(self.counters) * 8 * self.capacity
        gauges = len(self._gauges) * (8 + 24) * self.capacity
        hists = len(self._hists) * self.capacity * (4 * self._hist_bins + 80)
        return counters + gauges + hists
