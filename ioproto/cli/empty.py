"""An empty result says why: one line on stderr per input when a run gave no records at all.

The reason comes from the :class:`~ioproto.model.InputSummary` the input's source yielded
(a capture's TCP ports, say); without one, an empty file is said to be empty, and anything
else that its source found nothing to decode in it. When a ``--filter`` dropped records
before they were decoded, the line says so instead; when records were decoded but the
filter let none of them through to the sinks, :func:`why_filtered_out` says that. An input
its source could not read at all is said by :func:`unreadable_inputs`, even when other
inputs gave records. :func:`said_at_end` is all of these, as a run says them once its input
is finished.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ioproto.components import Source
from ioproto.render import plural, readable
from ioproto.summary import RunSummary

from .filtering import FilteredSink

if TYPE_CHECKING:
    from ioproto.pipeline import Stage


def why_empty(
    summary: RunSummary,
    inputs: Sequence[str],
    sources: Sequence[Source],
    names: Sequence[str] | None = None,
) -> list[str]:
    """``ioproto: INPUT: reason`` for every input, when the run emitted no record; ``[]``
    when it emitted any. ``names``: how the user named each input, where that differs
    (a named pipe read as ``-``)."""
    if any(summary.records.values()):
        return []
    dropped = sum(summary.dropped.values())
    if dropped:
        return [f"ioproto: no record matched the filter ({dropped} dropped before decoding)"]
    seen = {item.input: item.empty_reason for item in summary.input_summaries}
    lines = []
    for item, source, name in zip(inputs, sources, names or inputs, strict=True):
        reason = seen.get(item) or _fallback(item, source)
        lines.append(f"ioproto: {name}: {reason}")
    return lines


def said_at_end(
    summary: RunSummary,
    inputs: Sequence[str],
    sources: Sequence[Source],
    sinks: Sequence[Stage],
    names: Sequence[str] | None = None,
) -> list[str]:
    """The lines for stderr once the input is finished: the inputs that could not be read
    (:func:`unreadable_inputs`) or, when there are none, why no record reached the sinks
    (:func:`why_empty`, :func:`why_filtered_out`); ``[]`` when records did. ``names``: as
    for :func:`why_empty`."""
    said = unreadable_inputs(summary) or (
        why_empty(summary, inputs, sources, names) + why_filtered_out(summary, sinks)
    )
    return [readable(line) for line in said]  # a file name's undecodable bytes as \xNN


def unreadable_inputs(summary: RunSummary) -> list[str]:
    """``ioproto: INPUT: reason`` for every input its source could not read at all (not a
    capture, a HAR that is not JSON: ``InputSummary.unreadable``), whatever else the run
    gave; the command then exits with status 1."""
    return [
        f"ioproto: {item.input}: {item.unreadable}"
        for item in summary.input_summaries
        if item.unreadable
    ]


def why_filtered_out(summary: RunSummary, sinks: Sequence[Stage]) -> list[str]:
    """One line when records were decoded but the ``--filter`` let none reach the sinks
    (``[]`` otherwise)."""
    filtered = [stage.component for stage in sinks if isinstance(stage.component, FilteredSink)]
    decoded = sum(summary.records.values())
    if not filtered or not decoded or any(s.matched for s in filtered):
        return []
    dropped = sum(summary.dropped.values())
    before = f", {dropped} dropped before decoding" if dropped else ""
    said = [
        f"ioproto: no record matched the filter ({plural(decoded, 'record')} decoded{before}; "
        "`ioproto fields` lists what a filter can test)"
    ]
    hints = filtered[0].tally.hints(dropped=bool(dropped))
    return said + [f"ioproto: {hint}" for hint in hints]


def _fallback(input: str, source: Source) -> str:
    try:
        if os.path.isfile(input) and os.path.getsize(input) == 0:
            return "the file is empty (0 bytes)"
    except OSError:
        pass
    return f"the {source.name} source found nothing to decode in it"
