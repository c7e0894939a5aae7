"""The test vectors of protocols.md §3.1-3.5 and the python-engineio rows of §3.10."""

from __future__ import annotations

import pytest
from eio_helpers import decode, packets, rules, summary
from ioproto_engineio.records import EngineIOHandshake, EngineIOHttpError
from ioproto_http.records import ChunkKind, HttpInfo

from ioproto.model import ErrorRecord

WS_TEXT = ChunkKind.WS_TEXT
WS_BINARY = ChunkKind.WS_BINARY
LINE = ChunkKind.LINE
RESPONSE = ChunkKind.HTTP_RESPONSE
REQUEST = ChunkKind.HTTP_REQUEST
OCTET = HttpInfo(method="GET", status=200, headers=(("content-type", "application/octet-stream"),))


def only_errors(records: list, *expected_rules: str) -> None:
    assert records, "a REJECT must produce an error record"
    assert all(isinstance(r, ErrorRecord) for r in records), summary(records)
    if expected_rules:
        assert set(rules(records)) <= set(expected_rules), rules(records)


# -- §3.1 EIO v4 -----------------------------------------------------------------------------


def test_v4_message_text() -> None:
    assert summary(decode(b"4test", WS_TEXT)) == [("message", "test")]


@pytest.mark.parametrize("kind", [WS_TEXT, LINE])
def test_v4_reject_empty_packet(kind: ChunkKind) -> None:
    only_errors(decode(b"", kind), "engineio.packet.empty")


@pytest.mark.parametrize("kind", [WS_TEXT, LINE])
def test_v4_reject_a123(kind: ChunkKind) -> None:
    records = decode(b"a123", kind)
    only_errors(records, "engineio.packet.bad-type")
    assert records[0].raw == b"a123"
    assert records[0].index == 0


def test_v4_payload_of_all_kinds() -> None:
    records = decode(b"0\x1e1\x1e2probe\x1e3probe\x1e4test", RESPONSE, revision=4)
    # "0" alone is an open packet without a handshake: an error, the rest survives.
    assert summary(records) == [
        ("error", "engineio.handshake.invalid"),
        ("close", ""),
        ("ping", "probe"),
        ("pong", "probe"),
        ("message", "test"),
    ]
    assert [r.index for r in records] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("payload", [b"{", b"{}", b'["a123", "a456"]'])
def test_v4_payload_rejects(payload: bytes) -> None:
    only_errors(decode(payload, RESPONSE, revision=4), "engineio.packet.bad-type")


def test_v4_base64_message() -> None:
    records = decode(b"bAQIDBA==", WS_TEXT)
    assert summary(records) == [("message", b"\x01\x02\x03\x04")]
    assert records[0].binary is True
    assert records[0].raw == b"bAQIDBA=="


def test_v4_binary_message_has_no_type_byte() -> None:
    records = decode(b"\x01\x02\x03\x04", WS_BINARY, revision=4)
    assert summary(records) == [("message", b"\x01\x02\x03\x04")]
    assert records[0].binary


def test_v4_payload_text_and_binary() -> None:
    assert summary(decode(b"4test\x1ebAQIDBA==", RESPONSE)) == [
        ("message", "test"),
        ("message", b"\x01\x02\x03\x04"),
    ]


# -- §3.2 EIO v3 -----------------------------------------------------------------------------


def test_v3_message_euro() -> None:
    assert summary(decode("4€€€".encode(), WS_TEXT, revision=3)) == [("message", "€€€")]


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b'0{"some":"json"}', None),
        (b"1", ("close", "")),
        (b"21", ("ping", "1")),
        (b"31", ("pong", "1")),
        (b"4aaa", ("message", "aaa")),
        (b"5", ("upgrade", "")),
        (b"4", ("message", "")),
        (b"41", ("message", "1")),
    ],
)
@pytest.mark.parametrize("revision", [2, 3])
def test_v3_packets(wire: bytes, expected: tuple[str, str] | None, revision: int) -> None:
    records = decode(wire, WS_TEXT, revision=revision)
    if expected is None:  # an open packet without sid is not a handshake
        only_errors(records, "engineio.handshake.invalid")
        assert records[0].raw == wire
    else:
        assert summary(records) == [expected]
        assert records[0].revision == revision


@pytest.mark.parametrize("wire", [b":::", b"94103"])
@pytest.mark.parametrize("revision", [2, 3])
def test_v3_packet_rejects(wire: bytes, revision: int) -> None:
    only_errors(decode(wire, WS_TEXT, revision=revision), "engineio.packet.bad-type")


def test_v3_invalid_utf8_text_frame() -> None:
    only_errors(decode(b"4\xff", WS_TEXT, revision=3), "engineio.packet.bad-utf8")


