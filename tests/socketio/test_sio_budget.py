"""The Socket.IO layer's state is bounded in bytes (issue 11, item 7).

Pending acks keep an AckRequest (not the EVENT); every session has a cost in bytes; one
session may hold ``max_pending_bytes``, all of them ``max_state_bytes``.
"""

from __future__ import annotations

import gc
import tracemalloc

from ioproto_socketio.acks import ENTRY_COST, SESSION_COST
from ioproto_socketio.records import AckRequest
from siohelp import decode, eio, errors, packets, rules, stream, unanswered

from ioproto.components import Limits
from ioproto.sessions import SESSION_OVERHEAD


def test_a_pending_ack_keeps_no_payload() -> None:
    big = "x" * 100_000
    records = decode([f'21["upload","{big}"]', ('31["ok"]', "s2c")])
    event, ack = packets(records)
    assert ack.answers == AckRequest.of(event)
    assert ack.answers.parent is None and ack.answers.event == "upload"
    assert ack.answers.size == len(event.raw) > 100_000
    assert not hasattr(ack.answers, "args")


def test_entry_cost_is_not_an_underestimate() -> None:
    """ENTRY_COST and SESSION_COST are what a pending ack and a session really take."""
    decoder = stream()
    count = 20_000
    records = [
        eio(f'2{index}["e",{index}]', sid=f"s{index // 10:05d}", ts=float(index))
        for index in range(count)
    ]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for record in records:
            list(decoder.feed(record))
        gc.collect()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    store = decoder.sessions
    assert store.cost == sum(session.cost for session in store.sessions.values())
    assert used <= store.cost, (used, store.cost)
    # and not a gross overestimate either
    assert store.cost <= 3 * used, (used, store.cost)
    assert ENTRY_COST < SESSION_COST


def test_a_session_over_its_byte_budget_forgets_its_oldest_acks() -> None:
    limits = Limits(max_pending_bytes=SESSION_COST + len("sid1") + 10 * (ENTRY_COST + 2))
    records = decode([f'2{index}["e"]' for index in range(30)], limits=limits)
    assert rules(records).count("socketio.state.too-many-pending-acks") == 20
    left = unanswered(records)
    assert sorted(record.id for record in left) == list(range(20, 30))
    assert all("bytes of state" in e.reason for e in errors(records))


def test_all_sessions_over_the_state_budget_forget_the_oldest_session() -> None:
    # what one session with one pending ack holds, in the store (its own overhead included)
    one = SESSION_OVERHEAD + SESSION_COST + len("session000") + ENTRY_COST + len("/e")
    limits = Limits(max_state_bytes=5 * one)
    decoder = stream(limits=limits)
    out = []
    for index in range(50):
        out += decoder.feed(eio(f'2{index}["e"]', sid=f"session{index:03d}", ts=float(index)))
        assert decoder.sessions.cost <= decoder.sessions.max_bytes
    assert len(decoder.sessions) == 5
    over = [e for e in errors(out) if e.rule == "socketio.state.over-budget"]
    assert len(over) == 45
    # each forgotten session reports its unanswered ack at once
    forgotten = unanswered(out)
    assert [record.sid for record in forgotten] == [f"session{i:03d}" for i in range(45)]
    assert all(record.reason == "session forgotten (state over budget)" for record in forgotten)


def test_answered_acks_give_their_bytes_back() -> None:
    decoder = stream()
    for index in range(100):
        list(decoder.feed(eio(f'2{index}["e"]', ts=float(index))))
    assert decoder.sessions.cost > 100 * ENTRY_COST
    for index in range(100):
        list(decoder.feed(eio(f'3{index}["ok"]', direction="s2c", ts=float(index))))
    (holder,) = decoder.sessions.sessions.values()
    session = holder.get("socketio")
    assert session.pending == 0
    assert session.cost == SESSION_COST + len("sid1")
    assert decoder.sessions.cost == holder.cost == SESSION_OVERHEAD + session.cost


def test_a_binary_packet_over_the_session_budget_is_dropped() -> None:
    limits = Limits(max_pending_bytes=100_000)
    big = "y" * 60_000
    records = decode([f'51-["up","{big}",{{"_placeholder":true,"num":0}}]', b"z"], limits=limits)
    assert rules(records) == ["socketio.state.too-large", "socketio.binary.unexpected"]


def test_an_attachment_over_the_session_budget_drops_its_packet() -> None:
    limits = Limits(max_pending_bytes=100_000)
    header = '52-["up",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    records = decode([header, b"a" * 10, b"b" * 200_000, '2["next"]'], limits=limits)
    assert rules(records) == ["socketio.state.too-large"]
    assert [p.event for p in packets(records)] == ["next"]


def test_binary_packets_are_charged_and_released() -> None:
    decoder = stream()
    header = '51-["up",{"_placeholder":true,"num":0}]'
    list(decoder.feed(eio(header)))
    charged = decoder.sessions.cost
    assert charged > SESSION_OVERHEAD + SESSION_COST + 2 * len(header)
    (packet,) = decoder.feed(eio(b"\x01\x02"))
    assert packet.args == [b"\x01\x02"]
    assert decoder.sessions.cost == SESSION_OVERHEAD + SESSION_COST + len("sid1")
