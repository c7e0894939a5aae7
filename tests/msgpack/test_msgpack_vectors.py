"""protocols.md 3.9 (socket.io-msgpack-parser 3.0.2 tests and README), notepack ext types,
python-socketio's nil namespace, msgpack-parser 2.x text packets, and session selection."""

from __future__ import annotations

from typing import Any

import pytest
from ioproto_msgpack.decoder import MsgpackDecoder
from ioproto_msgpack.unpack import UNDEFINED, ext_formats, unpack
from ioproto_socketio.records import AckRequest, SocketIOPacket
from mphelp import decode, one, pack, packets, rules

from ioproto.components import Limits

README = bytes.fromhex(
    "83a474797065 02 a36e7370 a12f a464617461 92 a568656c6c6f a3796f75".replace(" ", "")
)


def test_readme_vector_encodes_and_decodes() -> None:
    assert pack({"type": 2, "nsp": "/", "data": ["hello", "you"]}) == README
    packet = one(README)
    assert isinstance(packet, SocketIOPacket)
    assert (packet.type, packet.nsp, packet.event, packet.args, packet.id) == (
        "EVENT",
        "/",
        "hello",
        ["you"],
        None,
    )
    assert (packet.wire_type, packet.revision, packet.attachments, packet.raw) == (2, 5, 0, README)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (b"", "socketio.msgpack.unparseable"),
        ({}, "socketio.msgpack.invalid-type"),
        ({"type": "a"}, "socketio.msgpack.invalid-type"),
        ({"type": 7}, "socketio.msgpack.invalid-type"),
        (b"\x01", "socketio.msgpack.invalid-type"),  # Buffer[1]: the number 1
        ({"type": 5, "nsp": "/", "data": []}, "socketio.msgpack.invalid-type"),  # 3.x: 0-4
        ({"type": True, "nsp": "/"}, "socketio.msgpack.invalid-type"),
        ({"type": 2}, "socketio.msgpack.invalid-namespace"),
        ({"type": 2, "nsp": 2}, "socketio.msgpack.invalid-namespace"),
        ({"type": 2, "nsp": "/"}, "socketio.msgpack.invalid-payload"),
        ({"type": 2, "nsp": "/", "data": 4}, "socketio.msgpack.invalid-payload"),
        ({"type": 4, "nsp": "/", "data": []}, "socketio.msgpack.invalid-payload"),
        ({"type": 1, "nsp": "/", "data": {}}, "socketio.msgpack.invalid-payload"),
        ({"type": 0, "nsp": "/", "data": "x"}, "socketio.msgpack.invalid-payload"),
        ({"type": 2, "nsp": "/", "data": [], "id": "a"}, "socketio.msgpack.invalid-id"),
        ({"type": 2, "nsp": "/", "data": [], "id": 1.5}, "socketio.msgpack.invalid-id"),
        (README + b"\x00", "socketio.msgpack.unparseable"),  # trailing bytes
        (README[:-1], "socketio.msgpack.unparseable"),  # truncated
        (b"\xc1", "socketio.msgpack.unparseable"),
        # msgpack's own unpacker stops at 1024 levels, below Limits.max_json_depth (10,000)
        (b"\x91" * 2000 + b"\x00", "socketio.msgpack.unparseable"),
    ],
)
def test_rejected(value: Any, rule: str) -> None:
    record = one(value)
    assert record.type == "error" and record.rule == rule, record
    assert record.layer == "socketio" and record.direction == "c2s" and record.sid == "s1"


