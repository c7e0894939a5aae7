"""A HAR file's entries read one at a time (:func:`read_entries`), so that memory holds one
entry and a read buffer, not the whole document (a 300 MB HAR parsed whole took 923 MB).

Each value is parsed by the standard library's JSON decoder (``raw_decode``, through
:class:`.text.Text`), as the whole file was before: an entry reads the same, absurd values
included (``NaN``, ``1e400``, huge integers through ``parse_int``), but for a number too
long to parse, which is read past (:mod:`.number`). Only the skeleton around the entries
(``{"log": {"entries": [`` … ``]}}``) is walked here: the other members (their keys too),
and a document, ``log`` or ``entries`` of another type than a HAR's, are moved past without
being built (:mod:`.skip`), and the document is checked to its end, so that a file that is
no HAR says what is wrong in the words a whole parse gave (``it has no "log" object``, ``it
is not JSON (extra data at line 2, column 1)``), but for one nested deeper than that parse
went, which is walked too (``[[[…`` cut: ``expecting value``, where a whole parse said
``nested too deep``).

An entry is read as :mod:`.entry` says: whole when it is in what is buffered, else member
by member, so that a long body, a long WebSocket session, a huge header or a member no
decoder reads does not set what memory holds.

A fault found after some entries (broken JSON in the middle, a cut file) is raised when the
reading reaches it: the entries before it have been given.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from .entry import entries
from .longtext import read_string
from .number import decoder
from .skip import skip
from .text import Text


class NotAHar(Exception):
    """A file that cannot be read as a HAR (or, after some entries, no further); the message
    says why in words (``it has no "log" object``), for the line ``not a readable HAR: …``."""


def read_entries(
    input: str, parse_int: Callable[[str], Any], limit: int, head_limit: int | None = None
) -> Iterator[Any]:
    """The elements of the ``log.entries`` list of the HAR file ``input``, in order, read as
    :func:`.entry.entries` reads them with ``limit`` (the source's ``max_payload``): an
    entry's ``_webSocketMessages`` list may be a :class:`~.spool.Spool`, valid until the next
    entry is read, a body or message text over ``limit`` an :class:`~.longtext.Oversized`,
    and an entry (or a message) whose other members go over ``head_limit`` bytes (by
    default ``limit``) a :class:`~.entry.TooLarge`; the members no decoder reads are left out.

    Raises :class:`NotAHar` when it is not one (empty, not JSON, another shape of JSON,
    unreadable) — after the entries before the fault, if it comes after some — and
    ``FileNotFoundError`` when there is no such file."""
    try:
        handle = open(input, "rb")  # noqa: SIM115 (closed below, also when not read to the end)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise NotAHar(f"cannot read it ({exc.strerror or exc})") from None
    with handle:
        text = Text(handle, decoder(parse_int))
        try:
            yield from _entries(text, limit, limit if head_limit is None else head_limit)
        except json.JSONDecodeError as exc:
            why = exc.msg[:1].lower() + exc.msg[1:].removesuffix(" at")  # "…starting at"
            line, column = text.where(exc)
            raise NotAHar(f"it is not JSON ({why} at line {line}, column {column})") from None
        except UnicodeDecodeError:
            raise NotAHar("it is not JSON (its bytes are not UTF-8 text)") from None
        except RecursionError:
            raise NotAHar("its JSON is nested too deep") from None
        except MemoryError:
            raise NotAHar("it is too large to read into memory") from None
        except OSError as exc:
            raise NotAHar(f"cannot read it ({exc.strerror or exc})") from None


def _entries(text: Text, limit: int, head_limit: int) -> Iterator[Any]:
    """The entries of the document in ``text``; a shape that is no HAR is said only once the
    whole document has parsed, as a whole parse said a JSON error first."""
    if text.at_end():
        if text.empty():
            raise NotAHar("the file is empty (0 bytes)")
        raise json.JSONDecodeError("Expecting value", text.buffer, text.position)
    if text.peek() != "{":
        kind = _kind_past(text)
        text.end()
        raise NotAHar(f'it is {kind}; a HAR is an object with a "log" object')
    problem: str | None = 'it has no "log" object'
    for _ in _member(text, "log"):
        if text.peek() != "{":
            problem = f'its "log" is {_kind_past(text)}, not an object'
            continue
        problem = 'its "log" object has no "entries" list'
        for _ in _member(text, "entries"):
            if text.peek() != "[":
                problem = f'its "log.entries" is {_kind_past(text)}, not a list'
                continue
            problem = None
            yield from entries(text, limit, head_limit)
    text.end()
    if problem is not None:
        raise NotAHar(problem)


def _member(text: Text, name: str) -> Iterator[None]:
    """Walk the object that starts here: every member is moved past (:mod:`.skip`) but the
    first named ``name``, at whose value this yields once for the caller to read it; a key
    longer than any of those names is read past, not kept."""
    seen = False
    for key in text.members(lambda: read_string(text, _KEY, base64=False)):
        if key != name or seen:
            skip(text)
            continue
        seen = True
        yield


#: The longest key of the skeleton's objects that is kept (``log``, ``entries``).
_KEY = 64
#: What a JSON value is, in :func:`json_kind`'s words, by its first character (any other
#: starts a number: a digit, ``-``, ``NaN``, ``Infinity``).
_KINDS = {"{": "an object", "[": "a list", '"': "a string", "t": "true", "f": "false", "n": "null"}


def _kind_past(text: Text) -> str:
    """What the JSON value that starts here is (:func:`json_kind`'s words), moved past
    without being built (:mod:`.skip`): a ``log`` that is a list of 200 MB is not held."""
    first = text.peek()
    skip(text)
    return _KINDS.get(first, "a number")


def json_kind(value: Any) -> str:
    """What ``value``, parsed from JSON, is, in JSON's words: ``a list``, ``null`` …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"
