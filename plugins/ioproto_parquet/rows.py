"""Records → rows of the Parquet tables (plain Python values, in column order).

:class:`RowMaker` knows, per record class, which table it goes to and which column each of
its fields fills; the plan is made once per class. A value that does not fit its column
(an integer beyond 64 bits, text that is not valid UTF-8, a value of an unexpected type) is
written to the ``extra`` JSON column instead, so nothing is lost. The mapping is documented
in docs/formats.md ("Parquet") and checked against the jsonl form by the tests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import attrs
from ioproto_appproto.records import AppMessage
from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_engineio.records import EngineIOHttpError, EngineIOPacket, EngineIOTransportClose
from ioproto_http.records import Chunk, HttpInfo
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck

from ioproto.jsonform import COMMON_FIELDS, to_jsonable, written_when_set
from ioproto.model import ErrorRecord, Record

from .schema import (
    APP,
    CHUNKS,
    ENGINEIO,
    ERRORS,
    OTHER,
    SESSIONS,
    SOCKETIO,
    TAGS,
    Table,
    tag_column,
)

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    orjson = None  # type: ignore[assignment]

_INT64 = (-(2**63), 2**63 - 1)
_SKIPPED = frozenset({*COMMON_FIELDS, "parent", "tags", "raw"})

#: Record classes → table, most specific first (a subclass goes with its base).
_TABLE_OF: tuple[tuple[type, Table], ...] = (
    (ErrorRecord, ERRORS),
    (Chunk, CHUNKS),
    (EngineIOPacket, ENGINEIO),
    (EngineIOHttpError, ENGINEIO),
    (EngineIOTransportClose, ENGINEIO),
    (SocketIOPacket, SOCKETIO),
    (SocketIOUnansweredAck, SOCKETIO),
    (SessionSummary, SESSIONS),
    (HeartbeatTimeout, SESSIONS),
    (AppMessage, APP),
)


class _Misfit(Exception):
    """A value that its column cannot hold; it goes to ``extra``."""


def table_for(cls: type) -> Table:
    """The table records of class ``cls`` are written to."""
    for base, table in _TABLE_OF:
        if issubclass(cls, base):
            return table
    return OTHER


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _Misfit
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Misfit from None
    return value


def _name(value: Any) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return _text(value)


def _int(value: Any) -> int | None:
    if value is None:
        return None
    if type(value) is not int or not _INT64[0] <= value <= _INT64[1]:
        raise _Misfit
    return value


def _float(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Misfit
    return float(value)


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _Misfit
    return value


def ts_micros(value: Any) -> int | None:
    """Seconds since the epoch → integer microseconds (the ``ts`` mapping)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise _Misfit
    micros = round(value * 1_000_000)
    if not _INT64[0] <= micros <= _INT64[1]:
        raise _Misfit
    return micros


