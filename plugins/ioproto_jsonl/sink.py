"""Writing records as JSON lines (see :mod:`ioproto.jsonform` for the format)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from ioproto.components import SinkContext, flag_option
from ioproto.jsonform import dumps_line, dumps_line_bytes
from ioproto.model import Record


class JsonlSink:
    """Writes one line per record; flushes after each line when ``flush`` is set (live use)."""

    def __init__(self, stream: IO[str], *, include_raw: bool, flush: bool) -> None:
        self._stream = stream
        self._include_raw = include_raw
        self._flush = flush
        #: the stream's bytes underneath, for lines rendered as bytes (None: a text-only
        #: stream, such as a StringIO)
        self._binary: IO[bytes] | None = getattr(stream, "buffer", None)
        self._text_unflushed = False

    def write(self, record: Record) -> None:
        self._stream.write(dumps_line(record, include_raw=self._include_raw))
        if self._flush:
            self._stream.flush()
        else:
            self._text_unflushed = True

    def render(self, record: Record) -> bytes:
        """The line :meth:`write` writes for ``record``, in UTF-8 (a sharded run makes it
        in its workers: bytes cross processes without being encoded or decoded)."""
        return dumps_line_bytes(record, include_raw=self._include_raw)

    def write_rendered(self, data: bytes) -> None:
        """Write lines :meth:`render` made (one or several), in order with :meth:`write`'s."""
        binary = self._binary
        if binary is None:
            self._stream.write(data.decode("utf-8", "surrogatepass"))
        else:
            if self._text_unflushed:
                self._stream.flush()
                self._text_unflushed = False
            binary.write(data)
        if self._flush:
            self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class JsonlSinkFactory:
    """Sink ``jsonl``. Options: ``raw=true`` adds every record's raw bytes; ``flush=true``
    flushes after every line."""

    name = "jsonl"
    description = "one JSON object per record (the documented public format)"
    options = {"raw": "true: every record's raw bytes", "flush": "true: flush after every line"}

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` (or :class:`ValueError`) for an option
        value not taken."""
        _settings(options)

    def open(self, context: SinkContext) -> JsonlSink:
        return JsonlSink(context.stream, **_settings(context.options))


def _settings(options: Mapping[str, Any]) -> dict[str, bool]:
    return {"include_raw": flag_option(options, "raw"), "flush": flag_option(options, "flush")}