@pytest.mark.parametrize(
    ("value", "kind", "data"),
    [
        ({"type": 0, "nsp": "/"}, "CONNECT", None),
        ({"type": 0, "nsp": "/admin", "data": {"token": "x"}}, "CONNECT", {"token": "x"}),
        ({"type": 1, "nsp": "/chat"}, "DISCONNECT", None),
        ({"type": 4, "nsp": "/", "data": "invalid"}, "CONNECT_ERROR", "invalid"),
        ({"type": 4, "nsp": "/", "data": {"message": "no"}}, "CONNECT_ERROR", {"message": "no"}),
        ({"type": 2, "nsp": "/", "data": []}, "EVENT", []),  # no name check in msgpack-parser
        ({"type": 2.0, "nsp": "/", "data": ["a"], "id": 3.0}, "EVENT", ["a"]),  # integral floats
    ],
)
def test_accepted(value: Any, kind: str, data: Any) -> None:
    packet = one(value)
    assert isinstance(packet, SocketIOPacket), packet
    assert (packet.type, packet.data, packet.nsp) == (kind, data, value["nsp"])


def test_integration_values_bytes_and_namespaces() -> None:
    packet = one({"type": 2, "nsp": "/chat", "data": ["e", [], {"a": "b"}, b"\x00\xff"], "id": 0})
    assert (packet.event, packet.args, packet.id) == ("e", [[], {"a": "b"}, b"\x00\xff"], 0)


def test_notepack_ext_types() -> None:
    date = bytes.fromhex("d700") + (1704164645678).to_bytes(8, "big")
    array_buffer_1 = bytes.fromhex("c70100") + b"\x00"  # a 1-byte ArrayBuffer, not undefined
    array_buffer_8 = bytes.fromhex("c70800") + bytes(range(8))  # 8 bytes, not a Date
    value = (
        bytes.fromhex("84")
        + pack("type")
        + b"\x02"
        + pack("nsp")
        + pack("/")
        + pack("data")
        + b"\x96"
        + pack("e")
        + bytes.fromhex("d40000")  # undefined in an array -> None
        + date
        + array_buffer_1
        + array_buffer_8
        + bytes.fromhex("c70300")
        + b"abc"  # ArrayBuffer of an unambiguous length
        + pack("id")
        + bytes.fromhex("d40000")  # id: undefined -> no id
    )
    packet = one(value)
    assert packet.args == [None, "2024-01-02T03:04:05.678Z", b"\x00", bytes(range(8)), b"abc"]
    assert packet.id is None


def test_undefined_in_a_map_is_dropped_and_other_ext_types_kept() -> None:
    raw = b"\x83" + pack("type") + b"\x00" + pack("nsp") + pack("/") + pack("data")
    packet = one(raw + b"\x82\xa1a\x01\xa1u" + bytes.fromhex("d40000"))
    assert packet.data == {"a": 1}
    ext = unpack(bytes.fromhex("92") + bytes.fromhex("d60501020304") + bytes.fromhex("d500aabb"), 8)
    assert ext == [[5, b"\x01\x02\x03\x04"], [0, b"\xaa\xbb"]]


def test_ext_formats_walk() -> None:
    data = pack({"a": [1, "x" * 40, b"b" * 300, 1.5, -(2**40)]}) + bytes.fromhex("d40000")
    assert ext_formats(data) == []
    assert ext_formats(bytes.fromhex("93d40000c70100ffd7000000000000000001")) == [
        0xD4,
        0xC7,
        0xD7,
    ]
    assert unpack(bytes.fromhex("d40000"), 4) is UNDEFINED


def test_date_out_of_range_is_kept_as_milliseconds() -> None:
    far = bytes.fromhex("d700") + (2**52).to_bytes(8, "big")
    assert unpack(far, 4) == 2**52


def test_python_socketio_nil_namespace() -> None:
    packet = one({"type": 2, "nsp": None, "data": ["x"]})
    assert (packet.nsp, packet.notes) == ("/", ("lenient:nil-namespace",))
    refused = one({"type": 2, "nsp": None, "data": ["x"]}, strict=True)
    assert refused.rule == "socketio.msgpack.invalid-namespace"


