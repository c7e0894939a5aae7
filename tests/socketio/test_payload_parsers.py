"""Socket.IO payloads: the orjson fast path of ``payload.loads`` gives what the json module
alone (``payload.json_loads``) gives, for any text: the same values, of the same types, and
the same error where either refuses it."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from ioproto_socketio import payload
from ioproto_socketio.payload import PayloadError

from ioproto.testing.strategies import mutated

DEPTH = 10_000
BYTES = 64 * 1024 * 1024


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (``1 != 1.0 != True``; ``-0.0`` is not
    ``0.0``)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return math.copysign(1.0, a) == math.copysign(1.0, b) and (a == b)
    if type(a) is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        return list(a) == list(b) and all(same(a[key], b[key]) for key in a)
    return bool(a == b)


def outcome(parse: Any, text: str) -> tuple[str, Any]:
    try:
        return "value", parse(text)
    except PayloadError as exc:
        return exc.rule, exc.reason


def assert_agree(text: str) -> None:
    fast = outcome(lambda t: payload.loads(t, DEPTH, BYTES), text)
    slow = outcome(payload.json_loads, text)
    assert fast[0] == slow[0], (text, fast, slow)
    if fast[0] == "value":
        assert same(fast[1], slow[1]), (text, fast, slow)
    else:
        assert fast == slow


numbers = st.one_of(
    st.integers(),  # beyond 64 bits too
    st.integers(-(2**64), 2**64),
    st.floats(allow_nan=False, allow_infinity=False),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=12))
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    value = draw(values)
    return json.dumps(
        value,
        ensure_ascii=draw(st.booleans()),
        indent=draw(st.sampled_from([None, 0, 2])),
        separators=draw(st.sampled_from([None, (",", ":"), (" , ", " : ")])),
    )


@given(json_texts())
@example("18446744073709551615")  # the largest integer orjson keeps exact
@example("18446744073709551616")  # orjson would give a float
@example("-9223372036854775809")
@example("[1e400]")
@example('"\\ud800"')
@example('{"a":1,"b":2,"a":3}')
@example("-0")
@example(" [1] \n")
def test_the_same_values_from_json_text(text):
    assert_agree(text)


@given(json_texts().flatmap(lambda text: mutated(text.encode("utf-8"))))
def test_the_same_outcome_for_damaged_json(data):
    assert_agree(data.decode("utf-8", "surrogatepass") if _decodes(data) else data.hex())


@given(st.text(alphabet='[]{}",:.-+eE0123456789 \t\n\r\\untrfalsu\x00\ud800é', max_size=40))
def test_the_same_outcome_for_json_like_text(text):
    assert_agree(text)


@pytest.mark.parametrize(
    "text",
    [
        "1" * 18,
        "1" * 19,
        "-" + "9" * 19,
        "1" * 101,  # refused: more than 100 digits
        "0.1234567890123456789012",
        "NaN",
        "Infinity",
        "[1,]",
        "\ufeff[1]",
        "[01]",
        "[.5]",
        "[1.]",
        "[+1]",
        '"\x01"',
        "[1] x",
        "",
        "[" * 1100 + "]" * 1100,  # deeper than orjson reads
    ],
)
def test_edge_cases_agree(text):
    assert_agree(text)


def _decodes(data: bytes) -> bool:
    try:
        data.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


def test_orjson_reads_what_it_can(monkeypatch):
    """The fast path is taken (else this file tests nothing), and not for long digit runs."""

    def refuse(text: str) -> Any:
        raise AssertionError("the json module was asked")

    monkeypatch.setattr(payload, "json_loads", refuse)
    assert payload.loads('["msg",{"n":123456789012345678,"x":[1.5,null]}]', DEPTH, BYTES)
    with pytest.raises(AssertionError):
        payload.loads("[12345678901234567890]", DEPTH, BYTES)
