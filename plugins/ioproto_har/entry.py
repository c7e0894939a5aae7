"""A HAR's entries read so that one entry's size does not set what memory holds
(:func:`entries`).

An entry keeps only the members the source reads (:data:`_ENTRY`: the URL, the method, the
headers, the bodies, the status, the times, the WebSocket messages…); any other member
(``_initiator``, ``cookies``, ``queryString``, ``postData.params``, …) is moved past
without being built (:mod:`.skip`).

An entry that is whole in what is buffered (a read of 1 MiB) is parsed whole, as before. A
larger one, or one that holds a number too long to parse, is walked member by member:

* a body's or message's text over the limit that applies to it (the source's ``max_payload``)
  is read past, not kept: it becomes an :class:`~.longtext.Oversized` with its sizes, for the
  source to say it is over the limit (``har.body.too-large``, ``har.websocket.too-large``);
* the messages are read one at a time into a :class:`~.spool.Spool`, which holds 16 MiB of
  them in memory and writes the rest to temporary files. They are held until the entry's end,
  not given as they come, because Chrome writes an entry's members in the order of their
  names: ``_webSocketMessages`` before the ``request`` (the URL, which says whether the entry
  is wanted and names its connection), the ``response`` and ``startedDateTime`` its messages
  need;
* what the entry keeps besides its texts and messages (its *head*: the URL, the headers, the
  times…) is weighed as it is read, against ``head_limit`` bytes: each string its UTF-8 bytes
  and each value, key or list item :data:`_ITEM` bytes more. Past the limit, nothing more of
  the entry is kept (but a short ``startedDateTime``) and it becomes a :class:`TooLarge` that
  names where it went over, for the source to say so (``har.entry.too-large``). A message's
  members besides its ``data`` are weighed alike, each message on its own: past the limit
  the message becomes a :class:`TooLarge`;
* a number too long to parse (:mod:`.number`) is read past: in the head, nothing more of the
  entry (or message) is kept, as past the limit, and it becomes a :class:`NumberTooLong`
  naming the member; elsewhere it is moved past with the member no decoder reads.

All of it is also applied to an entry parsed whole, so that an entry reads the same wherever
the reads cut it. The entry is otherwise the value a whole parse gives (duplicate keys too:
the last one wins, in the first one's place; but a head is weighed as it is read, a value a
duplicate replaced included, where a whole parse sees only the last). An entry that is no
object is moved past too and given as ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .longtext import Oversized, capped, read_string, utf8_size
from .number import NUMBER_START, LongNumber, read_number
from .skip import skip
from .spool import Spool

if TYPE_CHECKING:
    from .text import Text

#: What a message held in a spool costs besides its characters (a dict and its values).
_OVERHEAD = 512
#: What a value of an entry's head costs in memory besides its characters (an object, a
#: reference to it; a dict's slot): a million headers {"name": "x", "value": "v"} weigh
#: 331 MB.
_ITEM = 64
#: The most a character of the file weighs in a head: a value or a key takes one at least,
#: and 4 UTF-8 bytes at most come of one.
_MOST_PER_CHARACTER = _ITEM + 4
#: The longest ``startedDateTime`` kept for an entry over its head limit (its error's time).
_SHORT = 64


@dataclass(frozen=True)
class TooLarge:
    """An entry (or a WebSocket message) dropped because what it holds besides its texts
    and messages went over ``limit`` bytes, at the member ``where`` (``request.url``,
    ``request.headers[7].value``; ``""``: the entry itself); ``started`` is its
    ``startedDateTime`` when that is a short string."""

    where: str
    limit: int
    started: str | None = None


@dataclass(frozen=True)
class NumberTooLong:
    """An entry (or a WebSocket message) dropped because a member the source reads holds a
    number of ``size`` characters, too long to read (:mod:`.number`), at ``where`` (as for
    :class:`TooLarge`); ``started`` as for :class:`TooLarge`."""

    where: str
    size: int
    started: str | None = None


@dataclass(frozen=True)
class _List:
    """The shape of a list whose items all have the shape ``item``."""

    item: Any


#: How the members are read: a text is read past when it is over the limit; a list of
#: messages is spooled; a head value is kept and weighed; a start time is kept (short) also
#: once the head is over. A member the shape does not name is skipped.
_TEXT = "text"
_MESSAGES = "messages"
_HEAD = "head"
_STARTED = "started"
_BODY: Mapping[str, Any] = {"text": _TEXT, "encoding": _HEAD, "_encoding": _HEAD}
_HEADERS = _List({"name": _HEAD, "value": _HEAD})
_MESSAGE: Mapping[str, Any] = {"data": _TEXT, "type": _HEAD, "time": _HEAD, "opcode": _HEAD}
_TIMINGS: Mapping[str, Any] = dict.fromkeys(
    ("blocked", "dns", "connect", "send", "wait", "receive"), _HEAD
)
_ENTRY: Mapping[str, Any] = {
    "_resourceType": _HEAD,
    "_webSocketMessages": _MESSAGES,
    "connection": _HEAD,
    "request": {"method": _HEAD, "url": _HEAD, "headers": _HEADERS, "postData": _BODY},
    "response": {"status": _HEAD, "statusText": _HEAD, "headers": _HEADERS, "content": _BODY},
    "serverIPAddress": _HEAD,
    "startedDateTime": _STARTED,
    "time": _HEAD,
    "timings": _TIMINGS,
}
#: The longest key of a shape: a longer key is read past (it is none of them).
_KEY = 64


@dataclass(frozen=True)
class _Limits:
    text: int  # a body's or message's text
    head: int  # an entry's head, a message's members besides its data


class _Head:
    """What an entry (or a message) may still keep of its head, in bytes; once over,
    ``over`` names the member where it went over, and nothing more is kept. A number too
    long to read ends it too: ``number`` is then its length, ``over`` where it is."""

    def __init__(self, limit: int) -> None:
        self.limit = self.left = limit
        self.over: str | None = None
        self.number: int | None = None

    def take(self, weight: int, where: str) -> bool:
        """Whether ``weight`` more bytes fit (they are then counted); if not, the head is
        over at ``where`` for good."""
        if self.over is None and weight > self.left:
            self.over = where
        if self.over is not None:
            return False
        self.left -= weight
        return True

    def refuse_number(self, size: int, where: str) -> None:
        """A number of ``size`` characters at ``where``, too long to read: nothing more is
        kept."""
        if self.over is None:
            self.over, self.number = where, size

    def dropped(self, started: str | None = None) -> TooLarge | NumberTooLong:
        """What is given for the entry or message once :attr:`over` is set."""
        assert self.over is not None
        if self.number is not None:
            return NumberTooLong(self.over, self.number, started)
        return TooLarge(self.over, self.limit, started)


def entries(text: Text, limit: int, head_limit: int) -> Iterator[Any]:
    """The entries of the list that starts here, texts over ``limit`` read past and heads
    over ``head_limit`` given as :class:`TooLarge`; an entry's spool is closed when the next
    entry is read (or the reading ends)."""
    limits = _Limits(limit, head_limit)
    for entry in text.elements(lambda: _entry(text, limits)):
        try:
            yield entry
        finally:
            _close(entry)


def _entry(text: Text, limits: _Limits) -> Any:
    if text.peek() != "{":
        skip(text)  # (the source says it is not an object: what it is does not matter)
        return None
    head = _Head(limits.head)
    light, entry = _light(text, _ENTRY, limits)
    if light:
        return entry
    entry = _value(text, _ENTRY, limits, head, "")
    if head.over is None:
        return entry
    _close(entry)
    return head.dropped(_short(entry.get("startedDateTime")))


def _message(text: Text, limits: _Limits) -> Any:
    light, message = _light(text, _MESSAGE, limits)
    if light:
        return message
    head = _Head(limits.head)
    message = _value(text, _MESSAGE, limits, head, "")
    return message if head.over is None else head.dropped()


def _light(text: Text, shape: Mapping[str, Any], limits: _Limits) -> tuple[bool, Any]:
    """``(True, value)`` when the value that starts here is whole in what is buffered and
    too short to go over the head limit however it is made (what most entries and messages
    are): ``shape`` applied but the weighing. Else ``(False, None)``, moved past nothing."""
    text.peek()  # (what reads on is done: the buffer stays as it is until the rewind)
    start = text.position
    found, value = _whole(text)
    if not found:
        return False, None
    if (text.position - start) * _MOST_PER_CHARACTER > limits.head:
        text.position = start  # (to be weighed)
        return False, None
    return True, _trimmed(value, shape, limits)


def _whole(text: Text) -> tuple[bool, Any]:
    """:meth:`~.text.Text.whole`; ``(False, None)`` for a value nested deeper than the
    decoder goes, which the walk may still move past (an unread member: :mod:`.skip`)."""
    try:
        return text.whole()
    except RecursionError:
        return False, None


def _trimmed(value: Any, shape: Any, limits: _Limits) -> Any:
    """``value`` with what ``shape`` says applied but the weighing, as :func:`_capped`
    gives it when the head is not over."""
    if shape == _TEXT and isinstance(value, str):
        return capped(value, limits.text)
    if shape == _MESSAGES and isinstance(value, list):
        return [_trimmed(message, _MESSAGE, limits) for message in value]
    if isinstance(shape, Mapping) and isinstance(value, dict):
        return {
            key: _trimmed(member, shape[key], limits)
            for key, member in value.items()
            if key in shape
        }
    if isinstance(shape, _List) and isinstance(value, list):
        return [_trimmed(item, shape.item, limits) for item in value]
    return value


def _value(text: Text, shape: Any, limits: _Limits, head: _Head, where: str) -> Any:
    """The value that starts here, read as ``shape`` says."""
    if head.over is not None:
        if shape == _STARTED:
            return _started(text)
        skip(text)
        return None
    found, value = _whole(text)
    if found:
        return _capped(value, shape, limits, head, where)
    first = text.peek()
    if shape == _TEXT and first == '"':
        return read_string(text, limits.text)
    if shape == _MESSAGES and first == "[":
        return _spooled(text, limits)
    if isinstance(shape, Mapping) and first == "{":
        return _object(text, shape, limits, head, where)
    if isinstance(shape, _List) and first == "[":
        return _list(text, shape.item, limits, head, where)
    return _kept(text, head, where)  # (a head value, or a value of another type than its shape's)


def _object(
    text: Text, shape: Mapping[str, Any], limits: _Limits, head: _Head, where: str
) -> dict[str, Any]:
    value: dict[str, Any] = {}
    head.take(_ITEM, where)
    try:
        for key in text.members(lambda: read_string(text, _KEY, base64=False)):
            member = shape.get(key) if isinstance(key, str) else None
            if member is None:
                skip(text)
                continue
            inner = _inner(where, key)
            head.take(_ITEM + len(key), inner)
            _close_one(value.get(key))  # a duplicate key: the last one wins
            value[key] = _value(text, member, limits, head, inner)
    except BaseException:
        _close(value)
        raise
    return value


def _list(text: Text, item: Any, limits: _Limits, head: _Head, where: str) -> list[Any]:
    head.take(_ITEM, where)
    kept: list[Any] = []
    for value in text.elements(lambda: _value(text, item, limits, head, f"{where}[{len(kept)}]")):
        kept.append(value)
    return kept


def _kept(text: Text, head: _Head, where: str) -> Any:
    """The head value that starts here, kept whole as long as it fits the head (``None``
    past it). A list or an object (a value of another type than its shape's) is walked with
    the lists and objects it is in held as a list, not as nested calls: no depth is too
    deep for it."""
    levels: list[_Level] = []
    while True:
        value, opened = _kept_item(text, head, where)
        if opened is not None:
            closing = "]" if isinstance(opened, list) else "}"
            if text.peek() != closing:
                levels.append(_Level(opened, closing))
                if closing == "}":
                    levels[-1].key = _kept_key(text, head, where)
                continue  # (its first item comes next)
            text.position += 1
            value = opened
        while levels:  # a value was read: into the list or object it is in, and the ends
            level = levels[-1]
            if isinstance(level.value, list):
                level.value.append(value)
            else:
                level.value[level.key] = value
            if text.peek() == level.closing:
                text.position += 1
                value = levels.pop().value
                continue
            text.expect(",", "Expecting ',' delimiter")
            if level.closing == "}":
                level.key = _kept_key(text, head, where)
            break
        else:
            return value


class _Level:
    """A list or an object :func:`_kept` is in: what it holds so far, its closing, and the
    key of the value being read in it."""

    def __init__(self, value: list[Any] | dict[str, Any], closing: str) -> None:
        self.value = value
        self.closing = closing
        self.key = ""


def _kept_item(
    text: Text, head: _Head, where: str
) -> tuple[Any, list[Any] | dict[str, Any] | None]:
    """``(value, None)`` for the value that starts here when it is no list or object, or is
    whole in what is buffered (``None`` once the head is over); ``(None, opened)`` past the
    opening of a list or an object, ``opened`` empty for its items."""
    if head.over is not None:
        skip(text)
        return None, None
    found, value = _whole(text)
    if found:
        return (value if head.take(_weight(value), where) else None), None
    first = text.peek()
    if first == '"':
        if not head.take(_ITEM, where):
            skip(text)
            return None, None
        string = read_string(text, head.left, base64=False)
        if isinstance(string, Oversized):
            head.take(string.size, where)
            return None, None
        head.take(utf8_size(string), where)
        return string, None
    if first in ("[", "{"):
        head.take(_ITEM, where)
        text.position += 1
        return None, [] if first == "[" else {}
    value = read_number(text) if first in NUMBER_START else text.value()  # (or a literal)
    if head.take(_ITEM, where) and isinstance(value, LongNumber):
        head.refuse_number(value.size, where)
    return (None if isinstance(value, LongNumber) else value), None


def _kept_key(text: Text, head: _Head, where: str) -> str:
    """The key that starts here in an object of a head value, weighed as a string."""
    if text.peek() != '"':
        message = "Expecting property name enclosed in double quotes"
        raise json.JSONDecodeError(message, text.buffer, text.position)
    key, _ = _kept_item(text, head, where)
    text.expect(":", "Expecting ':' delimiter")
    return key if isinstance(key, str) else ""


def _started(text: Text) -> str | None:
    """The start time that starts here, kept when it is a short string."""
    found, value = _whole(text)
    if found:
        return _short(value)
    if text.peek() == '"':
        string = read_string(text, _SHORT, base64=False)
        return string if isinstance(string, str) else None
    skip(text)
    return None


def _short(value: Any) -> str | None:
    return value if isinstance(value, str) and utf8_size(value) <= _SHORT else None


def _spooled(text: Text, limits: _Limits) -> Spool:
    spool = Spool()
    try:
        for message, size in text.elements(lambda: _weighed(text, limits)):
            spool.append(message, size)
    except BaseException:
        spool.close()
        raise
    return spool


def _weighed(text: Text, limits: _Limits) -> tuple[Any, int]:
    """The message that starts here and about what it holds: its characters in the file
    but those read past."""
    offset, skipped = text.offset, text.skipped
    message = _message(text, limits)
    return message, _OVERHEAD + (text.offset - offset) - (text.skipped - skipped)


def _capped(value: Any, shape: Any, limits: _Limits, head: _Head, where: str) -> Any:
    """``value`` parsed whole, with what ``shape`` says applied as the walk applies it."""
    if head.over is not None:
        return _short(value) if shape == _STARTED else None
    if shape == _TEXT and isinstance(value, str):
        return capped(value, limits.text)
    if shape == _MESSAGES and isinstance(value, list):
        return [_capped_message(message, limits) for message in value]
    if isinstance(shape, Mapping) and isinstance(value, dict):
        head.take(_ITEM, where)
        kept: dict[str, Any] = {}
        for key, member in value.items():
            if key in shape:
                inner = _inner(where, key)
                head.take(_ITEM + len(key), inner)
                kept[key] = _capped(member, shape[key], limits, head, inner)
        return kept
    if isinstance(shape, _List) and isinstance(value, list):
        head.take(_ITEM, where)
        return [
            _capped(item, shape.item, limits, head, f"{where}[{index}]")
            for index, item in enumerate(value)
        ]
    return value if head.take(_weight(value), where) else None


def _capped_message(message: Any, limits: _Limits) -> Any:
    head = _Head(limits.head)
    message = _capped(message, _MESSAGE, limits, head, "")
    return message if head.over is None else head.dropped()


def _weight(value: Any) -> int:
    """What a head value weighs: its strings' UTF-8 bytes and :data:`_ITEM` a value or key."""
    weight, values = 0, [value]
    while values:
        value = values.pop()
        weight += _ITEM
        if isinstance(value, str):
            weight += utf8_size(value)
        elif isinstance(value, list):
            values += value
        elif isinstance(value, dict):
            weight += sum(_ITEM + utf8_size(key) for key in value)
            values += value.values()
    return weight


def _inner(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _close(entry: Any) -> None:
    if isinstance(entry, dict):
        for value in entry.values():
            _close_one(value)


def _close_one(value: Any) -> None:
    if isinstance(value, Spool):
        value.close()
