"""Property tests: round trips through the construct declaration, fast/slow parity, fuzzing."""

from __future__ import annotations

import json
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_socketio import wire
from ioproto_socketio.payload import deconstruct, has_binary
from ioproto_socketio.records import SocketIOPacket
from siohelp import decode, eio, errors, packets, rules, stream
from siostrategies import (
    NAMES,
    binary_count,
    event_names,
    names,
    namespaces,
    scalars,
    values,
    without_binary,
)

from ioproto.model import Record

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = values(scalars(2**63), names, 12)
with_binary = values(scalars(2**63) | st.binary(max_size=8), names, 12)
ack_ids = st.none() | st.integers(min_value=0, max_value=10**30)


@st.composite
def logical_packets(draw: st.DrawFn) -> dict[str, Any]:
    """A Socket.IO packet as an application sees it: type, nsp, id, data (bytes anywhere)."""
    kind = draw(st.sampled_from([0, 1, 2, 3, 4]))
    nsp = draw(namespaces)
    ack_id = draw(ack_ids) if kind in (2, 3) else None
    if kind == 0:
        data = draw(st.none() | st.dictionaries(names, json_values, max_size=3))
    elif kind == 1:
        data = None
    elif kind == 2:
        data = [draw(event_names), *draw(st.lists(with_binary, max_size=4))]
    elif kind == 3:
        data = draw(st.lists(with_binary, max_size=4))
    else:
        data = draw(st.text(max_size=10) | st.dictionaries(names, json_values, max_size=3))
    if binary_count(data) > 10:  # the default limits.max_attachments
        data = without_binary(data)
    return {"type": kind, "nsp": nsp, "id": ack_id, "data": data}


def encode(packet: dict[str, Any]) -> list[str | bytes]:
    """Encode with the construct declaration and placeholder deconstruction."""
    data = packet["data"]
    kind = packet["type"]
    attachments: list[bytes] = []
    if data is not None and has_binary(data):
        data, attachments = deconstruct(data)
        kind += 3
    text = wire.build_text(
        kind,
        attachments=len(attachments) if attachments else None,
        nsp=None if packet["nsp"] == "/" else packet["nsp"],
        id=packet["id"],
        payload="" if data is None else json.dumps(data, separators=(",", ":")),
    )
    return [text, *attachments]


@SETTINGS
@given(logical_packets())
def test_round_trip(packet: dict[str, Any]) -> None:
    parts = encode(packet)
    records = decode(parts, close=False)
    assert not errors(records), (parts, records)
    (record,) = packets(records)
    assert record.type == NAMES[packet["type"]]
    assert (record.nsp, record.id, record.data) == (packet["nsp"], packet["id"], packet["data"])
    assert record.attachments == len(parts) - 1
    assert record.wire_type == packet["type"] + (3 if len(parts) > 1 else 0)
    if packet["type"] == 2:
        assert (record.event, record.args) == (packet["data"][0], packet["data"][1:])
    if packet["type"] == 3:
        assert record.args == packet["data"]
    assert not record.notes


@SETTINGS
@given(logical_packets())
def test_round_trip_protocol_4(packet: dict[str, Any]) -> None:
    (record,) = packets(decode(encode(packet), revision=3, close=False))
    assert (record.nsp, record.id, record.data, record.revision) == (
        packet["nsp"],
        packet["id"],
        packet["data"],
        4,
    )
    assert record.type == NAMES[packet["type"]].replace("CONNECT_ERROR", "ERROR")


# -- parity of the plain-Python fast path with the construct declaration -----------------------

grammar_text = st.text(
    alphabet=st.sampled_from([*'0123456789-/,?[]{}":ab é\x00', "\ud800"]), max_size=20
)


@SETTINGS
@given(
    st.one_of(
        grammar_text, st.text(max_size=20), st.builds(lambda p: encode(p)[0], logical_packets())
    )
)
def test_fast_path_agrees_with_construct(text: str) -> None:
    fast = wire.parse_fast(text)
    if fast is None:
        return
    assert fast == wire.parse_slow(text)


@SETTINGS
@given(
    st.lists(
        st.one_of(grammar_text, st.builds(lambda p: encode(p)[0], logical_packets())), max_size=6
    )
)
def test_fast_decoder_agrees_with_construct_decoder(texts: list[str]) -> None:
    for revision in (3, 4):
        fast = decode(texts, revision=revision)
        slow = decode(texts, revision=revision, fast=False)
        assert fast == slow


# -- hostile input never breaks the decoder ------------------------------------------------------

messages = st.one_of(
    grammar_text,
    st.text(max_size=40),
    st.binary(max_size=20),
    st.builds(lambda p: encode(p), logical_packets()).flatmap(st.sampled_from),
)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            messages,
            st.sampled_from(["c2s", "s2c", None]),
            st.sampled_from(["A", "B", None]),
            st.sampled_from([2, 3, 4, None]),
            st.sampled_from(["message", "message", "message", "close"]),
        ),
        max_size=30,
    )
)
def test_arbitrary_sessions_never_raise(items: list[tuple[Any, Any, Any, Any, str]]) -> None:
    decoder = stream()
    out: list[Record] = []
    for index, (data, direction, sid, revision, kind) in enumerate(items):
        record = attrs.evolve(
            eio(data, direction=direction, sid=sid, ts=float(index), type=kind),
            revision=revision,
        )
        out += decoder.feed(record)
    out += decoder.close()
    assert "socketio.internal" not in rules(out)
    assert all(record.layer in ("socketio", "engineio") for record in out)
    assert decoder.stream._partials == 0 and len(decoder.sessions) == 0


@SETTINGS
@given(
    st.lists(logical_packets(), max_size=5),
    st.lists(logical_packets(), max_size=5),
    st.randoms(use_true_random=False),
)
def test_interleaved_directions(
    up: list[dict[str, Any]], down: list[dict[str, Any]], random: Any
) -> None:
    """The two directions' messages, interleaved any way, decode to the same packets."""
    queues = {
        "c2s": [part for packet in up for part in encode(packet)],
        "s2c": [part for packet in down for part in encode(packet)],
    }
    merged: list[tuple[str | bytes, str]] = []
    while queues["c2s"] or queues["s2c"]:
        choices = [name for name, queue in queues.items() if queue]
        name = random.choice(choices)
        merged.append((queues[name].pop(0), name))
    records = decode(merged, close=False)
    assert not errors(records)
    by_direction: dict[str, list[SocketIOPacket]] = {"c2s": [], "s2c": []}
    for record in packets(records):
        by_direction[record.direction].append(record)  # type: ignore[index]
    for name, sent in (("c2s", up), ("s2c", down)):
        got = by_direction[name]
        assert [(r.nsp, r.id, r.data) for r in got] == [
            (p["nsp"], p["id"], p["data"]) for p in sent
        ]
