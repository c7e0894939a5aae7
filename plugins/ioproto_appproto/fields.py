"""Filter fields of application messages.

``app.protocol``, ``app.message`` and ``app.fields`` are on every
:class:`~ioproto_appproto.records.AppMessage`. :meth:`AppProtocol.fields` adds one field per
message of a protocol, named ``<protocol>.<message>`` (``game.move``): the message's decoded
fields, so ``game.move.x > 10`` or ``game.state.players[0].health < 20`` read them. Its
description lists the names the construct declaration gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ioproto.filters import Field, reads

if TYPE_CHECKING:
    from ioproto.model import Record

    from .records import AppMessage

# The records are named, not imported: listing the fields imports no records module.
LAYER = "app"  # .records.LAYER
_MESSAGE = "ioproto_appproto.records:AppMessage"

#: How deep the construct declaration is searched for names (for descriptions only).
_MAX_DEPTH = 6


def _app(read: Callable[[AppMessage], Any]) -> Callable[[Record], Any]:
    return reads(_MESSAGE, read)


def message_field(protocol: str, message: str, format: Any) -> Field:
    """The field ``<protocol>.<message>``: the decoded fields of that message."""

    def fields_of(record: AppMessage) -> Any:
        is_it = record.protocol == protocol and record.message == message
        return record.fields if is_it else None

    get = reads(_MESSAGE, fields_of)

    names = list(field_names(format))
    listed = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
    example_name = next((name for name in names if "[" not in name), None)
    return Field(
        name=f"{protocol}.{message}",
        type="json",
        get=get,
        layer=LAYER,
        description=f"a {protocol} {message} message" + (f": {listed}" if listed else ""),
        example=f"{protocol}.{message}.{example_name}" if example_name else f"{protocol}.{message}",
    )


def field_names(format: Any, prefix: str = "", depth: int = 0) -> Iterator[str]:
    """The dotted names inside a construct declaration (``keys.jump``, ``players[].id``)."""
    if depth > _MAX_DEPTH:
        return
    subcons = getattr(format, "subcons", None)
    if isinstance(subcons, list):
        for sub in subcons:
            name = getattr(sub, "name", None)
            if isinstance(name, str) and not name.startswith("_"):
                inner = list(field_names(getattr(sub, "subcon", None), "", depth + 1))
                if inner:
                    yield from (prefix + name + _join(item) for item in inner)
                else:
                    yield prefix + name
        return
    inner_con = getattr(format, "subcon", None)
    if inner_con is None:
        return
    if type(format).__name__ in ("Array", "GreedyRange", "PrefixedArray", "RepeatUntil"):
        yield from (prefix + "[]" + _join(item) for item in field_names(inner_con, "", depth + 1))
        return
    yield from field_names(inner_con, prefix, depth + 1)


def _join(name: str) -> str:
    return name if name.startswith("[") else "." + name


FIELDS = (
    Field(
        name="app.protocol",
        type="string",
        get=_app(lambda message: message.protocol),
        layer=LAYER,
        description="an application message's protocol (game)",
        example='app.protocol == "game"',
    ),
    Field(
        name="app.message",
        type="string",
        get=_app(lambda message: message.message),
        layer=LAYER,
        description="an application message's name in its protocol (move, state)",
        example='app.message == "move"',
    ),
    Field(
        name="app.fields",
        type="json",
        get=_app(lambda message: message.fields),
        layer=LAYER,
        description="an application message's decoded fields: app.fields.seq",
        example="app.fields.seq > 100",
    ),
)
