"""The ``stats`` sink: a summary of the traffic when the input ends.

Options (``--sink-option stats.KEY=VALUE`` or the ``ioproto stats`` command's flags):

* ``format``: ``text`` (default; rich tables when colour is on, plain aligned text
  otherwise), ``json`` or ``md`` (Markdown, for pasting into an issue).
* ``chart``: a path; a self-contained HTML page of SVG charts of the same figures is written
  there at the end. A path that cannot be written (no such folder, say) is a
  :class:`~ioproto.errors.UsageError` when the sink opens, before any input is read.
* ``top``: how many rows the "top" lists show (default 10).

:meth:`StatsSink.snapshot` renders the figures so far, for periodic printing on live
sources.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import IO, Any

from ioproto.components import SinkContext, number_option
from ioproto.errors import check_writable
from ioproto.model import Record
from ioproto.sessions import Session, SessionEnd

from .chart import render_html
from .collector import StatsCollector
from .report import render

FORMATS = ("text", "json", "md")


class StatsSink:
    def __init__(self, context: SinkContext) -> None:
        options = context.options
        self._stream: IO[str] = context.stream
        self._color = context.color
        self.format, self._top, self._chart = _settings(options)
        self.collector = StatsCollector(sessions=context.sessions)

    def write(self, record: Record) -> None:
        self.collector.add(record)

    def session_ended(self, session: Session, end: SessionEnd) -> None:
        self.collector.session_ended(session, end)

    def figures(self) -> dict[str, Any]:
        """The figures so far, as plain JSON types."""
        return self.collector.figures()

    def snapshot(self) -> str:
        """The figures so far, rendered in this sink's format."""
        return render(self.collector.figures(), self.format, color=self._color, top=self._top)

    def tick(self) -> None:
        """Write the figures so far (``--every``), headed by the time they were taken."""
        heading = time.strftime("%H:%M:%S")
        if self.format == "json":
            self._stream.write(self.snapshot().rstrip("\n") + "\n")
        else:
            self._stream.write(f"\n--- stats at {heading} ---\n{self.snapshot()}")
        self._stream.flush()

    def close(self) -> None:
        self._stream.write(self.snapshot())
        self._stream.flush()
        if self._chart is not None:
            with open(self._chart, "w", encoding="utf-8") as handle:
                handle.write(render_html(self.collector.figures(), top=self._top))


class StatsSinkFactory:
    """Sink ``stats``: see the module docstring for its options."""

    name = "stats"
    description = (
        "summary at the end: transports, upgrades, session ends, clients, latency, events, errors"
    )
    options = {
        "format": "text, json or md (default text)",
        "chart": "a path: also write an HTML chart of the figures there",
        "top": "how many of the most frequent events, errors and clients (default 10)",
    }

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` (or :class:`ValueError`) for an option
        value not taken, or a chart that cannot be written."""
        _settings(options)

    def open(self, context: SinkContext) -> StatsSink:
        return StatsSink(context)


def _settings(options: Mapping[str, Any]) -> tuple[str, int, str | None]:
    """The ``format`` (``markdown`` is ``md``), ``top`` and ``chart`` options (a chart that
    cannot be written is a :class:`~ioproto.errors.UsageError` now, not at the end)."""
    fmt = str(options.get("format", "text")).lower()
    if fmt == "markdown":
        fmt = "md"
    if fmt not in FORMATS:
        raise ValueError(f"stats format {fmt!r} is not one of {', '.join(FORMATS)}")
    chart = str(options["chart"]) if options.get("chart") else None
    if chart is not None:
        check_writable(chart, "chart", html=True)
    return fmt, max(1, number_option(options, "top", 10)), chart
