"""Compiling a filter expression into one Python function, once.

The syntax tree is checked against the fields (:mod:`.checks`) and turned into the source
of a single function ``_filter(r)``, compiled with :func:`compile`. Only names appear in
that source: every literal, field resolver and pattern is a constant of the function's
namespace, never text from the expression, so nothing a user types becomes code.

For typed fields the comparison is written out (the resolver guarantees the type, or
``MISSING``); JSON fields go through :mod:`.values`. A record that lacks a field fails
every test of it except ``not``; the function never raises.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ioproto.model import Record

from .checks import Bound, bind
from .fields import MISSING, Field, FieldSet, resolver
from .nodes import (
    And,
    Compare,
    Contains,
    Exists,
    FieldRef,
    InSet,
    Literal,
    Matches,
    Node,
    Not,
    Or,
    Range,
    conjuncts,
    field_refs,
    literal_values,
)
from .printer import format_node
from .regex import compile_pattern
from .syntax import parse
from .values import json_contains, json_equal, json_order, step_into

Predicate = Callable[[Record], bool]


class _Writer:
    """Builds the source of one function and the namespace its names refer to."""

    def __init__(self, bound: Mapping[int, Bound]) -> None:
        self.bound = bound
        self.namespace: dict[str, Any] = {"M": MISSING}
        self._names = itertools.count()
        self._constants: dict[tuple[type, Any], str] = {}
        self._resolvers: dict[str, str] = {}

    def name(self, prefix: str, value: Any) -> str:
        name = f"_{prefix}{next(self._names)}"
        self.namespace[name] = value
        return name

    def constant(self, value: Any) -> str:
        key = (type(value), value)
        try:
            found = self._constants.get(key)
        except TypeError:  # unhashable
            found = None
        if found is None:
            found = self.name("c", value)
            with contextlib.suppress(TypeError):
                self._constants[key] = found
        return found

    def value(self, ref: FieldRef) -> str:
        """Code giving the value of ``ref`` for record ``r``."""
        bound = self.bound[id(ref)]
        field = bound.field
        resolve = self._resolvers.get(field.name)
        if resolve is None:
            resolve = self._resolvers[field.name] = self.name("r", resolver(field))
        code = f"{resolve}(r)"
        if bound.path:
            code = f"{self.name('p', step_into)}({code}, {self.constant(bound.path)})"
        return code

    def temp(self) -> str:
        return f"_v{next(self._names)}"

    # -- the expression ----------------------------------------------------------------------

    def node(self, node: Node) -> str:
        if isinstance(node, Not):
            return f"(not {self.node(node.operand)})"
        if isinstance(node, And):
            return "(" + " and ".join(self.node(item) for item in node.operands) + ")"
        if isinstance(node, Or):
            return "(" + " or ".join(self.node(item) for item in node.operands) + ")"
        bound = self.bound[id(node.field)]
        kind = "json" if bound.path else bound.field.type
        value = self.value(node.field)
        if bound.field.many:
            return self._many(node, kind, value)
        if isinstance(node, Exists):
            return f"({value} is True)" if kind == "bool" else f"({value} is not M)"
        if isinstance(node, Compare) and node.op == "!=":
            v = self.temp()
            return f"(({v} := {value}) is not M and not {self.test(node, kind, v, '==')})"
        v = self.temp()
        return f"(({v} := {value}) is not M and {self.test(node, kind, v)})"

    def _many(self, node: Node, kind: str, value: str) -> str:
        if isinstance(node, Exists):
            if kind == "bool":
                return f"(True in {value})"
            return f"({value} != ())"
        x = self.temp()
        if isinstance(node, Compare) and node.op == "!=":
            v = self.temp()
            test = self.test(node, kind, x, "==")
            return f"(({v} := {value}) != () and not any({test} for {x} in {v}))"
        return f"any({self.test(node, kind, x)} for {x} in {value})"

    def test(self, node: Node, kind: str, v: str, op: str | None = None) -> str:
        """Code for ``node``'s test on a present value held in name ``v``."""
        if isinstance(node, Compare):
            op = op or node.op
            literal = self.constant(node.value.value)
            if kind == "json":
                if op == "==":
                    return f"{self.name('f', json_equal)}({v}, {literal})"
                return f"{self.name('f', json_order(op))}({v}, {literal})"
            if kind == "bool":
                return f"({v} is {literal})"
            return f"({v} {op} {literal})"
        if isinstance(node, InSet):
            return self._in_set(node, kind, v)
        if isinstance(node, Contains):
            literal = self.constant(node.value.value)
            if kind == "json":
                return f"{self.name('f', json_contains)}({v}, {literal})"
            return f"({literal} in {v})"
        assert isinstance(node, Matches)
        pattern = self.name("m", compile_pattern(str(node.pattern.value)))
        if kind == "json":
            return f"(isinstance({v}, str) and {pattern}({v}))"
        return f"{pattern}({v})"

    def _in_set(self, node: InSet, kind: str, v: str) -> str:
        values = [item.value for item in node.items if isinstance(item, Literal)]
        ranges = [item for item in node.items if isinstance(item, Range)]
        parts = []
        if values:
            if kind == "json":
                equal = self.name("f", json_equal)
                choices = self.constant(tuple(values))
                parts.append(f"any({equal}({v}, _x) for _x in {choices})")
            elif kind == "bool":
                parts.append(" or ".join(f"{v} is {self.constant(value)}" for value in values))
            else:
                parts.append(f"({v} in {self.constant(frozenset(values))})")
        for item in ranges:
            low, high = self.constant(item.low.value), self.constant(item.high.value)
            if kind == "json":
                is_number = self.name("f", _is_number)
                parts.append(f"({is_number}({v}) and {low} <= {v} <= {high})")
            else:
                parts.append(f"({low} <= {v} <= {high})")
        return "(" + " or ".join(parts) + ")"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _function(tree: Node, bound: Mapping[int, Bound]) -> Predicate:
    writer = _Writer(bound)
    body = writer.node(tree)
    source = (
        "def _filter(r):\n"
        "    try:\n"
        f"        return bool({body})\n"
        "    except Exception:\n"
        "        return False\n"
    )
    code = compile(source, "<ioproto filter>", "exec")
    namespace = dict(writer.namespace)
    exec(code, namespace)
    function: Predicate = namespace["_filter"]
    function.__doc__ = format_node(tree)
    return function


