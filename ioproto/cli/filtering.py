"""``--filter`` on the commands that run a pipeline: compiling, reporting mistakes, and
applying the filter to the sinks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

import click

from ioproto.components import optional
from ioproto.filters import FilterError
from ioproto.model import Record
from ioproto.plugins import Components

if TYPE_CHECKING:
    from ioproto.filters import Filter


class FilterUsageError(click.ClickException):
    """A mistake in a ``--filter`` expression: the expression, a caret under the place and
    what was expected, then exit status 2."""

    exit_code = 2

    def __init__(self, error: FilterError) -> None:
        super().__init__(error.message)
        self.error = error

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.error.display("ioproto: --filter: "), err=True)


def compile_filters(
    expressions: Sequence[str], components: Components, *, ports: Sequence[int] = ()
) -> Filter | None:
    """One filter that holds when every expression holds (and, with ``ports``, the
    connection's server port is one of them: the ``--port`` shorthand); ``None`` when there
    is none.

    Each expression is checked on its own, so an error points into the text the user
    typed; :class:`FilterUsageError` for a mistake.
    """
    texts = list(expressions)
    if not texts and not ports:
        return None
    from ioproto.filters import compile_filter, parse  # lark and RE2: only when filtering
    from ioproto.filters.nodes import And

    fields = components.field_set()
    if ports and "tcp.server_port" in fields:
        texts.append("tcp.server_port in {" + ", ".join(str(port) for port in ports) + "}")
    compiled = []
    for text in texts:
        try:
            compiled.append(compile_filter(text, fields))
        except FilterError as exc:
            raise FilterUsageError(exc) from None
    if not compiled:
        return None
    if len(compiled) == 1:
        return compiled[0]
    return compile_filter(And(tuple(parse(item.expression) for item in compiled)), fields)


class FilteredSink:
    """A sink that is given only the records ``match`` accepts; everything else (``close``,
    ``tick``, a sink's own methods) goes to the sink unchanged.

    ``matched`` counts the records it let through (with those that sharded workers
    rendered for it, :class:`RenderMatching`). Until one matches, ``tally`` counts the
    values the filter's equality tests met instead (to say why nothing matched:
    :mod:`ioproto.filters.tally`)."""

    def __init__(self, sink: Any, match: Filter) -> None:
        from ioproto.filters.tally import Tally

        self.sink = sink
        self.match = match
        self.matched = 0
        self.tally = Tally(match)

    def write(self, record: Record) -> None:
        if self.match(record):
            self.matched += 1
            self.sink.write(record)
        elif not self.matched and self.tally:
            self.tally.add(record)

    @property
    def render(self) -> RenderMatching | None:
        """The sink's ``render`` for the records ``match`` accepts ('' for the others), if
        the sink has one."""
        inner = optional(self.sink, "Sink", "render")
        return None if inner is None else RenderMatching(self, inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)


class RenderMatching:
    """A :class:`FilteredSink`'s ``render``, run by sharded workers (``--jobs 3`` and more)
    for the records they decode: the sink's rendering of a record the filter accepts, ''
    for another. Like :meth:`FilteredSink.write`, it counts what matched and, until
    something does, tallies the rest; each worker (a forked copy, counting from nothing)
    hands :meth:`worker_report` back at its end and the run's process adds it to the
    filtered sink with :meth:`add_worker_report` (:mod:`ioproto.shard`), so that "no
    record matched the filter" and its hints are said as in one process."""

    def __init__(self, filtered: FilteredSink, inner: Callable[[Record], Any]) -> None:
        from ioproto.filters.tally import Tally

        self.filtered = filtered
        self.inner = inner
        self.match = filtered.match
        self.matched = 0
        self.tally = Tally(filtered.match)

    def __call__(self, record: Record) -> Any:
        if self.match(record):
            self.matched += 1
            return self.inner(record)
        if not self.matched and self.tally:
            self.tally.add(record)
        return ""

    def worker_report(self) -> tuple[int, Any]:
        """What this copy matched and tallied (picklable)."""
        return self.matched, self.tally.counts()

    def add_worker_report(self, report: tuple[int, Any]) -> None:
        """Add a worker's :meth:`worker_report` to the filtered sink's counts."""
        matched, counts = report
        self.filtered.matched += matched
        self.filtered.tally.merge(counts)
