"""Label values from the wire, made safe and few.

A label value is shown escaped (control characters, bidi overrides and lone surrogates
as ``\\xNN``/``\\uNNNN``, :func:`ioproto.render.safe_text`) and cut to
:data:`MAX_LABEL` characters; prometheus-client escapes quotes, backslashes and newlines in
the exposition. :class:`LabelCap` keeps the first ``limit`` distinct values of a label and
calls every later one ``other``, so hostile or high-cardinality traffic cannot grow the
number of series (and memory) without bound: a counter cannot move to ``other`` once
exported, so the first values seen keep their place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ioproto.render import safe_text

MAX_LABEL = 100
OTHER = "other"


def label(value: Any) -> str:
    """``value`` as a safe, short label value."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_LABEL * 4:
        text = text[: MAX_LABEL * 4]
    text = safe_text(text)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


class LabelCap:
    """The first ``limit`` distinct label tuples pass (each value made safe with
    :func:`label`); every later one becomes ``("other", …)`` and is counted in
    ``overflow`` (and ``on_overflow()`` is called)."""

    __slots__ = ("_known", "limit", "name", "on_overflow", "overflow")

    def __init__(
        self, name: str, limit: int, on_overflow: Callable[[], None] | None = None
    ) -> None:
        self.name = name
        self.limit = max(1, limit)
        self._known: set[tuple[str, ...]] = set()
        self.overflow = 0
        self.on_overflow = on_overflow

    def __call__(self, *values: Any) -> tuple[str, ...]:
        key = tuple(label(value) for value in values)
        known = self._known
        if key in known:
            return key
        if len(known) < self.limit:
            known.add(key)
            return key
        self.overflow += 1
        if self.on_overflow is not None:
            self.on_overflow()
        return (OTHER,) * len(key)
