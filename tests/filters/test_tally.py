"""``ioproto.filters.tally``: what the fields of a filter's equality tests held instead."""

from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from ioproto.filters import compile_filter
from ioproto.filters.tally import Tally
from ioproto.model import Packet, Record

from .strategies import FIELDS, scalars


def record(**values: object) -> Record:
    return Packet(ts=0.0, layer="t", data={f"t.{key}": value for key, value in values.items()})


def tally_of(expression: str, records: list[Record], **bounds: int) -> Tally:
    tally = Tally(compile_filter(expression, FIELDS), **bounds)
    for item in records:
        tally.add(item)
    return tally


def test_the_values_by_count_and_the_likeliest_meant() -> None:
    records = [record(s="message")] * 3 + [record(s="typing")] * 2 + [record(i=4)]
    assert tally_of("t.s == mesage", records).hints() == [
        't.s was never "mesage" (did you mean "message"?); its values were "message" (3), '
        '"typing" (2)'
    ]


def test_integers_many_values_and_sets() -> None:
    records = [record(i=1), record(i=2), record(names=("a", "b")), record(names=("a",))]
    assert tally_of("t.i in {7, 8} or t.names == zz", records).hints() == [
        "t.i was never 7 or 8; its values were 1 (1), 2 (1)",
        't.names was never "zz"; its values were "a" (2), "b" (1)',
    ]


def test_no_hint_for_a_test_that_held_or_that_is_no_equality() -> None:
    records = [record(s="chat", i=1)]
    assert tally_of('t.s == "chat" and t.i == 2', records).hints() == [
        "t.i was never 2; its values were 1 (1)"
    ]
    assert not tally_of("t.i > 5 and not t.s == chat and t.j.room == x", records)
    assert tally_of("t.s == chat", [record(i=1)]).hints() == [
        'no record had t.s (so none was "chat")'
    ]


def test_memory_is_bounded_in_values_and_bytes() -> None:
    many = [record(s=f"event-{n}") for n in range(1000)]
    by_count = tally_of("t.s == x", many, max_values=10)
    assert len(by_count.tests[0].seen) == 10 and by_count.tests[0].others == 990
    assert by_count.hints()[0].endswith(", … (4+ more)")
    long = [record(s="y" * 100_000)] * 3 + [record(s=f"z{n}" * 1000) for n in range(50)]
    by_bytes = tally_of("t.s == x", long, max_bytes=2_000)
    kept = by_bytes.tests[0].seen
    assert sum(len(str(value)) for value in kept) <= 2_000 and kept["y" * 120 + "…"] == 3


@given(st.lists(st.dictionaries(st.sampled_from(["s", "i", "names"]), scalars), max_size=20))
def test_any_records_never_raise(values: list[dict[str, object]]) -> None:
    tally = tally_of("t.s == chat or t.i in {1, 2} or t.names == a", [record(**v) for v in values])
    for line in tally.hints():
        assert "\n" not in line


@given(
    st.lists(st.sampled_from(["message", "typing", "ping", "x" * 200]), max_size=40),
    st.integers(min_value=1, max_value=4),
)
def test_tallies_merged_from_workers_say_what_one_tally_says(
    events: list[str], workers: int
) -> None:
    """Sharded workers each tally their share; the run merges their counts (pickled)."""
    records = [record(s=event, i=len(event)) for event in events]
    expression = "t.s == mesage and t.i in {1, 2}"
    whole = tally_of(expression, records)
    merged = Tally(compile_filter(expression, FIELDS))
    for worker in range(workers):
        part = tally_of(expression, records[worker::workers])
        merged.merge(pickle.loads(pickle.dumps(part.counts())))
    assert merged.hints() == whole.hints()


def test_merging_keeps_the_bounds() -> None:
    expression = "t.s == x"
    merged = Tally(compile_filter(expression, FIELDS), max_values=5)
    for worker in range(3):
        part = tally_of(expression, [record(s=f"w{worker}-{n}") for n in range(4)])
        merged.merge(part.counts())
    assert len(merged.tests[0].seen) == 5 and merged.tests[0].others == 7
    assert merged.tests[0].records == 12


def test_fields_the_push_down_tested_say_nothing_once_it_dropped_records() -> None:
    """Records the push-down dropped never reached the tally: a hint about a pushed-down
    field would claim values it never saw."""
    from ioproto.filters.fields import Field, FieldSet

    fields = FieldSet(
        [
            Field(name="t.s", type="string", get=lambda r: r.data.get("t.s"), description="s"),
            Field(
                name="t.p", type="string", get=lambda r: r.data.get("t.p"), description="p",
                layer="t", pushdown=True,
            ),
        ]
    )  # fmt: skip
    tally = Tally(compile_filter('t.s == "x" and t.p == "y"', fields))
    tally.add(Packet(ts=0.0, layer="t", data={"t.s": "a"}))
    assert tally.hints() == [
        't.s was never "x"; its values were "a" (1)',
        'no record had t.p (so none was "y")',
    ]
    assert tally.hints(dropped=True) == ['t.s was never "x"; its values were "a" (1)']