def test_v3_payload_utf16_lengths() -> None:
    records = decode("4:4€€€2:4\u03b1".encode(), RESPONSE, revision=3)
    assert summary(records) == [("message", "€€€"), ("message", "\u03b1")]
    assert records[0].raw == "4€€€".encode()


def test_v3_payload_astral_counts_two() -> None:
    assert summary(decode("3:4😀2:4a".encode(), RESPONSE, revision=3)) == [
        ("message", "😀"),
        ("message", "a"),
    ]


def test_v3_empty_payload() -> None:
    assert decode(b"0:", RESPONSE, revision=3) == []


@pytest.mark.parametrize("payload", [b"1!", b"))", b"1:", b"3:99:", b"1:aa", b"1:a2:b"])
@pytest.mark.parametrize("revision", [2, 3])
def test_v3_payload_rejects(payload: bytes, revision: int) -> None:
    records = decode(payload, RESPONSE, revision=revision)
    only_errors(records)
    for record in records:
        assert record.offset is not None or record.index is not None


def test_v3_payload_empty_line_rejected() -> None:
    only_errors(decode(b"", LINE, revision=3), "engineio.packet.empty")


def test_v3_binary_payload_40_rejected() -> None:
    only_errors(decode(b"\x40", RESPONSE, revision=3, http=OCTET), "engineio.xhr2.bad-kind")
    only_errors(decode(b"\x40", RESPONSE, revision=3))


def test_v3_binary_packet_type_byte() -> None:
    assert summary(decode(b"\x04\x03\x02\x01", WS_BINARY, revision=3)) == [
        ("message", b"\x03\x02\x01")
    ]


def test_v3_text_payload_base64() -> None:
    assert summary(decode("10:b4AAECAwQ=8:4hello 亜".encode(), RESPONSE, revision=3)) == [
        ("message", b"\x00\x01\x02\x03\x04"),
        ("message", "hello 亜"),
    ]


def test_v3_xhr2_two_binaries() -> None:
    wire = bytes.fromhex("0106FF04000102030401 05FF0405060708".replace(" ", ""))
    assert summary(decode(wire, RESPONSE, revision=3, http=OCTET)) == [
        ("message", b"\x00\x01\x02\x03\x04"),
        ("message", b"\x05\x06\x07\x08"),
    ]


def test_v3_xhr2_long_binary_text_and_close() -> None:
    wire = (
        bytes.fromhex("01010204FF04")
        + bytes(range(123))
        + bytes.fromhex("000100FF3468656C6C6F20E4BA9C0001FF31")
    )
    records = decode(wire, RESPONSE, revision=3)  # first byte <= 1: XHR2 without header
    assert summary(records) == [
        ("message", bytes(range(123))),
        ("message", "hello 亜"),
        ("close", ""),
    ]
    assert [r.index for r in records] == [0, 1, 2]


# -- §3.3 EIO v2: same rejects -----------------------------------------------------------------


def test_v2_empty_payload_and_round_trip() -> None:
    assert decode(b"0:", RESPONSE, revision=2) == []
    records = decode(b"2:4a", RESPONSE, revision=2)
    assert summary(records) == [("message", "a")]
    assert records[0].revision == 2


# -- §3.4 spec examples ----------------------------------------------------------------------


def test_spec_v4_payloads() -> None:
    assert summary(decode(b"4hello\x1e2\x1e4world", RESPONSE, revision=4)) == [
        ("message", "hello"),
        ("ping", ""),
        ("message", "world"),
    ]
    assert summary(decode(b"4hello\x1ebAQIDBA==", RESPONSE, revision=4)) == [
        ("message", "hello"),
        ("message", b"\x01\x02\x03\x04"),
    ]


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("4:4hey", [("message", "hey")]),
        ("6:4hello6:4world", [("message", "hello"), ("message", "world")]),
        ("6:4hello2:4€", [("message", "hello"), ("message", "€")]),
        ("2:4€10:b4AQIDBA==", [("message", "€"), ("message", b"\x01\x02\x03\x04")]),
    ],
)
def test_spec_v3_payloads(wire: str, expected: list[tuple[str, object]]) -> None:
    assert summary(decode(wire.encode(), RESPONSE, revision=3)) == expected


def test_spec_v3_xhr2_euro_and_binary() -> None:
    wire = bytes.fromhex("0004FF34E282AC0105FF0401020304")
    assert summary(decode(wire, RESPONSE, revision=3, http=OCTET)) == [
        ("message", "€"),
        ("message", b"\x01\x02\x03\x04"),
    ]


def test_spec_v3_ws_binary() -> None:
    assert summary(decode(bytes.fromhex("04000102030405"), WS_BINARY, revision=3)) == [
        ("message", bytes(range(6)))
    ]


# -- §3.5 server behaviour (what a capture of those exchanges decodes to) ------------------------


HANDSHAKE_V4 = (
    b'0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,'
    b'"pingTimeout":20000,"maxPayload":1000000}'
)


