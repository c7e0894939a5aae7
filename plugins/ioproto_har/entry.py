"""A HAR's entries read so that one entry's size does not set what memory holds
(:func:`entries`).

An entry that is whole in what is buffered (a read of 1 MiB) is parsed whole, as before. A
larger one is walked member by member along the members that can be large — a body's text
(``request.postData.text``, ``response.content.text``) and the ``_webSocketMessages`` list
with each message's ``data`` — and its other members are parsed whole:

* a body's or message's text over the limit that applies to it (the source's ``max_payload``)
  is read past, not kept: it becomes an :class:`~.longtext.Oversized` with its sizes, for the
  source to say it is over the limit (``har.body.too-large``, ``har.websocket.too-large``);
* the messages are read one at a time into a :class:`~.spool.Spool`, which holds 16 MiB of
  them in memory and writes the rest to temporary files. They are held until the entry's end,
  not given as they come, because Chrome writes an entry's members in the order of their
  names: ``_webSocketMessages`` before the ``request`` (the URL, which says whether the entry
  is wanted and names its connection), the ``response`` and ``startedDateTime`` its messages
  need.

Both are also applied to an entry parsed whole, so that an entry reads the same wherever the
reads cut it. The entry is otherwise the value a whole parse gives (duplicate keys too: the
last one wins, in the first one's place).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .longtext import capped, read_string
from .spool import Spool

if TYPE_CHECKING:
    from .text import Text

#: What a message held in a spool costs besides its characters (a dict and its values).
_OVERHEAD = 512

#: Where the members that can be large are: a text is read past when it is over the limit;
#: a list of messages is spooled. Any other member is parsed whole.
_TEXT = "text"
_MESSAGES = "messages"
_BODY: Mapping[str, Any] = {"text": _TEXT}
_MESSAGE: Mapping[str, Any] = {"data": _TEXT}
_ENTRY: Mapping[str, Any] = {
    "_webSocketMessages": _MESSAGES,
    "request": {"postData": _BODY},
    "response": {"content": _BODY},
}


def entries(text: Text, limit: int) -> Iterator[Any]:
    """The entries of the list that starts here; an entry's spool is closed when the next
    entry is read (or the reading ends)."""
    for entry in text.elements(lambda: _value(text, _ENTRY, limit)):
        try:
            yield entry
        finally:
            _close(entry)


def _value(text: Text, shape: Any, limit: int) -> Any:
    """The value that starts here, read as ``shape`` says."""
    found, value = text.whole()
    if found:
        return _capped(value, shape, limit)
    first = text.peek()
    if shape == _TEXT and first == '"':
        return read_string(text, limit)
    if shape == _MESSAGES and first == "[":
        return _spooled(text, limit)
    if isinstance(shape, Mapping) and first == "{":
        return _object(text, shape, limit)
    return text.value()  # (a value of another type than the shape's, parsed whole)


def _object(text: Text, shape: Mapping[str, Any], limit: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    try:
        for key in text.members():
            member = shape.get(key)
            _close_one(value.get(key))  # a duplicate key: the last one wins
            value[key] = text.value() if member is None else _value(text, member, limit)
    except BaseException:
        _close(value)
        raise
    return value


def _spooled(text: Text, limit: int) -> Spool:
    spool = Spool()
    try:
        for message, size in text.elements(lambda: _weighed(text, limit)):
            spool.append(message, size)
    except BaseException:
        spool.close()
        raise
    return spool


def _weighed(text: Text, limit: int) -> tuple[Any, int]:
    """The message that starts here and about what it holds: its characters in the file
    but those read past."""
    offset, skipped = text.offset, text.skipped
    message = _value(text, _MESSAGE, limit)
    return message, _OVERHEAD + (text.offset - offset) - (text.skipped - skipped)


def _capped(value: Any, shape: Any, limit: int) -> Any:
    """``value`` parsed whole, with what ``shape`` says applied as the walk applies it."""
    if shape == _TEXT:
        return capped(value, limit)
    if shape == _MESSAGES and isinstance(value, list):
        return [_capped(message, _MESSAGE, limit) for message in value]
    if isinstance(shape, Mapping) and isinstance(value, dict):
        for key, member in shape.items():
            if key in value:
                value[key] = _capped(value[key], member, limit)
    return value


def _close(entry: Any) -> None:
    if isinstance(entry, dict):
        for value in entry.values():
            _close_one(value)


def _close_one(value: Any) -> None:
    if isinstance(value, Spool):
        value.close()
