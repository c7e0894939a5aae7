"""Bounded samples of a measurement, with percentiles.

The first ``cap`` values are all kept (exact percentiles); after that a reservoir sample of
``cap`` values stands for them (Vitter's algorithm R, seeded so runs are repeatable). Count,
sum, min and max stay exact.
"""

from __future__ import annotations

import random
from typing import Any


class Samples:
    __slots__ = ("_random", "cap", "count", "max", "min", "total", "values")

    def __init__(self, cap: int = 20_000) -> None:
        self.cap = cap
        self.values: list[float] = []
        self.count = 0
        self.total = 0.0
        self.min: float | None = None
        self.max: float | None = None
        self._random = random.Random(0)

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        if self.min is None or value < self.min:
            self.min = value
        if self.max is None or value > self.max:
            self.max = value
        if len(self.values) < self.cap:
            self.values.append(value)
        else:
            slot = self._random.randrange(self.count)
            if slot < self.cap:
                self.values[slot] = value

    def percentile(self, fraction: float, ordered: list[float] | None = None) -> float | None:
        """Nearest-rank percentile (``fraction`` in 0..1) of the kept values."""
        ordered = ordered if ordered is not None else sorted(self.values)
        if not ordered:
            return None
        rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
        return ordered[rank - 1]

    def summary(self) -> dict[str, Any]:
        """``count``, ``mean``, ``min``, ``p50``, ``p90``, ``p99``, ``max`` (seconds)."""
        ordered = sorted(self.values)
        return {
            "count": self.count,
            "mean": self.total / self.count if self.count else None,
            "min": self.min,
            "p50": self.percentile(0.5, ordered),
            "p90": self.percentile(0.9, ordered),
            "p99": self.percentile(0.99, ordered),
            "max": self.max,
        }
