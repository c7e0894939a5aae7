"""Properties: any msgpack packet round-trips; arbitrary or mutated bytes never raise."""

from __future__ import annotations

from typing import Any

import msgpack  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_socketio.records import SocketIOPacket
from ioproto_socketio.testing import socketio_packets
from mphelp import feed_one, structure

from ioproto.model import ErrorRecord
from ioproto.testing.strategies import json_values, mutated

KNOWN_RULES = {
    "socketio.msgpack.unparseable",
    "socketio.msgpack.too-deep",
    "socketio.msgpack.invalid-type",
    "socketio.msgpack.invalid-namespace",
    "socketio.msgpack.invalid-payload",
    "socketio.msgpack.invalid-id",
}


@st.composite
def any_packet(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["connect", "disconnect", "connect_error", "data"]))
    nsp = draw(st.sampled_from(["/", "/admin", "/é"]))
    if kind == "connect":
        packet: dict[str, Any] = {"type": 0, "nsp": nsp}
        if draw(st.booleans()):
            packet["data"] = draw(st.dictionaries(st.text(max_size=5), json_values(), max_size=3))
        return packet
    if kind == "disconnect":
        return {"type": 1, "nsp": nsp}
    if kind == "connect_error":
        return {"type": 4, "nsp": nsp, "data": draw(st.one_of(st.text(), st.just({"m": 1})))}
    packet = draw(socketio_packets())
    if packet["id"] is None:
        del packet["id"]
    return packet


@settings(max_examples=200, deadline=None)
@given(any_packet(), st.permutations(["type", "nsp", "data", "id"]))
def test_packed_maps_round_trip(packet: dict[str, Any], order: list[str]) -> None:
    ordered = {key: packet[key] for key in order if key in packet}  # key order is free
    (record,) = [r for r in feed_one(msgpack.packb(ordered)) if r.type != "UNANSWERED_ACK"]
    assert isinstance(record, SocketIOPacket), record
    assert structure(record) == structure(
        SocketIOPacket(
            ts=0.0,
            wire_type=packet["type"],
            nsp=packet["nsp"],
            id=packet.get("id"),
            data=packet.get("data"),
        )
    )
    if record.type == "EVENT":
        assert [record.event, *record.args] == packet["data"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.sampled_from([3, 4]), st.booleans())
def test_arbitrary_bytes_never_raise(data: bytes, revision: int, strict: bool) -> None:
    for record in feed_one(data, revision=revision, strict=strict):
        if isinstance(record, ErrorRecord):
            assert record.rule in KNOWN_RULES, record


@settings(max_examples=200, deadline=None)
@given(any_packet().flatmap(lambda p: mutated(msgpack.packb(p))))
def test_mutated_packets_never_raise(data: bytes) -> None:
    for record in feed_one(data):
        if isinstance(record, ErrorRecord):
            assert record.rule in KNOWN_RULES, record


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40).map(lambda t: "{" + t))
def test_arbitrary_text_never_raises(text: str) -> None:
    for record in feed_one(text, revision=3):
        if isinstance(record, ErrorRecord):
            assert record.rule in KNOWN_RULES, record
