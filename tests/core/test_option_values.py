"""Reading component options (ioproto.components): numbers, choices and flags given as text
by the CLI or as values by the API; what is not one is a UsageError naming the option."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ioproto.components import choice_option, flag_option, number_option
from ioproto.errors import UsageError


def test_number_option() -> None:
    assert number_option({}, "n", 5) == 5
    assert number_option({"n": ""}, "n", 5) == 5
    assert number_option({"n": "7"}, "n", 5) == 7
    assert number_option({"n": "0.5"}, "n", 1.0, float) == 0.5
    with pytest.raises(UsageError, match=r"option n='x': not a whole number"):
        number_option({"n": "x"}, "n", 5)


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
