"""Decoding each real capture reproduces what its applications logged.

The captures in tests/data were made by real Socket.IO peers (tests/peers) under tcpdump;
each comes with the applications' own log of what they emitted, received and acknowledged.
Decoding the capture up to Socket.IO must give exactly those events and acks, with the
right direction, namespace, names, arguments (bytes included) and ack ids; sessions must
hold the events of one client each; and nothing else may appear but protocol control
packets.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import ioproto
from ioproto import ErrorRecord, Record
from ioproto.jsonform import to_jsonable

DATA = Path(__file__).resolve().parents[1] / "data"
SCENARIOS = sorted(path.name.removesuffix(".pcap") for path in DATA.glob("*.pcap"))
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: Error rules a scenario produces on purpose (a client that vanishes mid-stream, ...).
EXPECTED_ERRORS: dict[str, set[str]] = {}


def canonical(value: Any) -> str:
    return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"))


def load_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def direction_of(side: str) -> str:
    return "c2s" if side == "client" else "s2c"


def plugin_manager() -> ioproto.PluginManager:
    """The installed plugins, plus the msgpack parser (msgpack_*.pcap) and the example game
    protocol (game.pcap: its raw Engine.IO telemetry) if their entry points are not installed."""
    import ioproto_example_game
    import ioproto_msgpack

    pm = ioproto.make_plugin_manager()
    for name, module in (("msgpack", ioproto_msgpack), ("example_game", ioproto_example_game)):
        if pm.get_plugin(name) is None and not pm.is_registered(module):
            pm.register(module, name=name)
    return pm


def decoded(path: Path) -> list[Record]:
    return list(ioproto.decode(str(path), proto="socketio", plugin_manager=plugin_manager()))


@pytest.fixture(scope="module", params=SCENARIOS)
def scenario(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]], list[Record]]:
    name = request.param
    return name, load_log(DATA / f"{name}.log.jsonl"), decoded(DATA / f"{name}.pcap")


def expected_events(log: list[dict[str, Any]]) -> Counter[tuple[str, str, str, str]]:
    return Counter(
        (direction_of(entry["side"]), entry["nsp"], entry["event"], canonical(entry["args"]))
        for entry in log
        if entry["action"] == "emit"
    )


def test_every_event_of_the_log_is_decoded_and_nothing_else(
    scenario: tuple[str, list[dict[str, Any]], list[Record]],
) -> None:
    name, log, records = scenario
    events = Counter(
        (r.direction, r.nsp, r.event, canonical(r.args))  # type: ignore[attr-defined]
        for r in records
        if r.layer == "socketio" and r.type == "EVENT"
    )
    expected = expected_events(log)
    assert events - expected == Counter(), f"{name}: decoded events the applications never sent"
    assert expected - events == Counter(), f"{name}: events the applications sent, not decoded"


def test_every_ack_of_the_log_is_decoded_with_its_id(
    scenario: tuple[str, list[dict[str, Any]], list[Record]],
) -> None:
    name, log, records = scenario
    acks = Counter(
        (r.direction, r.nsp, canonical(r.args))  # type: ignore[attr-defined]
        for r in records
        if r.layer == "socketio" and r.type == "ACK"
    )
    expected = Counter(
        (direction_of(entry["side"]), entry["nsp"], canonical(entry["args"]))
        for entry in log
        if entry["action"] == "ack-sent"
    )
    assert acks == expected, name
    ids = Counter(
        (r.direction, r.nsp, r.id)  # type: ignore[attr-defined]
        for r in records
        if r.layer == "socketio" and r.type == "ACK"
    )
    expected_ids = Counter(
        (direction_of(entry["side"]), entry["nsp"], entry["ack_id"])
        for entry in log
        if entry["action"] == "ack-sent" and entry["ack_id"] is not None
    )
    assert expected_ids - ids == Counter(), name


def test_acks_answer_the_events_that_asked_for_them(
    scenario: tuple[str, list[dict[str, Any]], list[Record]],
) -> None:
    name, _, records = scenario
    for record in records:
        if record.layer == "socketio" and record.type == "ACK":
            event = record.answers  # type: ignore[attr-defined]
            assert event is not None, f"{name}: ACK {record.id} answers nothing"  # type: ignore[attr-defined]
            assert event.id == record.id  # type: ignore[attr-defined]
            assert event.direction != record.direction
            assert event.sid == record.sid
            assert event.ts <= record.ts


def test_each_session_carries_the_events_of_one_client(
    scenario: tuple[str, list[dict[str, Any]], list[Record]],
) -> None:
    name, log, records = scenario
    per_client: dict[str, Counter[tuple[str, str, str, str]]] = {}
    for entry in log:
        if entry["action"] == "emit":
            key = (
                direction_of(entry["side"]),
                entry["nsp"],
                entry["event"],
                canonical(entry["args"]),
            )
            per_client.setdefault(entry["client"], Counter())[key] += 1
    per_sid: dict[str | None, Counter[tuple[str, str, str, str]]] = {}
    for r in records:
        if r.layer == "socketio" and r.type == "EVENT":
            key = (r.direction, r.nsp, r.event, canonical(r.args))  # type: ignore[attr-defined]
            per_sid.setdefault(r.sid, Counter())[key] += 1
    assert None not in per_sid, f"{name}: events without a session id"
    # Every session's events come from a single client (a client may have several sessions).
    for sid, counter in per_sid.items():
        owners = [client for client, sent in per_client.items() if counter - sent == Counter()]
        assert owners, f"{name}: session {sid} mixes events of several clients"


def test_no_unexpected_errors(scenario: tuple[str, list[dict[str, Any]], list[Record]]) -> None:
    name, _, records = scenario
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    unexpected = [e for e in errors if e.rule not in EXPECTED_ERRORS.get(name, set())]
    assert unexpected == [], [f"{e.rule}: {e.reason}" for e in unexpected]


def test_connect_errors_of_the_log_are_decoded(
    scenario: tuple[str, list[dict[str, Any]], list[Record]],
) -> None:
    name, log, records = scenario
    expected = Counter(
        (entry["nsp"], canonical(entry["args"][0]))
        for entry in log
        if entry["action"] == "connect_error" and entry["side"] == "client"
    )
    decoded_errors = Counter(
        (r.nsp, canonical(r.data))  # type: ignore[attr-defined]
        for r in records
        if r.layer == "socketio" and r.type in ("CONNECT_ERROR", "ERROR")
    )
    assert expected - decoded_errors == Counter(), name


def test_the_bundled_example_decodes() -> None:
    records = decoded(EXAMPLES / "chat.pcap")
    log = load_log(EXAMPLES / "chat.log.jsonl")
    events = Counter(
        (r.direction, r.nsp, r.event, canonical(r.args))  # type: ignore[attr-defined]
        for r in records
        if r.layer == "socketio" and r.type == "EVENT"
    )
    assert events == expected_events(log)
    assert not [r for r in records if isinstance(r, ErrorRecord)]
