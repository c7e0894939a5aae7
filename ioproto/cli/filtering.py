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

    ``matched`` counts the records it let through, while ``counted`` says that it saw them
    all (not when workers render the sink's records in their processes). Until one
    matches, ``tally`` counts the values the filter's equality tests met instead (to say
    why nothing matched: :mod:`ioproto.filters.tally`)."""

    def __init__(self, sink: Any, match: Filter) -> None:
        from ioproto.filters.tally import Tally

        self.sink = sink
        self.match = match
        self.matched = 0
        self.counted = True
        self.tally = Tally(match)

    def write(self, record: Record) -> None:
        if self.match(record):
            self.matched += 1
            self.sink.write(record)
        elif not self.matched and self.tally:
            self.tally.add(record)

    @property
    def render(self) -> Callable[[Record], str] | None:
        """The sink's ``render`` for the records ``match`` accepts ('' for the others), if
        the sink has one."""
        inner = optional(self.sink, "Sink", "render")
        if inner is None:
            return None
        self.counted = False  # asked for it to render elsewhere: what matches is unknown
        match = self.match
        return lambda record: inner(record) if match(record) else ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sink, name)