def _bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, bytes | bytearray | memoryview):
        raise _Misfit
    return bytes(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    return to_jsonable(value)


def json_text(value: Any) -> str | None:
    """Any value as JSON text, bytes as ``{"$bytes": …}`` (the jsonl conventions)."""
    if value is None:
        return None
    if orjson is not None:
        try:
            return orjson.dumps(value, default=_json_default).decode()
        except (TypeError, orjson.JSONEncodeError):
            pass  # lone surrogates, integers beyond 64 bits: the json module copes
    try:
        return json.dumps(
            to_jsonable(value), ensure_ascii=True, separators=(",", ":"), allow_nan=False
        )
    except ValueError:
        return json.dumps(to_jsonable(value), ensure_ascii=True, separators=(",", ":"))


def _texts(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise _Misfit
    return [_text_required(item) for item in value]


def _text_required(value: Any) -> str:
    text = _text(value)
    if text is None:
        raise _Misfit
    return text


def _pairs(value: Any) -> list[dict[str, str]]:
    out = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise _Misfit
        out.append({"name": _text_required(pair[0]), "value": _text_required(pair[1])})
    return out


def _http(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, HttpInfo):
        raise _Misfit
    return {
        "method": _text(value.method),
        "target": _text(value.target),
        "path": _text(value.path),
        "query": _pairs(value.query),
        "status": _int(value.status),
        "reason": _text(value.reason),
        "headers": _pairs(value.headers),
        "request_headers": _pairs(value.request_headers),
        "request_ts": ts_micros(value.request_ts),
    }


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _text,
    "name": _name,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "ts": ts_micros,
    "bytes": _bytes,
    "json": json_text,
    "texts": _texts,
    "pairs": lambda value: None if value is None else _pairs(value),
    "http": _http,
}

_TAG_PLAN = {tag: CONVERTERS[kind] for tag, kind in TAGS.items()}


@attrs.frozen
class _Plan:
    table: Table
    columns: dict[str, int]
    fields: tuple[tuple[str, int, Callable[[Any], Any]], ...]
    extra_fields: tuple[str, ...]
    #: the extra fields written only when set (ioproto.jsonform.WHEN_SET)
    when_set: frozenset[str]
    answers: bool


class RowMaker:
    """Turns records into ``(table, row, estimated bytes)``.

    ``include_raw`` writes every record's raw bytes (errors always have them). The size
    estimate counts strings and bytes by their length and every other value as 8 bytes: it
    is what the writer's byte budget measures.
    """

    def __init__(self, *, include_raw: bool = False) -> None:
        self.include_raw = include_raw
        self._plans: dict[type, _Plan] = {}

    def _plan(self, cls: type) -> _Plan:
        plan = self._plans.get(cls)
        if plan is None:
            table = table_for(cls)
            columns = {column.name: i for i, column in enumerate(table.all_columns())}
            kinds = {column.name: column.kind for column in table.all_columns()}
            fields = []
            extra = []
            names = {field.name for field in attrs.fields(cls)}
            for field in attrs.fields(cls):
                if field.name in _SKIPPED or not field.metadata.get("json", True):
                    continue
                if field.name in table.columns_by_name():
                    fields.append((field.name, columns[field.name], CONVERTERS[kinds[field.name]]))
                else:
                    extra.append(field.name)
            plan = _Plan(
                table=table,
                columns=columns,
                fields=tuple(fields),
                extra_fields=tuple(extra),
                when_set=frozenset(f.name for f in attrs.fields(cls) if written_when_set(f)),
                answers="answers" in names and table is SOCKETIO,
            )
            self._plans[cls] = plan
        return plan

    def row(self, record: Record, index: int) -> tuple[Table, list[Any], int]:
        """The table, the row (values in column order) and its estimated size in bytes."""
        plan = self._plan(record.__class__)
        columns = plan.columns
        row: list[Any] = [None] * len(columns)
        extra: dict[str, Any] = {}
        row[0] = index
        for position, name in enumerate(COMMON_FIELDS, start=1):
            value = getattr(record, name)
            try:
                row[position] = ts_micros(value) if name == "ts" else _text(value)
            except _Misfit:
                extra[name] = value
        for name, position, convert in plan.fields:
            value = getattr(record, name)
            try:
                row[position] = convert(value)
            except _Misfit:
                if name == "data" and "data_bytes" in columns and isinstance(value, bytes):
                    row[columns["data_bytes"]] = value
                else:
                    extra[name] = value
        for name in plan.extra_fields:
            value = getattr(record, name)
            if value or name not in plan.when_set:  # as in jsonl: no notes, no field
                extra[name] = value
        if plan.answers:
            answered = getattr(record, "answers", None)
            if answered is not None:
                try:
                    row[columns["answers_event"]] = _name(getattr(answered, "event", None))
                    row[columns["answers_ts"]] = ts_micros(answered.ts)
                except _Misfit:
                    pass  # a derived column: nothing is lost by leaving it empty
        parent = record.parent
        if parent is not None:
            via = []
            while parent is not None:
                via.append(parent.layer)
                parent = parent.parent
            row[columns["via"]] = via
        if record.tags:
            tags_extra: dict[str, Any] = {}
            for tag in record.tags:
                # The last tag of a name wins, as in jsonl: it clears what came before.
                tag_convert = _TAG_PLAN.get(tag.name)
                if tag_convert is not None:
                    position = columns[tag_column(tag.name)]
                    row[position] = None
                    if tag.value is not None:
                        try:
                            row[position] = tag_convert(tag.value)
                            tags_extra.pop(tag.name, None)
                            continue
                        except _Misfit:
                            pass
                tags_extra[tag.name] = tag.value
            if tags_extra:
                row[columns["tags_extra"]] = json_text(tags_extra)
        if extra:
            row[columns["extra"]] = json_text(extra)
        if isinstance(record, ErrorRecord) or self.include_raw:
            raw = getattr(record, "raw", b"")
            row[columns["raw"]] = bytes(raw) if isinstance(raw, bytes | bytearray) else b""
        size = 8 * len(row)
        for value in row:
            if value.__class__ is str or value.__class__ is bytes:
                size += len(value)
        return plan.table, row, size
