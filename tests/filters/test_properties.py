"""Properties of the filter language: the compiled function agrees with the reference
interpreter on generated records and expressions, and printing round-trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ioproto.filters import compile_filter, format_node, parse
from ioproto.filters.interpreter import evaluate
from ioproto.filters.nodes import Node
from ioproto.model import Record

from .strategies import FIELDS, expressions, records


@settings(max_examples=400, deadline=None)
@given(expressions, st.lists(records(), min_size=1, max_size=5))
def test_compiled_filter_agrees_with_the_interpreter(tree: Node, batch: list[Record]) -> None:
    match = compile_filter(tree, FIELDS)
    for record in batch:
        assert match(record) == evaluate(tree, FIELDS, record), (match.text, record)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_printing_and_parsing_give_the_same_tree(tree: Node) -> None:
    text = format_node(tree)
    assert parse(text) == tree, text
    assert format_node(parse(text)) == text


@settings(max_examples=200, deadline=None)
@given(expressions, records())
def test_the_printed_expression_filters_the_same(tree: Node, record: Record) -> None:
    original = compile_filter(tree, FIELDS)
    reparsed = compile_filter(format_node(tree), FIELDS)
    assert original(record) == reparsed(record)


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list('ab.[]{}()"\\= !<>&|,0123456789 sinotrue')), max_size=30)
)
def test_any_text_parses_or_gives_a_filter_error(text: str) -> None:
    from ioproto.filters import FilterError

    try:
        compile_filter(text, FIELDS)
    except FilterError as error:
        assert 0 <= error.column <= len(text) + 1
        shown = error.display()
        assert shown.splitlines()[0] == text.replace("\n", " ") or "\n" in text
