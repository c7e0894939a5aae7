"""How much memory the dashboard may keep, in bytes, and how much one entry costs.

Every table the dashboard keys by traffic has a byte budget (docs/dashboard.md lists them).
Tables of fixed-shape entries turn their budget into an entry count with a per-entry cost
measured with ``tracemalloc`` (``tests/dashboard/test_dashboard_budgets.py`` checks that the
figures stay above what CPython really allocates); tables of variable entries (packet rows,
timelines) add up an estimate of each entry as it is stored and evict the oldest beyond the
budget.
"""

from __future__ import annotations

import attrs

from ioproto.optionvalues import number_option

MiB = 1024 * 1024

#: Bytes of one session of the dashboard's session table (slotted object, its namespaces,
#: dict slot, sid): measured about 470.
SESSION_BYTES = 600
#: Bytes of one row of the packet table or a timeline, before its strings.
ROW_BYTES = 900
#: Bytes of one latency or size histogram kept per event (array + key + dict slot).
HISTOGRAM_BYTES = 500
#: Bytes of one error kind/rule entry, before its strings.
ERROR_BYTES = 600


@attrs.frozen(slots=True, kw_only=True)
class Budgets:
    """Byte budgets of the dashboard's tables (sink options with the same names, in bytes).

    ``sessions``: the session table (state, transport, revisions, milestones) - beyond it
    the least recently active sessions are forgotten (their counts stay in the totals).
    ``packets``: the sampled packet table (a ring buffer: the oldest rows go first).
    ``timelines``: the per-session timelines of the session view (whole sessions, least
    recently active first). ``events``: per-event histograms (ack latency, payload size);
    events beyond it are counted under ``(other)``. ``errors``: the errors view (rules and
    the most recent errors). ``rows_per_second``: at most this many packets per second of
    capture time enter the packet table (the rest are counted as sampled out).
    """

    sessions: int = 8 * MiB
    packets: int = 4 * MiB
    timelines: int = 8 * MiB
    events: int = 1 * MiB
    errors: int = 1 * MiB
    rows_per_second: int = 200

    @property
    def max_sessions(self) -> int:
        return max(16, self.sessions // SESSION_BYTES)

    @property
    def max_event_histograms(self) -> int:
        return max(4, self.events // (2 * HISTOGRAM_BYTES))

    @classmethod
    def from_options(cls, options: dict[str, object]) -> Budgets:
        """Budgets from sink options (``sessions=16777216`` ...); bad values are errors."""
        values = {
            field.name: number_option(options, field.name, field.default, minimum=1)
            for field in attrs.fields(cls)
        }
        return cls(**values)


def text_bytes(*texts: str | None) -> int:
    """The bytes CPython takes for ``texts`` beyond a row's fixed cost (one per character,
    four for non-Latin-1 text, plus the object header)."""
    total = 0
    for text in texts:
        if text:
            total += 49 + (len(text) if text.isascii() else 4 * len(text))
    return total
