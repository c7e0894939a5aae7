"""Hypothesis strategies for the filter tests: a set of fields of every type, records that
carry values of any type for them along a lineage, and expressions over those fields."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ioproto.filters import Field, FieldSet
from ioproto.filters.nodes import (
    COMPARISONS,
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
)
from ioproto.model import Packet, Record


def _reader(key: str) -> Any:
    def get(record: Record) -> Any:
        data = getattr(record, "data", None)
        return data.get(key) if isinstance(data, dict) else None

    return get


#: name → (type, many)
SPECS = {
    "t.s": ("string", False),
    "t.i": ("integer", False),
    "t.n": ("number", False),
    "t.d": ("duration", False),
    "t.z": ("size", False),
    "t.b": ("bool", False),
    "t.j": ("json", False),
    "t.ports": ("integer", True),
    "t.names": ("string", True),
}

FIELDS = FieldSet(
    Field(name=name, type=kind, many=many, get=_reader(name), description=name)
    for name, (kind, many) in SPECS.items()
)

WORDS = ["", "a", "chat", "Chat", "ch", "x y", "é", "\x00", '"', "\\", "\ud800", "room"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False),
    st.sampled_from(WORDS),
    st.binary(max_size=4),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(WORDS), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def field_values(draw: st.DrawFn) -> dict[str, Any]:
    """Values for some of the fields, of the right type or not."""
    values: dict[str, Any] = {}
    for name, (_kind, many) in SPECS.items():
        if draw(st.booleans()):
            if many:
                values[name] = draw(st.one_of(st.none(), st.lists(scalars, max_size=3)))
            else:
                values[name] = draw(json_values)
    return values


@st.composite
def records(draw: st.DrawFn) -> Record:
    """A record with up to two ancestors, each carrying some field values."""
    record: Record | None = None
    for _ in range(draw(st.integers(1, 3))):
        record = Packet(ts=0.0, layer="t", data=draw(field_values()), parent=record)
    assert record is not None
    return record


def _number_literal(draw: st.DrawFn, kind: str) -> Literal:
    if kind == "duration" and draw(st.booleans()):
        unit, text = draw(st.sampled_from([("ms", "500"), ("s", "2"), ("us", "3"), ("m", "1")]))
        from ioproto.filters.units import scale

        return Literal(scale(int(text), unit), unit=unit, text=text)
    if kind == "size" and draw(st.booleans()):
        unit, text = draw(st.sampled_from([("B", "3"), ("kB", "1"), ("KiB", "2")]))
        from ioproto.filters.units import scale

        return Literal(scale(int(text), unit), unit=unit, text=text)
    if kind == "integer":
        return Literal(draw(st.integers(-6, 6)))
    return Literal(draw(st.one_of(st.integers(-6, 6), st.floats(-6, 6, allow_nan=False))))


def literal_for(draw: st.DrawFn, kind: str) -> Literal:
    if kind == "string":
        return Literal(draw(st.sampled_from(WORDS)))
    if kind == "bool":
        return Literal(draw(st.booleans()))
    if kind == "json":
        choice = draw(st.integers(0, 2))
        if choice == 0:
            return Literal(draw(st.sampled_from(WORDS)))
        if choice == 1:
            return Literal(draw(st.booleans()))
        return _number_literal(draw, "number")
    return _number_literal(draw, kind)


@st.composite
def tests(draw: st.DrawFn) -> Node:
    name = draw(st.sampled_from(sorted(SPECS)))
    kind, _ = SPECS[name]
    path: tuple[int | str, ...] = ()
    if kind == "json" and draw(st.booleans()):
        path = tuple(
            draw(st.lists(st.one_of(st.integers(-2, 2), st.sampled_from(WORDS[:5])), max_size=2))
        )
    ref = FieldRef(name, path)
    kind = "json" if path else kind
    form = draw(st.sampled_from(["exists", "compare", "in", "contains", "matches"]))
    if form == "exists":
        return Exists(ref)
    if form == "contains" and kind in ("string", "json"):
        return Contains(ref, literal_for(draw, "string" if kind == "string" else "json"))
    if form == "matches" and kind in ("string", "json"):
        pattern = draw(st.sampled_from(["^ch", "a", "(?i)CHAT", "^$", ".", "\\d", "x|y"]))
        return Matches(ref, Literal(pattern))
    if form == "in":
        items: list[Literal | Range] = [
            literal_for(draw, kind) for _ in range(draw(st.integers(1, 3)))
        ]
        if kind in ("integer", "number", "duration", "size", "json") and draw(st.booleans()):
            low = draw(st.integers(-5, 2))
            items.append(Range(Literal(low), Literal(low + draw(st.integers(0, 4)))))
        return InSet(ref, tuple(items))
    literal = literal_for(draw, kind)
    ops = ("==", "!=") if isinstance(literal.value, bool) else COMPARISONS
    return Compare(ref, draw(st.sampled_from(ops)), literal)


expressions = st.recursive(
    tests(),
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
    ),
    max_leaves=6,
)
