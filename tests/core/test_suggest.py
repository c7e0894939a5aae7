"""``ioproto.suggest``: the "did you mean" of every mistake that names something."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ioproto.suggest import closest, did_you_mean

LAYERS = ["tcp", "chunk", "engineio", "socketio"]
SINKS = ["dashboard", "jsonl", "monitor", "parquet", "prometheus", "stats", "text"]


@pytest.mark.parametrize(
    ("name", "valid", "meant"),
    [
        ("socketoi", LAYERS, "socketio"),
        ("sio", LAYERS, "socketio"),
        ("eio", LAYERS, "engineio"),
        ("SocketIO", LAYERS, "socketio"),
        ("jsnol", SINKS, "jsonl"),
        ("parqet", SINKS, "parquet"),
        ("montior", SINKS, "monitor"),
        ("alll", ["all", "parallel"], "all"),
        ("zzz", SINKS, None),
        ("x", ["xml", "xy"], None),
        ("alll", ["parallel", "port"], None),
        ("anything", [], None),
    ],
)
def test_closest(name: str, valid: list[str], meant: str | None) -> None:
    assert closest(name, valid) == meant


def test_did_you_mean_is_empty_when_nothing_is_close_or_the_name_is_valid() -> None:
    assert did_you_mean("sio", LAYERS) == " (did you mean socketio?)"
    assert did_you_mean("qqq", LAYERS) == ""
    assert did_you_mean("tcp", LAYERS) == ""


@given(st.text(max_size=20), st.lists(st.text(max_size=20), max_size=8))
def test_a_suggestion_is_always_one_of_the_valid_names(name: str, valid: list[str]) -> None:
    found = closest(name, valid)
    assert found is None or found in valid