def test_non_string_map_keys_become_strings() -> None:
    packet = one({"type": 2, "nsp": "/", "data": ["e", {1: "a", None: "b", 2.5: "c"}]})
    assert packet.args == [{"1": "a", "null": "b", "2.5": "c"}]


def test_acks_are_paired_and_unanswered_acks_reported() -> None:
    records = decode(
        [
            ("c2s", pack({"type": 0, "nsp": "/"})),
            ("s2c", pack({"type": 0, "nsp": "/", "data": {"sid": "x"}})),
            ("c2s", pack({"type": 2, "nsp": "/", "data": ["q", 1], "id": 0})),
            ("c2s", pack({"type": 2, "nsp": "/chat", "data": ["q"], "id": 0})),
            ("s2c", pack({"type": 3, "nsp": "/", "data": ["a"], "id": 0})),
            ("s2c", pack({"type": 2, "nsp": "/", "data": ["later"], "id": 7})),
        ]
    )
    sio = packets(records)
    ack = next(p for p in sio if p.type == "ACK")
    assert ack.answers == AckRequest.of(sio[2]) and ack.answers.event == "q"
    pending = [r for r in records if r.type == "UNANSWERED_ACK"]
    assert sorted((u.nsp, u.id, u.direction, u.reason) for u in pending) == [
        ("/", 7, "s2c", "input ended"),
        ("/chat", 0, "c2s", "input ended"),
    ]


def test_session_close_reports_unanswered_acks() -> None:
    records = decode(
        [
            ("c2s", pack({"type": 0, "nsp": "/"})),
            ("c2s", pack({"type": 2, "nsp": "/", "data": ["q"], "id": 1})),
            ("c2s", b""),
        ]
    )
    assert rules(records) == ["socketio.msgpack.unparseable"]
    from ioproto_socketio.testing import ws_messages
    from mphelp import PLUGINS

    from ioproto.testing import run_pipeline

    chunks = ws_messages(
        [
            ("s2c", '0{"sid":"s9","upgrades":[],"pingInterval":1,"pingTimeout":1}'),
            ("c2s", pack({"type": 0, "nsp": "/"})),
            ("c2s", pack({"type": 2, "nsp": "/", "data": ["q"], "id": 1})),
            ("c2s", "1"),
        ]
    )
    out = run_pipeline(chunks, plugins=PLUGINS)
    kinds = [(r.layer, r.type) for r in out]
    assert kinds[-2:] == [("engineio", "close"), ("socketio", "UNANSWERED_ACK")]
    assert out[-1].reason == "session closed"  # type: ignore[attr-defined]


def test_pending_acks_and_sessions_are_bounded() -> None:
    records = decode(
        [("c2s", pack({"type": 2, "nsp": "/", "data": ["e"], "id": i})) for i in range(6)],
        limits=Limits(max_pending=2),
    )
    assert rules(records) == ["socketio.state.too-many-pending-acks"] * 4
    stream = MsgpackDecoder().open(
        __import__("ioproto").DecodeContext(limits=Limits(max_sessions=3))
    )
    from ioproto.model import Packet

    for i in range(50):
        record = Packet(
            layer="engineio", type="message", data=pack({"type": 0, "nsp": "/"}), ts=0.0, sid=str(i)
        )
        assert stream.accepts(record)
        list(stream.feed(record))
    assert len(stream._sessions) <= 3  # the parser choice and the acks live in the sessions


def test_protocol_4_text_packets_and_binary_types() -> None:
    records = decode(
        [
            ("s2c", '{"type":0,"nsp":"/"}'),
            ("c2s", '{"type":0,"nsp":"/admin","query":"token=1"}'),
            ("c2s", pack({"type": 5, "nsp": "/", "data": ["up", b"\x01"], "id": 2})),
            ("s2c", pack({"type": 6, "nsp": "/", "data": [b"\x02"], "id": 2})),
            ("s2c", '{"type":4,"nsp":"/x","data":"Invalid namespace"}'),
            ("c2s", "not json"),
        ],
        revision=3,
    )
    sio = packets(records)
    assert [(p.type, p.wire_type, p.revision) for p in sio] == [
        ("CONNECT", 0, 4),
        ("CONNECT", 0, 4),
        ("EVENT", 5, 4),
        ("ACK", 6, 4),
        ("ERROR", 4, 4),
    ]
    assert sio[1].query == "token=1" and sio[3].answers == AckRequest.of(sio[2])
    assert rules(records) == ["socketio.msgpack.unparseable"]


