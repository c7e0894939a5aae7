"""An empty result says why: one line on stderr per input when a run gave no records at all.

The reason comes from the :class:`~ioproto.model.InputSummary` the input's source yielded
(a capture's TCP ports, say); without one, an empty file is said to be empty, and anything
else that its source found nothing to decode in it. When a ``--filter`` dropped records
before they were decoded, the line says so instead.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ioproto.components import Source
from ioproto.summary import RunSummary


def why_empty(summary: RunSummary, inputs: Sequence[str], sources: Sequence[Source]) -> list[str]:
    """``ioproto: INPUT: reason`` for every input, when the run emitted no record; ``[]``
    when it emitted any."""
    if any(summary.records.values()):
        return []
    dropped = sum(summary.dropped.values())
    if dropped:
        return [f"ioproto: no record matched the filter ({dropped} dropped before decoding)"]
    seen = {item.input: item.empty_reason for item in summary.input_summaries}
    lines = []
    for item, source in zip(inputs, sources, strict=True):
        reason = seen.get(item) or _fallback(item, source)
        lines.append(f"ioproto: {item}: {reason}")
    return lines


def _fallback(input: str, source: Source) -> str:
    try:
        if os.path.isfile(input) and os.path.getsize(input) == 0:
            return "the file is empty (0 bytes)"
    except OSError:
        pass
    return f"the {source.name} source found nothing to decode in it"
