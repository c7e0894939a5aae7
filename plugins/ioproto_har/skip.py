"""A JSON value of a HAR moved past without building it (:func:`skip`), for the members of
an entry that no decoder reads (``_initiator``, ``cookies``, ``queryString``, …): memory
holds a read's worth of it, whatever its size or its depth.

A value that is whole in what is buffered is parsed and dropped; a larger one is walked: its
strings and its numbers read past (:func:`.longtext.read_string`,
:func:`.number.read_number`), its lists and objects an item at a time,
the lists and objects it is in held as a list of their closings rather than as nested calls
(so that no depth is too deep for the walk; one too deep for the decoder is walked too). A
JSON error in it is raised in the words of the file's decoder.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .longtext import read_string
from .number import NUMBER_START, read_number

if TYPE_CHECKING:
    from .text import Text

_CLOSING = {"[": "]", "{": "}"}


def skip(text: Text) -> None:
    """Move ``text`` past the JSON value that starts here."""
    closings: list[str] = []  # of the lists and objects the walk is in, the innermost last
    whole = [True]  # whether to try a parse of the whole value first (not once too deep)
    while True:
        if _enter(text, closings, whole):
            continue  # (the first value in a list or object comes next)
        while closings:  # a value was moved past: the lists and objects it ends
            if text.peek() == closings[-1]:
                text.position += 1
                closings.pop()
                continue
            text.expect(",", "Expecting ',' delimiter")
            if closings[-1] == "}":
                _key(text)
            break
        else:
            return


def _enter(text: Text, closings: list[str], whole: list[bool]) -> bool:
    """Move past the value that starts here (``False``), or into the list or object that
    does, past its first key (``True``: its closing is pushed on ``closings``)."""
    if whole[0]:
        try:
            found, _ = text.whole()
        except RecursionError:  # (deeper than the decoder goes: walked, not parsed)
            whole[0] = found = False
        if found:
            return False
    first = text.peek()
    if first == '"':
        read_string(text, 0, base64=False)
        return False
    closing = _CLOSING.get(first)
    if closing is None:
        if first in NUMBER_START:
            read_number(text)  # (of any length)
        else:
            text.value()  # (a literal, or what the decoder says is wrong)
        return False
    text.position += 1
    if text.peek() == closing:
        text.position += 1
        return False
    closings.append(closing)
    if closing == "}":
        _key(text)
    return True


def _key(text: Text) -> None:
    if text.peek() != '"':
        message = "Expecting property name enclosed in double quotes"
        raise json.JSONDecodeError(message, text.buffer, text.position)
    read_string(text, 0, base64=False)
    text.expect(":", "Expecting ':' delimiter")
