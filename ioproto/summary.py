"""What a pipeline counts while it runs (:class:`RunSummary`)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import attrs

from .model import InputSummary


@attrs.define
class RunSummary:
    """Counts kept while the pipeline runs.

    ``inputs`` counts the records fed in (what the sources produced), ``records`` emitted
    records by layer, ``errors`` error records by rule, ``plugin_failures`` exceptions raised
    by plugin code, by plugin name, ``dropped`` records a push-down guard dropped, by
    layer, and ``input_summaries`` the :class:`~ioproto.model.InputSummary` records sources
    yielded (what each input held). ``sink_failures`` counts, per sink, the records it
    failed to take, and ``sink_failure_reasons`` keeps the first failure of each (a sink that
    fails cannot show its own ``plugin.crash`` record, so callers must report these; the CLI
    exits 1).
    """

    inputs: int = 0
    records: Counter[str] = attrs.field(factory=Counter)
    errors: Counter[str] = attrs.field(factory=Counter)
    plugin_failures: Counter[str] = attrs.field(factory=Counter)
    dropped: Counter[str] = attrs.field(factory=Counter)
    sink_failures: Counter[str] = attrs.field(factory=Counter)
    sink_failure_reasons: dict[str, str] = attrs.field(factory=dict)
    input_summaries: list[InputSummary] = attrs.field(factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "records": dict(self.records),
            "errors": dict(self.errors),
            "plugin_failures": dict(self.plugin_failures),
            "dropped": dict(self.dropped),
            "sink_failures": dict(self.sink_failures),
            "input_summaries": [
                {"input": item.input, "counts": dict(item.counts), "why_empty": item.empty_reason}
                for item in self.input_summaries
            ],
        }
