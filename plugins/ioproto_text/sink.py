"""One readable line per record, plain text, every wire string escaped.

Line shape: ``<time> <dir> <sid> <layer> <type> <details>``, for example::

    12:00:01.250 c2s lv_VI97HAXp engineio message 'hello'
    12:00:01.251 s2c lv_VI97HAXp socketio EVENT / chat {"text":"hi"} id=3
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import IO, Any

from ioproto_http.records import Chunk, is_bare_control

from ioproto.components import SinkContext, flag_option
from ioproto.jsonform import written_when_set
from ioproto.model import ErrorRecord, Record
from ioproto.render import format_duration, hex_preview, render_value, safe_text

_ARROWS = {"c2s": "c2s", "s2c": "s2c", None: "---"}
_SKIP_DETAIL = frozenset(
    {
        "ts",
        "connection",
        "direction",
        "sid",
        "transport",
        "parent",
        "tags",
        "layer",
        "type",
        "raw",
        "revision",
        "index",
        "binary",
        "notes",
    }
)


class TextSink:
    def __init__(self, stream: IO[str], *, utc: bool, empty_control: bool = False) -> None:
        self._stream = stream
        self._utc = utc
        self._empty_control = empty_control

    def write(self, record: Record) -> None:
        if not self._empty_control and is_bare_control(record):
            return
        self._stream.write(format_record(record, utc=self._utc) + "\n")

    def close(self) -> None:
        self._stream.flush()


def format_time(ts: float, *, utc: bool = False) -> str:
    """``HH:MM:SS.mmm`` in local time (or UTC)."""
    parts = time.gmtime(ts) if utc else time.localtime(ts)
    return time.strftime("%H:%M:%S", parts) + f".{int((ts % 1) * 1000):03d}"


def format_record(record: Record, *, utc: bool = False) -> str:
    """The one-line text form of ``record``."""
    sid = safe_text(record.sid)[:12] if record.sid else "-"
    head = (
        f"{format_time(record.ts, utc=utc)} {_ARROWS.get(record.direction, '---')} {sid} "
        f"{record.layer} {safe_text(record.type)}"
    )
    return f"{head} {details(record, utc=utc)}".rstrip()


def details(record: Record, *, utc: bool = False) -> str:
    """The layer-specific part of the line: fields and tags, durations in ms or s, times of
    day as times (``utc``: in UTC)."""
    if isinstance(record, ErrorRecord):
        where = f" at {record.offset}" if record.offset is not None else ""
        return f"[{record.rule}]{where} {safe_text(record.reason)}"
    if isinstance(record, Chunk):
        return hex_preview(record.data) if record.data else "<empty>"
    parts: list[str] = []
    fields = getattr(type(record), "__attrs_attrs__", ())
    # EVENT/ACK show event and args; the whole payload in `data` would say it all twice.
    has_args = hasattr(record, "args") and record.type in ("EVENT", "ACK")
    for field in fields:
        if field.name in _SKIP_DETAIL or not field.metadata.get("json", True):
            continue
        value: Any = getattr(record, field.name)
        if value is None or value == () or value == [] or value == "":
            continue
        if not value and written_when_set(field):
            continue
        if has_args and field.name == "data":
            continue
        if field.name == "attachments" and not value:
            continue
        if field.name == "wire_type" and isinstance(value, int) and value < 5:
            continue  # only BINARY_EVENT/BINARY_ACK differ from their logical type
        if field.name == "data":
            parts.append(_data(value))
        else:
            parts.append(f"{field.name}={_field(value, field.metadata.get('unit'), utc)}")
    for tag in record.tags:
        value = tag.value
        shown = (
            _duration(value)
            if _is_duration_tag(tag.name) and type(value) in (int, float)
            else render_value(value, limit=40)
        )
        parts.append(f"{safe_text(tag.name)}={shown}")
    return " ".join(parts)


def _duration(seconds: float) -> str:
    """``1.12ms``: one token, so that each ``name=value`` stays one word."""
    return format_duration(seconds).replace(" ", "")


def _is_duration_tag(name: str) -> bool:
    """Tags that hold a duration in seconds (docs/formats.md): ``latency.*``, ``*.time``."""
    return name.startswith("latency.") or name.endswith(".time")


def _field(value: Any, unit: str | None, utc: bool) -> str:
    """A field's value; durations (``unit`` ``seconds``) and times (``epoch``) for people."""
    if type(value) in (int, float):
        if unit == "seconds":
            return _duration(value)
        if unit == "epoch":
            return format_time(value, utc=utc)
    return render_value(value, limit=80)


def _data(value: Any) -> str:
    if isinstance(value, bytes):
        return hex_preview(value)
    if isinstance(value, str):
        return repr_text(value)
    return render_value(value)


def repr_text(text: str, limit: int = 200) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return "'" + safe_text(shown).replace("'", "\\'") + "'"


class TextSinkFactory:
    """Sink ``text``. Options: ``utc=true`` prints times in UTC; ``empty_control=true``
    (which ``--all-layers`` sets) also prints WebSocket control frames without payload."""

    name = "text"
    description = "one plain readable line per record"
    options = {
        "utc": "true: times in UTC",
        "empty_control": "true: also WebSocket control frames without payload",
    }

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` (or :class:`ValueError`) for an option
        value not taken."""
        _settings(options)

    def open(self, context: SinkContext) -> TextSink:
        return TextSink(context.stream, **_settings(context.options))


def _settings(options: Mapping[str, Any]) -> dict[str, bool]:
    return {
        "utc": flag_option(options, "utc"),
        "empty_control": flag_option(options, "empty_control"),
    }
