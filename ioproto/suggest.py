"""Suggestions (did you mean …?) for a name a user typed that nothing takes."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, valid: Iterable[str]) -> str | None:
    """The one of ``valid`` that ``name`` most likely meant, or ``None`` when none is close.

    A misspelling (``socketoi``, ``alll``: difflib's ratio of at least 0.75, ignoring case)
    comes first; then an abbreviation: a name with the same first letter that holds
    ``name``'s letters in order (``sio`` for ``socketio``, as in the ``sio.`` filter
    fields; two letters at least), the shortest such name when several do.
    """
    import difflib

    candidates = sorted(set(valid))
    if not name or not candidates:
        return None
    lowered = {candidate.lower(): candidate for candidate in candidates}
    found = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.75)
    if found:
        return lowered[found[0]]
    if len(name) < 2:
        return None
    abbreviated = [
        candidate
        for candidate in candidates
        if candidate[:1].lower() == name[:1].lower() and _in_order(name.lower(), candidate.lower())
    ]
    return min(abbreviated, key=len) if abbreviated else None


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """``" (did you mean X?)"`` (to follow the name in a message), or ``""``."""
    found = closest(name, valid)
    return f" (did you mean {found}?)" if found is not None and found != name else ""


def _in_order(letters: str, word: str) -> bool:
    remaining = iter(word)
    return all(letter in remaining for letter in letters)