def test_v4_polling_handshake() -> None:
    records = decode(HANDSHAKE_V4, RESPONSE, revision=4, http=HttpInfo(method="GET", status=200))
    (handshake,) = records
    assert isinstance(handshake, EngineIOHandshake)
    assert handshake.sid == "lv_VI97HAXpY6yYWAAAC"
    assert handshake.upgrades == ("websocket",)
    assert (handshake.ping_interval, handshake.ping_timeout, handshake.max_payload) == (
        25000,
        20000,
        1000000,
    )
    assert handshake.data == HANDSHAKE_V4[1:].decode()
    assert handshake.transport == "polling"
    assert handshake.direction == "s2c"


def test_v3_polling_handshake_with_connect() -> None:
    body = (
        b'96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,'
        b'"pingTimeout":5000}2:40'
    )
    records = decode(body, RESPONSE, revision=3)
    assert [type(r).__name__ for r in records] == ["EngineIOHandshake", "EngineIOPacket"]
    assert records[0].max_payload is None
    assert records[0].ping_timeout == 5000
    assert records[1].type == "message" and records[1].data == "0"
    assert records[1].sid == "lv_VI97HAXpY6yYWAAAC"  # learned from the handshake before it


@pytest.mark.parametrize(
    ("revision", "body", "expected"),
    [
        (4, b"4hello", [("message", "hello")]),
        (4, b"4test1\x1e4test2\x1e4test3", [("message", f"test{i}") for i in (1, 2, 3)]),
        (4, b"4hello\x1ebAQIDBA==", [("message", "hello"), ("message", b"\x01\x02\x03\x04")]),
        (3, b"6:4hello", [("message", "hello")]),
        (3, b"6:4test16:4test26:4test3", [("message", f"test{i}") for i in (1, 2, 3)]),
        (3, b"6:4hello10:b4AQIDBA==", [("message", "hello"), ("message", b"\x01\x02\x03\x04")]),
    ],
)
def test_post_bodies(revision: int, body: bytes, expected: list[tuple[str, object]]) -> None:
    http = HttpInfo(method="POST", query=(("EIO", str(revision)), ("sid", "x")))
    records = decode(body, REQUEST, revision=revision, http=http, sid="x")
    assert summary(records) == expected
    assert all(r.direction == "c2s" and r.sid == "x" for r in records)


def test_post_abc_is_an_error() -> None:
    only_errors(decode(b"abc", REQUEST, revision=4, http=HttpInfo(method="POST")))


def test_eio3_echo_as_xhr2() -> None:
    body = bytes.fromhex("0006FF3468656C6C6F0105FF0401020304")
    assert summary(decode(body, RESPONSE, revision=3, http=OCTET)) == [
        ("message", "hello"),
        ("message", b"\x01\x02\x03\x04"),
    ]


@pytest.mark.parametrize(("revision", "body"), [(4, b"6"), (3, b"1:6"), (4, b"1"), (3, b"1:1")])
def test_noop_and_close_bodies(revision: int, body: bytes) -> None:
    (record,) = decode(body, RESPONSE, revision=revision)
    assert record.type in ("noop", "close")


def test_heartbeats_and_probe() -> None:
    assert summary(decode(b"2probe", WS_TEXT)) == [("ping", "probe")]
    assert summary(decode(b"3probe", WS_TEXT)) == [("pong", "probe")]
    assert summary(decode(b"1:2", REQUEST, revision=3)) == [("ping", "")]
    assert summary(decode(b"1:3", RESPONSE, revision=3)) == [("pong", "")]


def test_ws_text_abc_is_an_error() -> None:
    only_errors(decode(b"abc", WS_TEXT), "engineio.packet.bad-type")


# -- §3.10 python-engineio 4.x ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"6", ("noop", "")),
        (b"4text", ("message", "text")),
        (b"4", ("message", "")),
        # JS keeps the string; python-engineio JSON-decodes it. ioproto keeps the text.
        (b'4{"a":123,"b":"456"}', ("message", '{"a":123,"b":"456"}')),
        (b"4123", ("message", "123")),
        (b'4{"a":' + b"1" * 101 + b"}", ("message", '{"a":' + "1" * 101 + "}")),
        (b"bBAECAw==", ("message", b"\x04\x01\x02\x03")),
    ],
)
def test_python_engineio_packets(wire: bytes, expected: tuple[str, object]) -> None:
    assert summary(decode(wire, WS_TEXT, revision=4)) == [expected]


def test_python_engineio_empty_packet_rejected() -> None:
    only_errors(decode(b"", WS_TEXT), "engineio.packet.empty")


