"""Reading component options (ioproto.optionvalues, re-exported by ioproto.components):
numbers, choices, flags and ports given as text by the CLI or as values by the API; what is
not one is a UsageError naming the option."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ioproto.components import (
    choice_option,
    flag_option,
    number_option,
    ports_option,
    size_option,
)
from ioproto.errors import UsageError


def test_number_option() -> None:
    assert number_option({}, "n", 5) == 5
    assert number_option({"n": ""}, "n", 5) == 5
    assert number_option({"n": "7"}, "n", 5) == 7
    assert number_option({"n": "0.5"}, "n", 1.0, float) == 0.5
    assert number_option({"n": 3}, "n", 5, minimum=3) == 3
    assert number_option({"n": "1e3"}, "n", 1, float, minimum=0) == 1000.0
    with pytest.raises(UsageError, match=r"option n='x': give a whole number$"):
        number_option({"n": "x"}, "n", 5)
    with pytest.raises(UsageError, match=r"option n='-5': give a whole number of at least 1$"):
        number_option({"n": "-5"}, "n", 5, minimum=1)
    with pytest.raises(UsageError, match=r"option t='-0.5': give a number of at least 0$"):
        number_option({"t": "-0.5"}, "t", 1, float, minimum=0)


def test_size_option_takes_what_limit_takes() -> None:
    """Byte counts (max_reorder_total, buffer_bytes …) read as --limit reads them: 64M, 1k,
    4MiB, a whole number; the API's int as it is."""
    assert size_option({}, "b", 7) == 7
    assert size_option({"b": ""}, "b", 7) == 7
    assert size_option({"b": "64M"}, "b", 7) == 64 << 20
    assert size_option({"b": "1k"}, "b", 7) == 1024
    assert size_option({"b": "4MiB"}, "b", 7) == 4 << 20
    assert size_option({"b": "1G"}, "b", 7) == 1 << 30
    assert size_option({"b": 4096}, "b", 7) == 4096
    for bad in ("0", "-1", "1x", "1.5M", 2.0, True, "M"):
        with pytest.raises(UsageError, match=r"give a positive byte count, e\.g\. 64M$"):
            size_option({"b": bad}, "b", 7)


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", True, "1.5", "0x10", [1], "1,000"])
def test_number_option_refuses(value: object) -> None:
    kind = float if value in ("inf", "nan", "-inf") else int
    with pytest.raises(UsageError, match=r"option n=.*: give a"):
        number_option({"n": value}, "n", 5, kind)


@given(st.one_of(st.integers(), st.text(max_size=8)), st.integers(-10, 10))
def test_number_option_is_a_number_at_least_the_minimum_or_refused(
    value: int | str, minimum: int
) -> None:
    try:
        number = number_option({"n": value}, "n", 5, minimum=minimum)
    except UsageError as error:
        assert str(error).startswith(f"option n={value!r}: give a whole number")
    else:
        assert isinstance(number, int) and (number >= minimum or value == "")


def test_ports_option() -> None:
    assert ports_option({}) is None and ports_option({"port": ""}) is None
    assert ports_option({"port": 3000}) == {3000}
    assert ports_option({"port": "3000, 3001,"}) == {3000, 3001}
    assert ports_option({"port": [3000, "3001,3002"]}) == {3000, 3001, 3002}
    assert ports_option({"p": (1, 65535)}, "p") == {1, 65535}


@pytest.mark.parametrize("value", ["abc", "0", "65536", "3000,x", -1, [3000, 70000], True])
def test_ports_option_refuses(value: object) -> None:
    with pytest.raises(UsageError, match=r"give ports from 1 to 65535, comma-separated"):
        ports_option({"port": value})


def test_choice_option() -> None:
    assert choice_option({}, "r", ("2", "3")) is None
    assert choice_option({}, "r", ("2", "3"), "3") == "3"
    assert choice_option({"r": 2}, "r", ("2", "3")) == "2"  # the API's numbers
    assert choice_option({"r": " MsgPack "}, "r", ("msgpack", "default")) == "msgpack"
    with pytest.raises(UsageError, match=r"option r='5': give one of 2, 3"):
        choice_option({"r": "5"}, "r", ("2", "3"))


@pytest.mark.parametrize("value", [True, "1", "true", "Yes", " on "])
def test_flag_option_yes(value: object) -> None:
    assert flag_option({"f": value}, "f") is True


@pytest.mark.parametrize("value", [False, "0", "false", "NO", "off", ""])
def test_flag_option_no(value: object) -> None:
    assert flag_option({"f": value}, "f", default=True) is False


def test_flag_option_default() -> None:
    assert flag_option({}, "f") is False and flag_option({}, "f", True) is True


@given(st.text(max_size=10))
def test_flag_option_never_guesses(text: str) -> None:
    known = ("1", "true", "yes", "on", "0", "false", "no", "off", "")
    if text.strip().lower() in known:
        assert flag_option({"f": text}, "f") is (text.strip().lower() in known[:4])
    else:
        with pytest.raises(UsageError, match="give true or false"):
            flag_option({"f": text}, "f")