def test_auto_selection_leaves_default_sessions_alone() -> None:
    records = decode([("c2s", "0"), ("s2c", '0{"sid":"x"}'), ("c2s", '21["a"]'), ("s2c", "31[]")])
    sio = packets(records)
    assert [p.type for p in sio] == ["CONNECT", "CONNECT", "EVENT", "ACK"]
    assert sio[0].raw == b"0"  # decoded by the default parser
    assert sio[3].answers == AckRequest.of(sio[2])


def test_two_sessions_two_parsers_in_one_pipeline() -> None:
    from ioproto_socketio.testing import socketio_messages
    from mphelp import PLUGINS

    from ioproto.testing import run_pipeline

    default = socketio_messages([("c2s", "0"), ("c2s", '2["a"]')], sid="D", connection="d")
    msgp = socketio_messages(
        [
            ("c2s", pack({"type": 0, "nsp": "/"})),
            ("c2s", pack({"type": 2, "nsp": "/", "data": ["a"]})),
        ],
        sid="M",
        connection="m",
    )
    mixed = [chunk for pair in zip(default, msgp, strict=True) for chunk in pair]
    out = [r for r in run_pipeline(mixed, plugins=PLUGINS) if r.layer == "socketio"]
    assert [(r.sid, r.type) for r in out] == [
        ("D", "CONNECT"),
        ("M", "CONNECT"),
        ("D", "EVENT"),
        ("M", "EVENT"),
    ]
    assert not rules(out)


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("default", ["socketio.binary.unexpected"]), ("msgpack", []), ("auto", [])],
)
def test_parser_option_forces_the_choice(mode: str, expected: list[str]) -> None:
    records = decode([("c2s", pack({"type": 0, "nsp": "/"}))], options={"socketio_parser": mode})
    assert rules(records) == expected


def test_forced_msgpack_reports_default_text() -> None:
    records = decode([("c2s", '2["a"]')], options={"socketio_parser": "msgpack"})
    assert rules(records) == ["socketio.msgpack.unparseable"]


def test_decoder_attributes() -> None:
    decoder = MsgpackDecoder()
    assert (decoder.name, decoder.layer, decoder.rides_on, decoder.priority) == (
        "socketio-msgpack",
        "socketio",
        "engineio",
        10,
    )


def test_nesting_over_the_depth_limit() -> None:
    value = b"\x91" * 300 + b"\x00"
    assert one(value, limits=Limits(max_json_depth=256)).rule == "socketio.msgpack.too-deep"
    # 1000 levels (msgpack's maximum) pass the walk without a RecursionError
    deep = one(b"\x81\xa4type\x91" + b"\x91" * 1000 + b"\x00")
    assert deep.rule == "socketio.msgpack.invalid-type"


def test_a_value_too_large_once_decoded_is_refused() -> None:
    """Width, not depth: many empty arrays take ~100 bytes each once unpacked."""
    header = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\xdd"
    wide = header + (50_000).to_bytes(4, "big") + b"\x90" * 50_000
    record = one(wide, limits=Limits(max_json_bytes=1_000_000))
    assert record.rule == "socketio.msgpack.too-large"
    text = {"type": 2, "nsp": "/", "data": ["x", "a" * 200_000]}  # bytes of text are not
    assert one(text, limits=Limits(max_json_bytes=1_000_000)).args == ["a" * 200_000]
