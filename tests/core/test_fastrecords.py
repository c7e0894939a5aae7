"""The fast record constructors give exactly what attrs' own __init__/evolve give."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ioproto_http.records import Chunk, ChunkKind

from ioproto import ErrorRecord, Packet, Tag, fastrecords
from ioproto.fastrecords import positional_maker, replace_field


def fields_of(record: object) -> dict[str, object]:
    return {field.name: getattr(record, field.name) for field in attrs.fields(type(record))}


@given(st.floats(allow_nan=False), st.text(), st.binary(), st.one_of(st.none(), st.integers()))
def test_positional_maker_equals_init(
    ts: float, text: str, raw: bytes, revision: int | None
) -> None:
    make = positional_maker(Packet, ("ts", "layer", "data", "raw", "revision"))
    assert fields_of(make(ts, "x", text, raw, revision)) == fields_of(
        Packet(ts=ts, layer="x", data=text, raw=raw, revision=revision)
    )


def test_factories_are_called_each_time() -> None:
    @attrs.frozen(slots=True, kw_only=True)
    class WithList(Packet):
        items: list[int] = attrs.field(factory=list)

    make = positional_maker(WithList, ("ts",))
    first, second = make(1.0), make(2.0)
    assert first.items == [] and first.items is not second.items


def test_mandatory_and_unknown_fields_are_refused() -> None:
    with pytest.raises(TypeError, match="mandatory"):
        positional_maker(ErrorRecord, ("ts", "rule"))
    with pytest.raises(TypeError, match="no field"):
        positional_maker(Packet, ("ts", "nope"))


def test_factories_taking_self_see_earlier_fields() -> None:
    make = positional_maker(Chunk, ("ts", "kind", "data"))
    assert make(0.0, ChunkKind.LINE, b"x") == Chunk(ts=0.0, kind=ChunkKind.LINE, data=b"x")
    assert make(0.0, ChunkKind.LINE, b"x").type == "line"


def test_classes_with_post_init_fall_back_to_init() -> None:
    @attrs.frozen(slots=True, kw_only=True)
    class Later(Packet):
        def __attrs_post_init__(self) -> None:
            object.__setattr__(self, "type", "set-later")

    assert positional_maker(Later, ("ts",))(0.0).type == "set-later"


def test_replace_field_equals_evolve() -> None:
    packet = Packet(ts=1.0, layer="x", type="y", data={"a": 1}, tags=(Tag("t", 1),))
    assert fields_of(replace_field(packet, "tags", ())) == fields_of(attrs.evolve(packet, tags=()))
    chunk = Chunk(ts=0.0, kind=ChunkKind.LINE, data=b"x")
    assert replace_field(chunk, "seq", 3) == attrs.evolve(chunk, seq=3)


def test_made_records_are_of_the_class_itself_and_stay_frozen() -> None:
    made = positional_maker(Chunk, ("ts", "kind", "data"))(0.0, ChunkKind.LINE, b"x")
    copied = replace_field(made, "seq", 3)
    for record in (made, copied):
        assert type(record) is Chunk
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            record.seq = 4  # type: ignore[misc]
        assert hash(record) == hash(Chunk(ts=0.0, kind=ChunkKind.LINE, data=b"x", seq=record.seq))


def test_without_a_builder_the_slots_are_written_through_their_descriptors() -> None:
    @attrs.frozen(slots=True, kw_only=True)
    class Odd(Packet):
        extra: int = 0

    fastrecords._builders[Odd] = None  # as for a class whose objects cannot change class
    record = positional_maker(Odd, ("ts", "extra"))(1.0, 2)
    assert type(record) is Odd and record == Odd(ts=1.0, extra=2)
    assert replace_field(record, "extra", 3) == Odd(ts=1.0, extra=3)
