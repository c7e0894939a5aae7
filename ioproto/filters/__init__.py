"""One filter language for every command: ``sio.event == "chat" and latency.ack_rtt > 50ms``.

* :func:`compile_filter` parses (with lark), checks and compiles an expression into a
  :class:`Filter`, a function ``record → bool`` built once (docs/filters.md is the
  language reference).
* :class:`Field` describes a field; plugins offer theirs through the ``register_fields``
  hook and :func:`ioproto.plugins.collect_components` gathers them, with the core's own
  (:data:`CORE_FIELDS`), into a :class:`FieldSet`.
* :meth:`Filter.pushdown` gives the per-layer predicates the pipeline uses to skip decoding
  what cannot match; :meth:`Filter.source_options` the capture source options that select
  the same (``port``).

This package knows no protocol: every protocol field comes from a plugin.

The parser (lark), RE2 and the syntax tree's classes are imported when a filter is first
compiled or printed, not with this package: every ioproto process (the proxy's relay child
too) imports it for the fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ioproto.lazy import lazy_names

from .core_fields import CORE_FIELDS
from .errors import FilterError
from .fields import MISSING, TYPES, Field, FieldSet, reads, resolver

if TYPE_CHECKING:
    from .compiler import Filter, Predicate, compile_filter
    from .printer import format_node, quote
    from .syntax import parse

_LAZY = {
    "Filter": "compiler",
    "Predicate": "compiler",
    "compile_filter": "compiler",
    "format_node": "printer",
    "quote": "printer",
    "parse": "syntax",
}


__getattr__ = lazy_names(__name__, _LAZY, globals())


__all__ = [
    "CORE_FIELDS",
    "MISSING",
    "TYPES",
    "Field",
    "FieldSet",
    "Filter",
    "FilterError",
    "Predicate",
    "compile_filter",
    "format_node",
    "parse",
    "quote",
    "reads",
    "resolver",
]
