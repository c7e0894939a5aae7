"""Which source option names the sources take: the one check that :func:`ioproto.decode`
makes of ``source_options`` for the source of each input, and whose words
``--source-option`` and ``--port`` share (the command checks the sources of all its inputs
at once).

A source declares the names it takes (``options``, see :mod:`ioproto.components`); a name
is valid when one of the sources reading the inputs declares it. While one of them
declares nothing, no name can be checked and every name passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .components import declared_options
from .decodeoptions import decode_option_names
from .errors import UsageError
from .sinkoptions import not_an_option

if TYPE_CHECKING:
    from .components import Source
    from .plugins import Components

#: How a program gives a decoder option, for :func:`source_option_problem`.
_LIBRARY_DECODE_OPTION = "options={{'{key}': ...}}"


def source_option_problem(
    key: str, sources: Iterable[Source], components: Components, *, decode_option: str
) -> str | None:
    """Why ``key`` is an option of none of ``sources``, or ``None`` when one takes it or it
    cannot be checked: ``"not an option of the A, B source (did you mean X?); valid: C, D"``,
    and when a decoder or classifier declares ``key``, ``"; KEY is a decoder's option:
    HOW"``, where ``decode_option`` is how the caller's user gives one, ``{key}`` standing
    for the name (``-D {key}=VALUE``)."""
    chosen = {source.name: source for source in sources}
    valid: set[str] = set()
    for source in chosen.values():
        declared = declared_options(source, "Source")
        if declared is None:
            return None
        valid.update(declared)
    if key in valid:
        return None
    problem = not_an_option(key, valid, f"{', '.join(sorted(chosen))} source")
    if key in (decode_option_names(components) or ()):
        problem += f"; {key} is a decoder's option: {decode_option.format(key=key)}"
    return problem


def check_source_option_names(keys: Iterable[str], source: Source, components: Components) -> None:
    """A :class:`~ioproto.errors.UsageError` for the first of ``keys`` that ``source`` does
    not take, in :func:`source_option_problem`'s words."""
    for key in keys:
        problem = source_option_problem(
            key, [source], components, decode_option=_LIBRARY_DECODE_OPTION
        )
        if problem is not None:
            raise UsageError(f"source option {key!r}: {problem}")
