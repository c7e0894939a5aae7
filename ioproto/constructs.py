"""Parsing with construct without leaving the input in reference cycles. Public API.

``Construct.parse(data)`` builds a parsing context that refers to itself (``_root`` and
``_params``) and holds the stream and every parsed field. Reference counting cannot free
such a cycle: the input stays in memory until Python's cycle collector happens to run, which
on a run of large malformed packets meant gigabytes (issue 11, item 11). :func:`parse` gives
the same result and leaves no cycle that holds the input.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from construct import Construct

__all__ = ["parse"]


def parse(declaration: Construct, data: bytes, **context: Any) -> Any:
    """``declaration.parse(data, **context)``, without cycles that keep ``data`` alive.

    Raises what ``parse`` raises (:class:`construct.ConstructError`). Declarations that read
    ``this._root`` see ``None``: give them the fields they need through ``context`` instead.
    """
    stream = io.BytesIO(data)
    try:
        # A top-level Struct sets its context's `_root` to that context itself (a cycle that
        # holds every field) unless the outer context already has a `_root`.
        context.setdefault("_root", None)
        return declaration.parse_stream(stream, **context)
    finally:
        stream.close()  # frees the buffer even if a traceback still refers to the stream
