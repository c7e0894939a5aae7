"""A JSON value of a HAR moved past without building it (:func:`skip`), for the members of
an entry that no decoder reads (``_initiator``, ``cookies``, ``queryString``, …): memory
holds a read's worth of it, whatever its size.

A value that is whole in what is buffered is parsed and dropped; a larger one is walked: its
strings read past (:func:`.longtext.read_string`), its lists and objects an item at a time.
A JSON error in it is raised as the file's decoder says it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .longtext import read_string

if TYPE_CHECKING:
    from .text import Text


def skip(text: Text) -> None:
    """Move ``text`` past the JSON value that starts here."""
    found, _ = text.whole()
    if found:
        return
    first = text.peek()
    if first == '"':
        read_string(text, 0, base64=False)
    elif first == "[":
        for _ in text.elements(lambda: skip(text)):
            pass
    elif first == "{":
        for _ in text.members(lambda: read_string(text, 0, base64=False)):
            skip(text)
    else:
        text.value()  # (a number, a literal, or what the decoder says is wrong)
