"""The ``ioproto monitor`` shorthands, written as filter expressions.

``--event GLOB``, ``--nsp NSP``, ``--sid PREFIX``, ``--type TYPE`` and ``--direction`` are
shorthands: :func:`shorthand_expression` turns them into one ``--filter`` expression (each
option's values are alternatives, the options together must all hold), which the CLI
compiles with any ``--filter`` given. ``hide_control`` stays a display option of the sink.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ioproto.filters import quote


def glob_pattern(glob: str) -> str:
    """An RE2 pattern matching what the shell-style ``glob`` matches (``*``, ``?``,
    ``[abc]``, ``[!abc]``), whole strings only."""
    out: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and "]" in glob[index + 2 :]:
            end = glob.index("]", index + 2)
            inner = glob[index + 1 : end]
            negate = inner.startswith("!")
            inner = inner[1:] if negate else inner
            escaped = inner.replace("\\", "\\\\").replace("[", "\\[").replace("^", "\\^")
            out.append("[" + ("^" if negate else "") + escaped + "]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    return "(?s)^" + "".join(out) + "$"


def _any_of(field: str, values: Sequence[str]) -> str:
    if len(values) == 1:
        return f"{field} == {quote(values[0])}"
    return f"{field} in {{{', '.join(quote(value) for value in values)}}}"


def _events(globs: Sequence[str]) -> str:
    exact = [glob for glob in globs if not any(c in glob for c in "*?[")]
    if len(exact) == len(globs):
        return _any_of("sio.event", exact)
    pattern = "|".join(f"(?:{glob_pattern(glob)})" for glob in globs)
    return f"sio.event matches {quote(pattern)}"


def _sid_pattern(sids: Sequence[str]) -> str:
    """Session ids starting with any of ``sids``; one with ``*``, ``?`` or ``[`` is a glob
    of a whole id (``u-dz*``, as ``--event`` takes)."""
    alternatives = [
        glob_pattern(sid).removeprefix("(?s)^") if any(c in sid for c in "*?[") else re.escape(sid)
        for sid in sids
    ]
    return f"(?s)^(?:{'|'.join(alternatives)})"


def shorthand_expression(
    *,
    events: Sequence[str] = (),
    namespaces: Sequence[str] = (),
    sids: Sequence[str] = (),
    types: Sequence[str] = (),
    direction: str | None = None,
) -> str | None:
    """The filter expression the shorthands stand for; ``None`` when none is given.

    An ACK matches ``--event`` by the event it answers (``sio.event`` of an ACK);
    ``--type`` ignores case; ``--sid`` takes session id prefixes, or globs.
    """
    terms = []
    if events:
        terms.append(_events(events))
    if namespaces:
        terms.append(_any_of("sio.nsp", namespaces))
    if sids:
        terms.append(f"eio.sid matches {quote(_sid_pattern(sids))}")
    if types:
        alternatives = "|".join(re.escape(kind) for kind in types)
        terms.append(f"type matches {quote(f'(?i)^(?:{alternatives})$')}")
    if direction:
        terms.append(f"direction == {quote(direction)}")
    return " and ".join(terms) or None
