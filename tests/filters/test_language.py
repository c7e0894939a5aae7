"""The filter language by example: syntax, meaning, and the errors people see."""

from __future__ import annotations

import pytest

from ioproto.filters import FilterError, compile_filter, parse
from ioproto.filters.regex import MAX_PATTERN, MAX_SUBJECT
from ioproto.model import Packet, Record

from .strategies import FIELDS


def record(**values: object) -> Record:
    return Packet(ts=0.0, layer="t", data={f"t.{key}": value for key, value in values.items()})


R = record(s="chat", i=3, n=2.5, d=0.12, z=2048, b=True, j={"room": "lobby", "n": [1, "x"]})


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('t.s == "chat"', True),
        ("t.s == chat", True),  # a bare word is a string
        ('t.s != "chat"', False),
        ('t.s in {"a", "chat"}', True),
        ('t.s contains "ha"', True),
        ('t.s matches "^c.a"', True),
        ('t.s matches "^C"', False),
        ('t.s matches "(?i)^C"', True),
        ("t.i > 2 and t.i <= 3", True),
        ("t.i in {1..2, 5}", False),
        ("t.i in {1..3}", True),
        ("t.n >= 2.5", True),
        ("t.d > 100ms", True),
        ("t.d > 0.2s", False),
        ("t.d < 1m", True),
        ("t.z == 2KiB", True),
        ("t.z > 2kB", True),
        ("t.b", True),
        ("t.b == false", False),
        ("not t.b", False),
        ('t.j.room == "lobby"', True),
        ('t.j["room"] == "lobby"', True),
        ('t.j.n[1] == "x"', True),
        ("t.j.n[-2] == 1", True),
        ("t.j.n[5]", False),
        ("t.j.n contains 1", True),
        ('t.j contains "room"', True),
        ("t.j.room > 1", False),  # a string is not ordered against a number
        ("t.ports", False),
        ("t.j.missing", False),
        ('t.s == "chat" and (t.i == 1 or t.n == 2.5)', True),
        ("t.i == 1 || t.b && !t.ports", True),
        ('NOT t.s == "x" AND t.b', True),
    ],
)
def test_meaning(expression: str, expected: bool) -> None:
    try:
        match = compile_filter(expression, FIELDS)
    except FilterError as error:  # pragma: no cover - shows the message in the failure
        pytest.fail(error.display())
    assert match(R) is expected


@pytest.mark.parametrize(
    "expression",
    ['t.s == "x"', 't.s != "x"', "t.i < 5", "t.i in {1, 2}", 't.s contains "c"', "t.b == false"],
)
def test_a_missing_field_is_false_for_every_test_and_true_under_not(expression: str) -> None:
    empty = record()
    assert compile_filter(expression, FIELDS)(empty) is False
    assert compile_filter(f"not ({expression})", FIELDS)(empty) is True


def test_values_of_the_wrong_type_count_as_missing() -> None:
    odd = record(s=5, i="3", b="yes", d=True)
    for expression in ["t.s", "t.i", "t.b", "t.d", "t.i == 3", 't.s == "5"']:
        assert compile_filter(expression, FIELDS)(odd) is False, expression


def test_several_values() -> None:
    ports = record(ports=[3000, 51000], names=["a", "b"])
    for expression, expected in [
        ("t.ports == 3000", True),
        ("t.ports == 51000", True),
        ("t.ports != 3000", False),  # != holds when no value equals
        ("t.ports != 80", True),
        ("t.ports in {80, 3000}", True),
        ("t.ports > 50000", True),
        ('t.names contains "b"', True),
        ('t.names matches "^b$"', True),
    ]:
        assert compile_filter(expression, FIELDS)(ports) is expected, expression


def test_lineage_nearest_record_first() -> None:
    parent = Packet(ts=0.0, layer="below", data={"t.s": "parent", "t.i": 1})
    child = Packet(ts=0.0, layer="above", data={"t.s": "child"}, parent=parent)
    assert compile_filter('t.s == "child" and t.i == 1', FIELDS)(child)


def test_matches_is_bounded_and_linear() -> None:
    hostile = record(s="a" * (MAX_SUBJECT * 2) + "!")
    assert not compile_filter('t.s matches "(a+)+!"', FIELDS)(hostile)  # only the start is read
    assert compile_filter('t.s matches "^(a+)+"', FIELDS)(hostile)
    with pytest.raises(FilterError, match="at most"):
        compile_filter(f't.s matches "{"a" * (MAX_PATTERN + 1)}"', FIELDS)
    with pytest.raises(FilterError, match="RE2"):
        compile_filter('t.s matches "(a)\\1"', FIELDS)  # backreferences need backtracking


@pytest.mark.parametrize(
    ("expression", "column", "message"),
    [
        ("t.s ==", 7, "unexpected end: expected a number, a string, true, false or a word"),
        ('t.s == "x', 8, "this string has no closing"),
        ("t.s = 1", 5, "unexpected '=' (compare with ==)"),
        ("t.s === 1", 7, "unexpected '=' (compare with ==)"),
        ("t.s == a & t.i == 1", 10, "unexpected '&' (write && or and)"),
        ("t.s == a | t.i == 1", 10, "unexpected '|' (write || or or)"),
        ("(t.s", 5, "expected ')'"),
        ('t.sx == "a"', 1, "unknown field 't.sx' (did you mean t.s?)"),
        ("t.i == 3kb", 9, "unknown unit 'kb'"),
        ("t.d > 5kB", 7, "t.d is a duration: use units like 50ms, 1.5s, 2m"),
        ("t.z > 5ms", 7, "t.z is a size: use units like 512B, 1kB, 2MiB"),
        ('t.i == "3"', 8, "t.i is an integer: compare it with a number"),
        ("t.i == 2.5", 8, "t.i is an integer: compare it with a whole number"),
        ("t.s > 1", 7, "t.s is a string: compare it with a string"),
        ("t.b > true", 7, "> needs numbers or strings"),
        ("t.i contains 1", 14, "contains works on strings, lists and objects"),
        ("t.i matches 'x'", 1, "matches works on strings"),
        ("t.s[0]", 1, "t.s is a string: it has no parts to pick"),
        ("t.i in {3..1}", 9, "from the lower number to the higher"),
        ('t.s matches "("', 13, "not a regular expression RE2 accepts"),
        ("", 1, "expected a filter"),
        ('t.s == "a" and', 15, "unexpected end"),
    ],
)
def test_mistakes_point_at_the_place(expression: str, column: int, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter(expression, FIELDS)
    error = caught.value
    assert message in error.message
    assert error.column == column
    first, second = error.display("filter: ").splitlines()
    assert first == "filter: " + expression
    assert second == " " * (len("filter: ") + column - 1) + "^ " + error.message


def test_keywords_are_whole_words() -> None:
    assert parse("notes and android") == parse("(notes) and (android)")
    with pytest.raises(FilterError):
        parse("t.s == true.x")
