"""The public JSON form of records (what the ``jsonl`` sink writes; see docs/formats.md).

One JSON object per record. Always present, in this order: ``ts``, ``layer``, ``type``,
``direction``, ``sid``, ``transport``, ``connection``; then the record class's own fields
(``data``, ``nsp``, ``event`` …) in declaration order, then ``tags`` as an object when there
are any. ``parent`` is not written (``via`` lists the layers below instead); ``raw`` is
written only for error records unless ``include_raw`` is set; fields declared with
``metadata={"json": False}`` (links to other records) are not written, and those declared
with :data:`WHEN_SET` (as ``notes`` is) only when their value is set (true, not empty).

Bytes anywhere become ``{"$bytes": "<base64>"}``. Tuples become arrays, enums their string
value, nested attrs records objects. Strings are kept as they are; lone surrogates are escaped
as ``\\udXXX`` (valid JSON) rather than breaking the output.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from enum import Enum
from typing import Any

import attrs

from .model import ErrorRecord, Record

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency, but json is enough
    orjson = None  # type: ignore[assignment]

COMMON_FIELDS = ("ts", "layer", "type", "direction", "sid", "transport", "connection")
#: Field metadata of a field written only when its value is set (true, not empty): a field
#: added to a record class this way leaves the output of records without it unchanged, and
#: a reader takes its absence for the default.
WHEN_SET = {"json": "when set"}
_SKIPPED = frozenset({*COMMON_FIELDS, "parent", "tags", "raw"})

_field_plans: dict[type, tuple[str, ...]] = {}
_shallow_makers: dict[type, Callable[[Any, bool], dict[str, Any]]] = {}


def _plan(cls: type) -> tuple[str, ...]:
    plan = _field_plans.get(cls)
    if plan is None:
        plan = tuple(
            field.name
            for field in attrs.fields(cls)
            if field.name not in _SKIPPED and field.metadata.get("json", True)
        )
        _field_plans[cls] = plan
    return plan


def written_when_set(field: attrs.Attribute[Any]) -> bool:
    """Whether ``field`` is written only when its value is set (``notes``, :data:`WHEN_SET`)."""
    return field.name == "notes" or field.metadata.get("json") == WHEN_SET["json"]


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON types, following the rules in the module docstring."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, Record):
        return {"layer": value.layer, "type": value.type}
    if attrs.has(type(value)):
        return {
            field.name: to_jsonable(getattr(value, field.name))
            for field in attrs.fields(type(value))
        }
    return repr(value)


def record_to_dict(record: Record, *, include_raw: bool = False) -> dict[str, Any]:
    """The JSON form of ``record`` as a dict of plain JSON types."""
    converted: dict[str, Any] = to_jsonable(_shallow_dict(record, include_raw))
    return converted


def _json_default(value: Any) -> Any:
    """What :func:`json.dumps` cannot serialise by itself, as :func:`to_jsonable` does it."""
    if type(value) is bytes:  # binary attachments, error records' raw: base64 without a copy
        return {"$bytes": binascii.b2a_base64(value, newline=False).decode("ascii")}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    return to_jsonable(value)


def _shallow_dict(record: Record, include_raw: bool) -> dict[str, Any]:
    """Like :func:`record_to_dict`, leaving nested values for ``json`` to walk (faster).

    The keys, in order: :data:`COMMON_FIELDS`, the class's own fields (``notes`` only when
    not empty), ``raw`` (error records, or with ``include_raw``), ``via`` when the record
    has a parent, ``tags`` when it has any.
    """
    maker = _shallow_makers.get(record.__class__)
    if maker is None:
        maker = _compile_shallow(record.__class__)
        _shallow_makers[record.__class__] = maker
    return maker(record, include_raw)


def _compile_shallow(cls: type) -> Callable[[Any, bool], dict[str, Any]]:
    """:func:`_shallow_dict` for records of class ``cls``, as straight-line code.

    Generated once per class: one dict display and plain attribute reads are about twice as
    fast as a loop of ``getattr`` calls, and this runs once per record written.
    """
    names = list(COMMON_FIELDS)
    rest = list(_plan(cls))
    when_set = {field.name for field in attrs.fields(cls) if written_when_set(field)}
    while rest and rest[0] not in when_set:
        names.append(rest.pop(0))
    lines = ["def shallow(record, include_raw):", "    out = {"]
    lines += [f"        {name!r}: record.{name}," for name in names]
    lines.append("    }")
    for name in rest:
        if name in when_set:
            lines += [f"    if record.{name}:", f"        out[{name!r}] = record.{name}"]
        else:
            lines.append(f"    out[{name!r}] = record.{name}")
    if issubclass(cls, ErrorRecord):
        lines.append("    out['raw'] = record.raw")
    else:
        lines += ["    if include_raw:", "        out['raw'] = getattr(record, 'raw', b'')"]
    lines += [
        "    parent = record.parent",
        "    if parent is not None:",
        "        via = []",
        "        while parent is not None:",
        "            via.append(parent.layer)",
        "            parent = parent.parent",
        "        out['via'] = via",
        "    if record.tags:",
        "        out['tags'] = {tag.name: tag.value for tag in record.tags}",
        "    return out",
    ]
    scope: dict[str, Any] = {}
    exec(compile("\n".join(lines), f"<ioproto.jsonform {cls.__name__}>", "exec"), scope)
    maker: Callable[[Any, bool], dict[str, Any]] = scope["shallow"]
    return maker


_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
)
_ascii_encoder = json.JSONEncoder(
    ensure_ascii=True, separators=(",", ":"), allow_nan=False, default=_json_default
)


_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS if orjson is not None else 0
_ORJSON_LINE = orjson.OPT_APPEND_NEWLINE if orjson is not None else 0


def dumps(record: Record, *, include_raw: bool = False) -> str:
    """One line of JSON (no newline) for ``record``; never raises for wire text.

    Gives the same JSON as ``json.dumps(record_to_dict(record))``, faster: nested values are
    left to the encoder (orjson, measured 5x faster than ``json`` on a 1 kB event; ``json``
    when orjson refuses a value), which calls back only for bytes and other non-JSON types.
    """
    obj = _shallow_dict(record, include_raw)
    if orjson is not None:
        try:
            # Without OPT_NON_STR_KEYS first: same output when every key is a str (nearly
            # always), and measurably faster.
            return orjson.dumps(obj, default=_json_default).decode()
        except (TypeError, orjson.JSONEncodeError):
            pass
    return _dumps_slowly(record, obj, include_raw)


def dumps_line(record: Record, *, include_raw: bool = False) -> str:
    """:func:`dumps` and a newline (what a JSON-lines writer writes), in one string."""
    obj = _shallow_dict(record, include_raw)
    if orjson is not None:
        try:
            return orjson.dumps(obj, default=_json_default, option=_ORJSON_LINE).decode()
        except (TypeError, orjson.JSONEncodeError):
            pass
    return _dumps_slowly(record, obj, include_raw) + "\n"


def dumps_line_bytes(record: Record, *, include_raw: bool = False) -> bytes:
    """:func:`dumps_line` encoded in UTF-8 (what orjson makes, without decoding it)."""
    obj = _shallow_dict(record, include_raw)
    if orjson is not None:
        try:
            return orjson.dumps(obj, default=_json_default, option=_ORJSON_LINE)
        except (TypeError, orjson.JSONEncodeError):
            pass
    return (_dumps_slowly(record, obj, include_raw) + "\n").encode("utf-8", "surrogatepass")


def _dumps_slowly(record: Record, obj: dict[str, Any], include_raw: bool) -> str:
    """:func:`dumps` of what orjson refused at first (``obj`` is the record's shallow dict)."""
    if orjson is not None:
        try:
            return orjson.dumps(obj, default=_json_default, option=_ORJSON_OPTIONS).decode()
        except (TypeError, orjson.JSONEncodeError):
            pass  # lone surrogates, integers beyond 64 bits: the json module copes
    try:
        line = _encoder.encode(obj)
        line.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates from the wire: ASCII escapes keep the line valid JSON and UTF-8.
        line = _ascii_encoder.encode(obj)
    except (ValueError, TypeError):  # NaN, or keys JSON has no form for (tuples)
        line = json.dumps(record_to_dict(record, include_raw=include_raw), default=repr)
    return line


def from_jsonable(value: Any) -> Any:
    """Undo :func:`to_jsonable` for bytes: ``{"$bytes": ...}`` objects become ``bytes``."""
    if isinstance(value, list):
        return [from_jsonable(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and "$bytes" in value and isinstance(value["$bytes"], str):
            return base64.b64decode(value["$bytes"])
        return {key: from_jsonable(item) for key, item in value.items()}
    return value