@attrs.frozen(slots=True, eq=False)
class Filter:
    """A compiled filter: call it with a record to know whether the record matches.

    ``expression`` is the text it was compiled from and ``tree`` its syntax tree; ``text``
    is the canonical form (what :func:`~.printer.format_node` prints). ``fields`` are the
    fields it reads. The dashboard and other callers may keep one and call it per record;
    it holds no state and never raises.
    """

    expression: str
    tree: Node
    fields: tuple[Field, ...]
    _match: Predicate = attrs.field(repr=False)
    _bound: Mapping[int, Bound] = attrs.field(repr=False)

    def __call__(self, record: Record) -> bool:
        return self._match(record)

    @property
    def text(self) -> str:
        return format_node(self.tree)

    def pushdown(self) -> dict[str, Predicate]:
        """Per layer, a predicate the pipeline may apply to that layer's records.

        Built from the terms of the top-level ``and`` whose fields all have
        ``pushdown=True`` and one ``layer``: a record of that layer failing its predicate
        cannot match the filter, nor can anything decoded from it, and dropping it does
        not change what other records look like (see :class:`~.fields.Field`).
        """
        by_layer: dict[str, list[Node]] = {}
        for term in conjuncts(self.tree):
            layers = set()
            for ref in field_refs(term):
                field = self._bound[id(ref)].field
                layers.add(field.layer if field.pushdown else None)
            if len(layers) == 1 and None not in layers:
                by_layer.setdefault(layers.pop(), []).append(term)  # type: ignore[arg-type]
        return {
            layer: _function(terms[0] if len(terms) == 1 else And(tuple(terms)), self._bound)
            for layer, terms in by_layer.items()
        }

    def source_options(self) -> dict[str, list[Any]]:
        """Capture source options that select what the filter selects, from top-level
        terms ``field == v`` / ``field in {v, …}`` on fields with a ``source_option``
        (``tcp.port in {3000, 8080}`` → ``{"port": [3000, 8080]}``)."""
        chosen: dict[str, frozenset[Any]] = {}
        for term in conjuncts(self.tree):
            values = literal_values(term)
            if values is None or isinstance(term, Not | And | Or):
                continue
            bound = self._bound[id(term.field)]  # type: ignore[union-attr]
            option = bound.field.source_option
            if option is None or bound.path:
                continue
            chosen[option] = chosen[option] & values if option in chosen else values
        return {option: sorted(values) for option, values in chosen.items() if values}


def compile_filter(expression: str | Node, fields: FieldSet) -> Filter:
    """Parse (when given text), check and compile ``expression`` against ``fields``.

    Raises :class:`~.errors.FilterError` (with the column) for any mistake.
    """
    if isinstance(expression, str):
        text = expression
        tree = parse(expression)
    else:
        tree = expression
        text = format_node(tree)
    bound = bind(tree, fields, text)
    used: dict[str, Field] = {}
    for ref in field_refs(tree):
        field = bound[id(ref)].field
        used.setdefault(field.name, field)
    return Filter(text, tree, tuple(used.values()), _function(tree, bound), bound)
