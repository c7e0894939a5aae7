"""The example game plugin: its formats round-trip, and decoding the real capture
tests/data/game.pcap (tests/peers/scenarios/game.js) gives the fields the app sent."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import ioproto_engineio
import ioproto_example_game
import ioproto_http
import ioproto_pcap
import ioproto_socketio
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_appproto import AppMessage
from ioproto_example_game.formats import GameState, Move, Telemetry
from ioproto_socketio.testing import socketio_event, socketio_messages

import ioproto
from ioproto.model import ErrorRecord
from ioproto.plugins import make_plugin_manager
from ioproto.testing import plain, roundtrip, run_pipeline

DATA = Path(__file__).resolve().parents[1] / "data"
PLUGINS = [ioproto_pcap, ioproto_http, ioproto_engineio, ioproto_socketio, ioproto_example_game]

KEYS = ("jump", "crouch", "sprint", "fire")
MOVE = bytes.fromhex("01 50 0001 41280000 42c78000 34bc 04 00")


def test_move_vector() -> None:
    parsed = roundtrip(Move, MOVE)
    assert plain(parsed) == {
        "version": 1,
        "keys": {"jump": False, "crouch": True, "sprint": False, "fire": True},
        "seq": 1,
        "x": 10.5,
        "y": 99.75,
        "heading": 13500,
        "speed": 4,
    }


floats = st.integers(-1000, 1000).map(lambda n: n / 4)  # exact in float32
players = st.fixed_dictionaries(
    {"id": st.integers(0, 65535), "x": floats, "y": floats, "health": st.integers(0, 100)}
)


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "version": st.just(1),
            "keys": st.fixed_dictionaries(
                {k: st.booleans() for k in ("jump", "crouch", "sprint", "fire")}
            ),
            "seq": st.integers(0, 65535),
            "x": floats,
            "y": floats,
            "heading": st.integers(0, 35999),
            "speed": st.integers(0, 255),
        }
    ),
    st.lists(players, max_size=5),
    st.integers(0, 2**32 - 1),
)
def test_formats_round_trip(move: dict[str, Any], people: list[dict[str, Any]], tick: int) -> None:
    assert plain(Move.parse(Move.build(move))) == move
    state = {"tick": tick, "count": len(people), "players": people}
    assert plain(GameState.parse(GameState.build(state))) == state
    telemetry = {"fps": 60, "rtt_ms": tick % 65536, "dropped": tick}
    assert plain(Telemetry.parse(Telemetry.build(telemetry))) == telemetry


def test_synthetic_exchange_through_the_pipeline() -> None:
    chunks = socketio_messages(
        [
            ("c2s", "0/game,"),
            ("c2s", socketio_event("move", MOVE, nsp="/game")),
            ("s2c", socketio_event("move", MOVE, nsp="/game")),  # wrong direction: not bound
            ("c2s", socketio_event("move", MOVE[:-1], nsp="/game")),
        ]
    )
    records = run_pipeline(chunks, proto="app", plugins=PLUGINS[1:])
    app = [r for r in records if isinstance(r, AppMessage)]
    assert [r.fields["seq"] for r in app] == [1]
    assert [r.rule for r in records if isinstance(r, ErrorRecord)] == ["app.game.parse"]


def numbers(value: Any) -> Any:
    """JSON from JavaScript writes 10.0 as 10: compare numbers by value."""
    if isinstance(value, dict):
        return {key: numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [numbers(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical(value: Any) -> str:
    return json.dumps(numbers(value), sort_keys=True)


def test_game_capture_fields_match_what_the_app_sent() -> None:
    pm = make_plugin_manager(load_entrypoints=False, plugins=PLUGINS)
    records = list(ioproto.decode(str(DATA / "game.pcap"), proto="app", plugin_manager=pm))
    assert not [r for r in records if isinstance(r, ErrorRecord)]
    decoded: Counter[tuple[Any, ...]] = Counter()
    for r in records:
        if isinstance(r, AppMessage):
            fields = dict(r.fields)
            fields.pop("version", None)
            fields.pop("count", None)
            decoded[(r.direction, r.message, r.nsp, canonical(fields))] += 1
    log = [json.loads(line) for line in (DATA / "game.log.jsonl").read_text().splitlines()]
    sent = Counter(
        ("c2s" if e["side"] == "client" else "s2c", e["event"], e["nsp"], canonical(e["args"][0]))
        for e in log
        if e["action"] == "app-fields"
    )
    assert sent and decoded == sent
    assert {key[1] for key in sent} == {"move", "move-ack", "state", "telemetry"}
    # every move/state AppMessage follows the Socket.IO EVENT it came from, every move-ack
    # the ACK (over WebSocket and polling) that answers a move
    for index, r in enumerate(records):
        if isinstance(r, AppMessage) and r.event is not None:
            parent: Any = r.parent
            assert records[index - 1] is parent
            if r.message == "move-ack":
                assert parent.type == "ACK" and parent.answers.event == r.event == "move"
            else:
                assert parent.type == "EVENT" and parent.event == r.event
    acked = [r for r in records if isinstance(r, AppMessage) and r.message == "move-ack"]
    assert {r.transport for r in acked} == {"websocket", "polling"}
