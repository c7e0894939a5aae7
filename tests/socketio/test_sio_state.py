"""Ack pairing, unanswered acks, session ends and the bounds on per-session state."""

from __future__ import annotations

from ioproto_socketio.decoder import SocketIODecoder
from ioproto_socketio.records import AckRequest, SocketIOPacket
from siohelp import decode, eio, errors, packets, rules, stream, unanswered

from ioproto.components import Limits
from ioproto.model import Packet


def test_accepts() -> None:
    decoder = SocketIODecoder()
    assert (decoder.name, decoder.rides_on) == ("socketio", "engineio")
    assert decoder.accepts(eio("2[]"))
    assert not decoder.accepts(eio("", type="close"))  # the session store ends sessions
    assert not decoder.accepts(eio("", type="ping"))
    assert not decoder.accepts(Packet(layer="chunk", type="message", ts=0.0))


def test_ack_answers_event_of_opposite_direction() -> None:
    records = decode(
        [
            '2/admin,13["foo"]',
            ('3/admin,13["bar"]', "s2c"),
            ('213["x"]', "s2c"),  # server ids are independent of client ids
            '313["y"]',
        ]
    )
    first, ack1, second, ack2 = packets(records)
    assert ack1.answers == AckRequest.of(first) and ack2.answers == AckRequest.of(second)
    assert not unanswered(records) and not errors(records)


def test_ack_needs_same_namespace_and_direction() -> None:
    records = decode(['25["foo"]', '35["same direction"]', ('3/other,5["x"]', "s2c")])
    event, same_dir, other_nsp = packets(records)
    assert same_dir.answers is None and other_nsp.answers is None
    (left,) = unanswered(records)
    assert (left.id, left.nsp, left.event, left.request, left.reason) == (
        5,
        "/",
        "foo",
        AckRequest.of(event),
        "input ended",
    )
    assert left.direction == "c2s" and left.event_ts == event.ts


def test_ack_for_unknown_event_has_no_link() -> None:
    (ack,) = packets(decode(['399["x"]']))
    assert ack.answers is None


def test_binary_ack_answers() -> None:
    records = decode(
        [
            '51-7["up",{"_placeholder":true,"num":0}]',
            b"data",
            ('61-7[{"_placeholder":true,"num":0}]', "s2c"),
            (b"reply", "s2c"),
        ]
    )
    event, ack = packets(records)
    assert ack.answers == AckRequest.of(event) and ack.args == [b"reply"]


def test_close_ends_session_and_passes_through() -> None:
    decoder = stream()
    assert not list(decoder.feed(eio('21["a"]', ts=1.0)))[1:]
    list(decoder.feed(eio('51-["b",{"_placeholder":true,"num":0}]', direction="s2c", ts=2.0)))
    close = eio("", type="close", ts=5.0)
    out = list(decoder.feed(close))
    assert out[0] is close
    kinds = [(record.type, getattr(record, "rule", None)) for record in out[1:]]
    assert sorted(kinds, key=str) == sorted(
        [("error", "socketio.binary.incomplete"), ("UNANSWERED_ACK", None)], key=str
    )
    (left,) = unanswered(out)
    assert (left.ts, left.event_ts, left.reason, left.parent) == (5.0, 1.0, "session closed", close)
    assert list(decoder.close()) == []
    # the session starts afresh afterwards
    assert rules(decoder.feed(eio(b"late"))) == ["socketio.binary.unexpected"]


def test_close_of_other_session_keeps_state() -> None:
    decoder = stream()
    list(decoder.feed(eio('21["a"]', sid="A")))
    out = list(decoder.feed(eio("", type="close", sid="B")))
    assert len(out) == 1
    assert len(unanswered(decoder.close())) == 1


def test_close_reports_incomplete_binary() -> None:
    records = decode(['52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', b"x"])
    assert rules(records) == ["socketio.binary.incomplete"]


def test_reused_ack_id() -> None:
    records = decode(['21["a"]', '21["b"]', ("31[]", "s2c")])
    first_unanswered = unanswered(records)
    assert [(u.event, u.reason) for u in first_unanswered] == [("a", "ack id reused")]
    assert packets(records)[2].answers == AckRequest.of(packets(records)[1])


def test_pending_acks_are_bounded() -> None:
    messages = [f'2{i}["e{i}"]' for i in range(10)]
    records = decode(messages, limits=Limits(max_pending=3))
    assert rules(records) == ["socketio.state.too-many-pending-acks"] * 7
    assert [u.event for u in unanswered(records)] == ["e7", "e8", "e9"]


def test_sessions_are_bounded() -> None:
    decoder = stream(limits=Limits(max_sessions=2))
    out = []
    for sid in "ABC":
        out += decoder.feed(eio('21["a"]', sid=sid))
    assert rules(out) == ["socketio.state.too-many-sessions"]
    assert [(u.sid, u.reason) for u in unanswered(out)] == [
        ("A", "session forgotten (too many sessions)")
    ]
    assert sorted(u.sid for u in unanswered(decoder.close())) == ["B", "C"]  # type: ignore[type-var]


def test_idle_sessions_are_evicted_silently() -> None:
    decoder = stream(limits=Limits(max_sessions=10))
    out = []
    for i in range(1000):
        out += decoder.feed(eio(f'2{i}["a"]', sid=str(i)))
        out += decoder.feed(eio(f"3{i}[]", sid=str(i), direction="s2c"))
        out += decoder.feed(eio('51-["a",{"_placeholder":true,"num":0}]', sid=str(i)))
        out += decoder.feed(eio(b"x", sid=str(i)))
    assert not errors(out) and len(packets(out)) == 3000
    assert len(decoder.sessions) <= 10


def test_records_carry_common_fields() -> None:
    decoder = stream()
    parent = Packet(
        layer="engineio",
        type="message",
        data='2/a,1["e",1]',
        revision=4,
        ts=12.5,
        sid="S",
        direction="s2c",
        connection="c",
        transport="polling",
    )
    (record,) = decoder.feed(parent)
    assert isinstance(record, SocketIOPacket)
    assert (record.ts, record.sid, record.direction, record.connection, record.transport) == (
        12.5,
        "S",
        "s2c",
        "c",
        "polling",
    )
    assert record.parent is parent and record.layer == "socketio"
    assert list(record.lineage()) == [record, parent]


def test_non_data_message() -> None:
    decoder = stream()
    out = list(decoder.feed(Packet(layer="engineio", type="message", data=None, ts=0.0)))
    assert rules(out) == ["socketio.message.not-data"]


def test_error_raw_is_truncated() -> None:
    records = decode(['2["a",' + "x" * 100], limits=Limits(max_raw_kept=10))
    assert errors(records)[0].raw == b'2["a",xxxx'


def test_revision_default_and_option() -> None:
    from ioproto_socketio.decoder import SocketIOStream

    from ioproto.components import DecodeContext

    record = Packet(layer="engineio", type="message", data='4"x"', ts=0.0)
    (default,) = SocketIOStream(DecodeContext()).feed(record)
    assert (default.type, default.revision) == ("CONNECT_ERROR", 5)  # type: ignore[attr-defined]
    (v4,) = SocketIOStream(DecodeContext(options={"socketio_revision": 4})).feed(record)
    assert (v4.type, v4.revision) == ("ERROR", 4)  # type: ignore[attr-defined]
