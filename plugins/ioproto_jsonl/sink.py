"""Writing records as JSON lines (see :mod:`ioproto.jsonform` for the format)."""

from __future__ import annotations

from typing import IO

from ioproto.components import SinkContext, option_flag
from ioproto.jsonform import dumps_line
from ioproto.model import Record


class JsonlSink:
    """Writes one line per record; flushes after each line when ``flush`` is set (live use)."""

    def __init__(self, stream: IO[str], *, include_raw: bool, flush: bool) -> None:
        self._stream = stream
        self._include_raw = include_raw
        self._flush = flush

    def write(self, record: Record) -> None:
        self.write_rendered(self.render(record))

    def render(self, record: Record) -> str:
        """The line :meth:`write` writes for ``record`` (a sharded run makes it in its
        workers)."""
        return dumps_line(record, include_raw=self._include_raw)

    def write_rendered(self, text: str) -> None:
        self._stream.write(text)
        if self._flush:
            self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class JsonlSinkFactory:
    """Sink ``jsonl``. Options: ``raw=true`` adds every record's raw bytes; ``flush=true``
    flushes after every line."""

    name = "jsonl"
    description = "one JSON object per record (the documented public format)"

    def open(self, context: SinkContext) -> JsonlSink:
        options = context.options
        return JsonlSink(
            context.stream,
            include_raw=option_flag(options.get("raw", False)),
            flush=option_flag(options.get("flush", False)),
        )
