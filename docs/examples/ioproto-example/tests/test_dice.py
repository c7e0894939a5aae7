import io

import ioproto_engineio
import ioproto_example
import ioproto_socketio
from hypothesis import given
from hypothesis import strategies as st
from ioproto_example.dice import Roll
from ioproto_example.sink import TallySinkFactory
from ioproto_socketio.testing import socketio_event, socketio_messages

from ioproto import SinkContext
from ioproto.testing import plain, roundtrip, run_pipeline

PLUGINS = [ioproto_engineio, ioproto_socketio, ioproto_example]


def test_roll_format():
    roundtrip(Roll, b"\x02\x06\x05\x06", {"count": 2, "faces": 6, "dice": [5, 6]})


@given(st.lists(st.integers(1, 6), max_size=10))
def test_any_roll_round_trips(dice):
    data = Roll.build({"count": len(dice), "faces": 6, "dice": dice})
    assert plain(Roll.parse(data))["dice"] == dice


def test_roll_events_are_decoded():
    chunks = socketio_messages(
        [
            ("c2s", "0/dice,"),
            ("c2s", socketio_event("roll", b"\x02\x06\x05\x06", nsp="/dice")),
            ("c2s", socketio_event("roll", b"\x01\x14", nsp="/dice")),  # a die is missing
        ]
    )
    records = run_pipeline(chunks, proto="app", plugins=PLUGINS)
    rolls = [r for r in records if r.layer == "app"]
    assert [r.fields["dice"] for r in rolls if r.type == "dice.roll"] == [[5, 6]]
    errors = [r.rule for r in records if r.type == "error"]
    assert errors == ["app.dice.parse"]


def test_tally_sink():
    out = io.StringIO()
    sink = TallySinkFactory().open(SinkContext(stream=out))
    for record in run_pipeline(socketio_messages([("c2s", "0")]), plugins=PLUGINS):
        sink.write(record)
    sink.close()
    assert out.getvalue() == "    1 engineio open\n    1 socketio CONNECT\n"
