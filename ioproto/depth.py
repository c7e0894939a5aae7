"""Room for deeply nested values: Python's recursion limit, raised just enough. Public API.

Captured JSON may nest thousands deep (Node's ``JSON.parse`` reads it, so real servers accept
it). Python's ``json`` module, ``orjson``'s fallback and every walk over a decoded value
recurse once per level, and the default recursion limit (1000) would turn such a value
into a ``RecursionError`` wherever it is touched. A decoder that accepts a value nested
``depth`` deep calls :func:`ensure_room` first; the limit is raised (never lowered) to what
that depth needs, which is bounded by ``Limits.max_json_depth`` (default 10,000).

Depth is also a danger of its own: the C parts of that recursion use the thread's C stack.
Measured on Linux with 8 MiB stacks, parsing and serialising JSON 50,000 deep works in the
main thread and in other threads, 100,000 crashes the process; hence the default of 10,000.
"""

from __future__ import annotations

import sys

__all__ = ["LEVEL_FRAMES", "ensure_room"]

#: Recursion-limit frames a level may take in the deepest walk (encoder + renderer).
LEVEL_FRAMES = 3
#: Frames for the pipeline's own call stack around a walk.
_BASE = 1000


def ensure_room(depth: int) -> None:
    """Raise the recursion limit so that walks over a value ``depth`` deep cannot fail."""
    needed = depth * LEVEL_FRAMES + _BASE
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)