def test_binary_noop_rejected() -> None:
    only_errors(decode(b"\x06\x01", WS_BINARY, revision=3), "engineio.binary.bad-type")
    only_errors(decode(b"b6AQI=", WS_TEXT, revision=3), "engineio.binary.bad-type")


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"4abc\x1e4def", [("message", "abc"), ("message", "def")]),
        (
            b"4abc\x1ebAwQFBg==\x1ebAwQFBg==\x1e4abc",
            [
                ("message", "abc"),
                ("message", b"\x03\x04\x05\x06"),
                ("message", b"\x03\x04\x05\x06"),
                ("message", "abc"),
            ],
        ),
    ],
)
def test_python_engineio_payloads(wire: bytes, expected: list[tuple[str, object]]) -> None:
    assert summary(decode(wire, RESPONSE, revision=4)) == expected


def test_python_engineio_jsonp_response() -> None:
    http = HttpInfo(method="GET", status=200, query=(("EIO", "4"), ("j", "233")))
    assert summary(decode(b'___eio[233]("4abc");', RESPONSE, revision=4, http=http)) == [
        ("message", "abc")
    ]


def test_python_engineio_jsonp_post() -> None:
    http = HttpInfo(method="POST", query=(("EIO", "4"), ("j", "0")))
    assert summary(decode(b"d=4abc", REQUEST, revision=4, http=http)) == [("message", "abc")]


def test_python_engineio_bad_payload_rejected() -> None:
    only_errors(decode(b"bad payload", RESPONSE, revision=4))
    only_errors(decode(b"bad payload", RESPONSE, revision=3))


def test_more_than_16_packets_is_not_an_error() -> None:
    records = decode(b"\x1e".join([b"4abc"] * 19), RESPONSE, revision=4)
    assert packets(records) == [("message", "abc")] * 19
    records = decode(b"4:4abc" * 18, RESPONSE, revision=3)
    assert packets(records) == [("message", "abc")] * 18


# -- §3.10 python-engineio 3.x ------------------------------------------------------------------


def test_python_engineio3_payloads() -> None:
    assert summary(decode(b"4:4abc", RESPONSE, revision=3)) == [("message", "abc")]
    assert summary(decode(bytes.fromhex("0004FF34616263"), RESPONSE, revision=3)) == [
        ("message", "abc")
    ]
    assert summary(decode(b"6:b4AAEC", RESPONSE, revision=3)) == [("message", b"\x00\x01\x02")]
    assert summary(decode(bytes.fromhex("0104FF04000102"), RESPONSE, revision=3)) == [
        ("message", b"\x00\x01\x02")
    ]
    assert summary(decode(bytes.fromhex("0004FF346162630004FF34646566"), RESPONSE, revision=3)) == [
        ("message", "abc"),
        ("message", "def"),
    ]
    assert summary(decode(b"4:4abc4:4def", RESPONSE, revision=3)) == [
        ("message", "abc"),
        ("message", "def"),
    ]
    http = HttpInfo(method="POST", query=(("EIO", "3"), ("j", "1")))
    assert summary(decode(b"d=4:4abc", REQUEST, revision=3, http=http)) == [("message", "abc")]


# -- HTTP errors and skipped bodies --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "code", "message"),
    [
        (400, b'{"code":1,"message":"Session ID unknown"}', 1, "Session ID unknown"),
        (403, b'{"code":4,"message":"Forbidden"}', 4, "Forbidden"),
        (400, b'"Invalid session abc"', None, "Invalid session abc"),
        (401, b'"Unauthorized"', None, "Unauthorized"),
        (405, b"Method Not Found", None, "Method Not Found"),
        (400, b"", None, None),
        (500, b"\xff\xfe{", None, "\ufffd\ufffd{"),
        (400, b'{"code":true,"message":7}', None, None),
        (413, b"[1,2]", None, None),
    ],
)
def test_http_errors(status: int, body: bytes, code: int | None, message: str | None) -> None:
    http = HttpInfo(method="GET", status=status)
    (record,) = decode(body, RESPONSE, revision=4, http=http)
    assert isinstance(record, EngineIOHttpError)
    assert (record.status, record.code, record.message) == (status, code, message)


@pytest.mark.parametrize(
    ("kind", "body", "http"),
    [
        (REQUEST, b"", HttpInfo(method="GET")),
        (RESPONSE, b"ok", HttpInfo(method="POST", status=200)),
        (RESPONSE, b"OK", HttpInfo(method="POST", status=200)),
        (REQUEST, b"whatever", HttpInfo(method="OPTIONS")),
        (RESPONSE, b"whatever", HttpInfo(method="OPTIONS", status=204)),
        (RESPONSE, b"", HttpInfo(method="GET", status=101)),
        (RESPONSE, b"x", HttpInfo(method="GET", status=101)),
    ],
)
def test_skipped_bodies(kind: ChunkKind, body: bytes, http: HttpInfo) -> None:
    assert decode(body, kind, revision=4, http=http) == []
