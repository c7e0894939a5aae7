"""The test vectors of protocols.md §3.6, §3.7, §3.8 and python-socketio's cases (§3.10)."""

from __future__ import annotations

import pytest
from ioproto_socketio.records import AckRequest, SocketIOPacket
from siohelp import decode, errors, one, packets, rules

from ioproto.components import Limits
from ioproto.model import ErrorRecord

PH0 = {"_placeholder": True, "num": 0}
PH1 = {"_placeholder": True, "num": 1}


def packet(message: str, **kwargs: object) -> SocketIOPacket:
    record = one(message, **kwargs)  # type: ignore[arg-type]
    assert isinstance(record, SocketIOPacket), record
    assert not record.notes, record.notes
    return record


# -- §3.6 server behaviour (EIO4/SIO5), the client's and server's packets -----------------------


@pytest.mark.parametrize(
    ("message", "nsp", "data"),
    [
        ("0", "/", None),
        ('0{"token":"123"}', "/", {"token": "123"}),
        ("0/custom,", "/custom", None),
        ('0/custom,{"token":"abc"}', "/custom", {"token": "abc"}),
        ('0{"sid":"wZX3oN0bSVIhsaknAAAI"}', "/", {"sid": "wZX3oN0bSVIhsaknAAAI"}),
        ('0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}', "/admin", {"sid": "oSO0OpakMV_3jnilAAAA"}),
    ],
)
def test_connect_v5(message: str, nsp: str, data: object) -> None:
    record = packet(message)
    assert (record.type, record.wire_type, record.nsp, record.data, record.revision) == (
        "CONNECT",
        0,
        nsp,
        data,
        5,
    )
    assert record.id is None and record.args == [] and record.event is None
    assert record.raw == message.encode()


def test_connect_without_comma_is_lenient() -> None:
    record = one("0/random")
    assert isinstance(record, SocketIOPacket)
    assert (record.type, record.nsp, record.notes) == (
        "CONNECT",
        "/random",
        ("lenient:missing-comma",),
    )
    strict = one("0/random", strict=True)
    assert isinstance(strict, ErrorRecord) and strict.rule == "socketio.strict.missing-comma"


def test_connect_error_invalid_namespace() -> None:
    record = packet('4/random,{"message":"Invalid namespace"}')
    assert (record.type, record.nsp, record.data) == (
        "CONNECT_ERROR",
        "/random",
        {"message": "Invalid namespace"},
    )


def test_disconnect() -> None:
    assert (packet("1").type, packet("1").nsp) == ("DISCONNECT", "/")
    assert packet("1/custom,").nsp == "/custom"
    # without the comma (the test suite's `41/custom`)
    record = one("1/custom")
    assert isinstance(record, SocketIOPacket) and record.nsp == "/custom"


def test_events_of_the_test_suite() -> None:
    record = packet('2["message",1,"2",{"3":[true]}]')
    assert (record.type, record.event, record.args, record.id) == (
        "EVENT",
        "message",
        [1, "2", {"3": [True]}],
        None,
    )
    record = packet('2["message-back","message to main namespace"]')
    assert record.args == ["message to main namespace"]
    record = packet('2456["message-with-ack",1,"2",{"3":[false]}]')
    assert (record.id, record.event, record.args) == (
        456,
        "message-with-ack",
        [1, "2", {"3": [False]}],
    )
    record = packet('3456[1,"2",{"3":[false]}]')
    assert (record.type, record.id, record.args, record.event) == (
        "ACK",
        456,
        [1, "2", {"3": [False]}],
        None,
    )


def test_binary_event_and_binary_ack_of_the_test_suite() -> None:
    header = '52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    records = decode([header, b"\x01\x02\x03", b"\x04\x05\x06"])
    (record,) = records
    assert isinstance(record, SocketIOPacket)
    assert (record.type, record.wire_type, record.attachments) == ("EVENT", 5, 2)
    assert record.data == ["message", b"\x01\x02\x03", b"\x04\x05\x06"]
    assert (record.event, record.args) == ("message", [b"\x01\x02\x03", b"\x04\x05\x06"])
    assert record.raw == header.encode()
    assert [part.data for part in record.attachment_records] == [b"\x01\x02\x03", b"\x04\x05\x06"]
    assert record.parent is not None and record.parent.data == header

    event = '52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    ack = '62-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    records = decode([event, b"\x01", b"\x02", (ack, "s2c"), (b"\x03", "s2c"), (b"\x04", "s2c")])
    first, second = packets(records)
    assert (second.type, second.wire_type, second.id, second.args) == (
        "ACK",
        6,
        789,
        [b"\x03", b"\x04"],
    )
    assert second.answers == AckRequest.of(first)
    assert not errors(records)


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("abc", "socketio.type.unknown"),
        ("{}", "socketio.type.unknown"),
        ("2{}", "socketio.payload.invalid"),
        ('2abc["message-with-ack",1,"2",{"3":[false]}]', "socketio.payload.bad-json"),
    ],
)
def test_server_closes_on(message: str, rule: str) -> None:
    record = one(message)
    assert isinstance(record, ErrorRecord) and record.rule == rule
    assert record.layer == "socketio" and record.raw == message.encode()


# -- §3.7 socket.io-parser v5 ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ('0/woot,{"token":"123"}', ("CONNECT", "/woot", None, {"token": "123"})),
        ("1/woot,", ("DISCONNECT", "/woot", None, None)),
        ('2["a",1,{}]', ("EVENT", "/", None, ["a", 1, {}])),
        ('2[1,"a",{}]', ("EVENT", "/", None, [1, "a", {}])),
        ('2/test,1["a",1,{}]', ("EVENT", "/test", 1, ["a", 1, {}])),
        ('3123["a",1,{}]', ("ACK", "/", 123, ["a", 1, {}])),
        ('4"Unauthorized"', ("CONNECT_ERROR", "/", None, "Unauthorized")),
        ('4{"message":"Unauthorized"}', ("CONNECT_ERROR", "/", None, {"message": "Unauthorized"})),
    ],
)
def test_parser_v5_round_trip_vectors(message: str, expected: tuple[object, ...]) -> None:
    record = packet(message)
    assert (record.type, record.nsp, record.id, record.data) == expected


def test_numeric_event_name() -> None:
    record = packet('2[1,"a",{}]')
    assert (record.event, record.args) == (1, ["a", {}])


ABC = b"abc"


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (
            ['51-/cool,23["a",{"_placeholder":true,"num":0}]', ABC],
            ("EVENT", 5, "/cool", 23, ["a", ABC]),
        ),
        (
            ['51-/cool,23["a",{"b":["c",{"_placeholder":true,"num":0}]}]', ABC],
            ("EVENT", 5, "/cool", 23, ["a", {"b": ["c", ABC]}]),
        ),
        (
            ['61-/back,127["a",{"_placeholder":true,"num":0},{}]', b"xxx"],
            ("ACK", 6, "/back", 127, ["a", b"xxx", {}]),
        ),
        (
            ['51-0["a",{"_placeholder":true,"num":0}]', b"\x00\x00"],
            ("EVENT", 5, "/", 0, ["a", b"\x00\x00"]),
        ),
        (
            [
                '52-/deep,999["a",{"a":"hi","b":{"why":{"_placeholder":true,"num":0}},'
                '"c":{"a":"bye","b":{"a":{"_placeholder":true,"num":1}}}}]',
                b"abc",
                b"abcdef",
            ],
            (
                "EVENT",
                5,
                "/deep",
                999,
                ["a", {"a": "hi", "b": {"why": b"abc"}, "c": {"a": "bye", "b": {"a": b"abcdef"}}}],
            ),
        ),
        (
            [
                '51-600["a",{"a":"b","c":4,"e":{"g":null},"h":{"_placeholder":true,"num":0}}]',
                bytes(9),
            ],
            ("EVENT", 5, "/", 600, ["a", {"a": "b", "c": 4, "e": {"g": None}, "h": bytes(9)}]),
        ),
    ],
)
@pytest.mark.parametrize("revision", [4, 3])
def test_binary_round_trip_vectors(
    parts: list[str | bytes], expected: tuple[object, ...], revision: int
) -> None:
    records = decode(parts, revision=revision)
    (record,) = packets(records)
    assert not errors(records)
    assert (record.type, record.wire_type, record.nsp, record.id, record.data) == expected
    assert record.attachments == len(parts) - 1
    assert record.revision == (5 if revision == 4 else 4)


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("5", "socketio.attachments.illegal"),
        ("51", "socketio.attachments.illegal"),
        ("5a-", "socketio.attachments.illegal"),
        ("51.23-", "socketio.attachments.illegal"),
        ("50-", "socketio.attachments.illegal"),
        ("6", "socketio.attachments.illegal"),
        ('442["some","data"', "socketio.payload.bad-json"),
        ('0/admin,"invalid"', "socketio.payload.invalid"),
        ("0[]", "socketio.payload.invalid"),
        ("1/admin,{}", "socketio.payload.invalid"),
        ('2/admin,"invalid', "socketio.payload.bad-json"),
        ("2/admin,{}", "socketio.payload.invalid"),
        ('2[{"toString":"foo"}]', "socketio.payload.invalid"),
        ('2[true,"foo"]', "socketio.payload.invalid"),
        ('2[null,"bar"]', "socketio.payload.invalid"),
        ("2[]", "socketio.payload.invalid"),
        ('2["connect"]', "socketio.event.reserved-name"),
        ('2["disconnect","123"]', "socketio.event.reserved-name"),
        ('51-["connect_error",{"_placeholder":true,"num":0}]', "socketio.event.reserved-name"),
        ("999", "socketio.type.unknown"),
        ("7", "socketio.type.unknown"),
        ("3{}", "socketio.payload.invalid"),
        ("4[]", "socketio.payload.invalid"),
        ("4null", "socketio.payload.invalid"),
        ("2[NaN]", "socketio.payload.bad-json"),
        ('2["a",Infinity]', "socketio.payload.bad-json"),
        ('2["a",-Infinity]', "socketio.payload.bad-json"),
        ('2["a"] x', "socketio.payload.bad-json"),
        ("2['a']", "socketio.payload.bad-json"),
    ],
)
def test_parser_v5_rejects(message: str, rule: str) -> None:
    record = one(message)
    assert isinstance(record, ErrorRecord), record
    assert (record.layer, record.rule) == ("socketio", rule)
    assert record.raw == message.encode()
    assert record.parent is not None and record.parent.layer == "engineio"


@pytest.mark.parametrize(
    "reserved",
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"],
)
def test_reserved_names_v5_only(reserved: str) -> None:
    message = f'2["{reserved}",1]'
    assert rules(decode([message])) == ["socketio.event.reserved-name"]
    record = one(message, revision=3)
    assert isinstance(record, SocketIOPacket) and record.event == reserved and record.revision == 4


def test_too_many_attachments() -> None:
    message = (
        '53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},'
        '{"_placeholder":true,"num":2}]'
    )
    records = decode([message, b"a", b"b", b"c"], limits=Limits(max_attachments=2))
    assert rules(records) == ["socketio.attachments.too-many"] + ["socketio.binary.unexpected"] * 3
    records = decode(['511-["a"]'])
    assert rules(records) == ["socketio.attachments.too-many"]
    # JS default limit is 10 as well
    assert rules(decode(['511-["a"]'])) == ["socketio.attachments.too-many"]


def test_placeholder_num_not_a_number() -> None:
    records = decode(['51-["hello",{"_placeholder":true,"num":"splice"}]', b"world"])
    assert rules(records) == ["socketio.placeholder.invalid"]
    (error,) = errors(records)
    assert error.raw == b'51-["hello",{"_placeholder":true,"num":"splice"}]'


@pytest.mark.parametrize("num", ["1", "-1", "0.5", "true", "null", "1e400"])
def test_placeholder_num_out_of_range(num: str) -> None:
    records = decode(['51-["hello",{"_placeholder":true,"num":' + num + "}]", b"world"])
    assert rules(records) == ["socketio.placeholder.invalid"]
    assert not packets(records)


def test_placeholder_num_as_integral_float() -> None:
    records = decode(['51-["hello",{"_placeholder":true,"num":0.0}]', b"world"])
    assert packets(records)[0].args == [b"world"]


def test_binary_without_header() -> None:
    records = decode([b"world"])
    assert rules(records) == ["socketio.binary.unexpected"]
    assert errors(records)[0].raw == b"world"


def test_text_while_reconstructing() -> None:
    records = decode(['51-["hello",{"_placeholder":true,"num":0}]', '2["hello"]'])
    assert rules(records) == ["socketio.binary.interrupted"]
    (error,) = errors(records)
    assert error.raw == b'51-["hello",{"_placeholder":true,"num":0}]'
    (record,) = packets(records)
    assert (record.event, record.args) == ("hello", [])
    # the interrupted packet's binary does not get attached to anything later
    records = decode(['51-["hello",{"_placeholder":true,"num":0}]', '2["hello"]', b"late"])
    assert rules(records) == ["socketio.binary.interrupted", "socketio.binary.unexpected"]


def test_reconstruction_is_per_direction() -> None:
    records = decode(
        [
            '51-["up",{"_placeholder":true,"num":0}]',
            ('2["down"]', "s2c"),
            ('51-["down-bin",{"_placeholder":true,"num":0}]', "s2c"),
            b"UP",
            (b"DOWN", "s2c"),
        ]
    )
    assert not errors(records)
    assert [(record.event, record.args) for record in packets(records)] == [
        ("down", []),
        ("up", [b"UP"]),
        ("down-bin", [b"DOWN"]),
    ]


def test_reconstruction_is_per_session() -> None:
    from siohelp import eio, stream

    decoder = stream()
    out = []
    out += decoder.feed(eio('51-["a",{"_placeholder":true,"num":0}]', sid="A"))
    out += decoder.feed(eio('51-["b",{"_placeholder":true,"num":0}]', sid="B"))
    out += decoder.feed(eio(b"for B", sid="B"))
    out += decoder.feed(eio(b"for A", sid="A"))
    assert [(r.sid, r.args) for r in packets(out)] == [("B", [b"for B"]), ("A", [b"for A"])]
    # without sid the connection is the key
    out = list(
        decoder.feed(eio('51-["c",{"_placeholder":true,"num":0}]', sid=None, connection="x"))
    )
    out += decoder.feed(eio(b"C", sid=None, connection="x"))
    assert packets(out)[0].args == [b"C"]


# -- leniencies of the reference parser ----------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected", "note"),
    [
        ("2", ("EVENT", None, None), "lenient:missing-payload"),
        ("3", ("ACK", None, None), "lenient:missing-payload"),
        ("2123", ("EVENT", 123, None), "lenient:missing-payload"),
        ("", ("CONNECT", None, None), "lenient:empty-packet"),
        ('2/admin["a"]', None, None),
    ],
)
def test_leniencies(message: str, expected: tuple[object, ...] | None, note: str | None) -> None:
    records = decode([message])
    if expected is None:
        # "/admin[..." runs to the end of the string: namespace without comma, no payload
        (record,) = packets(records)
        assert record.nsp == '/admin["a"]'
        assert set(record.notes) == {"lenient:missing-comma", "lenient:missing-payload"}
        return
    (record,) = packets(records)
    assert (record.type, record.id, record.data) == expected
    assert record.notes == (note,)
    strict = decode([message], strict=True)
    assert rules(strict) == ["socketio.strict." + note.split(":")[1]]  # type: ignore[union-attr]


def test_binary_header_without_payload_is_lenient() -> None:
    records = decode(["51-", b"data"])
    (record,) = packets(records)
    assert (record.type, record.data, record.attachments, record.notes) == (
        "EVENT",
        None,
        1,
        ("lenient:missing-payload",),
    )
    assert len(record.attachment_records) == 1


def test_ack_id_zero_and_t12() -> None:
    record = packet('20["x"]')
    assert (record.id, record.data) == (0, ["x"])
    record = packet('2/nsp,12["x"]')
    assert (record.nsp, record.id) == ("/nsp", 12)
    error = one("442[...")
    assert isinstance(error, ErrorRecord) and error.rule == "socketio.payload.bad-json"


def test_json_dialect() -> None:
    big = "1" * 100
    record = packet(f'2["a",{big}]')
    assert record.args == [int(big)]
    assert rules(decode([f'2["a",{big}1]'])) == ["socketio.payload.bad-json"]
    assert rules(decode([f'2["a",-{big}1]'])) == ["socketio.payload.bad-json"]
    # a long digit run inside a string is fine
    assert packet(f'2["a","{big}1"]').args == [big + "1"]
    # white space around the JSON, duplicate keys (last wins), lone surrogates
    assert packet('2 ["a"] ').event == "a"
    assert packet('2["a",{"k":1,"k":2}]').args == [{"k": 2}]
    assert packet('2["a","\\ud800"]').args == ["\ud800"]
    assert packet('2["a",1e400]').args == [float("inf")]


def test_json_depth_limit() -> None:
    deep = "[" * 300 + "]" * 300  # refused by the old 256 cap; Node reads it (item 12)
    assert packet(f'2["a",{deep}]').event == "a"
    too_deep = "[" * 10_001 + "]" * 10_001
    assert rules(decode([f'2["a",{too_deep}]'])) == ["socketio.payload.too-deep"]
    ok = "[" * 20 + "]" * 20
    assert packet(f'2["a",{ok}]').event == "a"
    limited = decode([f'2["a",{ok}]'], limits=Limits(max_json_depth=10))
    assert rules(limited) == ["socketio.payload.too-deep"]
    # brackets inside strings do not count
    text = '"' + "[" * 300 + '"'
    assert packet(f'2["a",{text}]').args == ["[" * 300]
    huge = "[" * 100_000 + "]" * 100_000
    assert rules(decode([f'2["a",{huge}]'])) == ["socketio.payload.too-deep"]


# -- §3.8 socket.io-parser v4 (EIO3 → Socket.IO protocol 4) -------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("0/woot,", ("CONNECT", "/woot", None, None)),
        ("1/woot,", ("DISCONNECT", "/woot", None, None)),
        ('2["a",1,{}]', ("EVENT", "/", None, ["a", 1, {}])),
        ('2/test,1["a",1,{}]', ("EVENT", "/test", 1, ["a", 1, {}])),
        ('3123["a",1,{}]', ("ACK", "/", 123, ["a", 1, {}])),
        ('4"Unauthorized"', ("ERROR", "/", None, "Unauthorized")),
        ('4"encode error"', ("ERROR", "/", None, "encode error")),
        ('4/admin,"Not authorized"', ("ERROR", "/admin", None, "Not authorized")),
        ('4{"message":"x"}', ("ERROR", "/", None, {"message": "x"})),
        ("0", ("CONNECT", "/", None, None)),
        # v4 only checks typeof "object"
        ("0[]", ("CONNECT", "/", None, [])),
        ("0null", ("CONNECT", "/", None, None)),
        ('2["connect"]', ("EVENT", "/", None, ["connect"])),
    ],
)
def test_parser_v4_vectors(message: str, expected: tuple[object, ...]) -> None:
    record = packet(message, revision=3)
    assert (record.type, record.nsp, record.id, record.data) == expected
    assert record.revision == 4


def test_v4_connect_query() -> None:
    record = packet("0/admin?token=1234&uid=abcd,", revision=3)
    assert (record.type, record.nsp, record.query) == ("CONNECT", "/admin", "token=1234&uid=abcd")
    # in protocol 5 (or outside CONNECT) a query is split off too, but flagged
    record5 = one("0/admin?token=1,")
    assert isinstance(record5, SocketIOPacket)
    assert (record5.nsp, record5.query, record5.notes) == (
        "/admin",
        "token=1",
        ("lenient:namespace-query",),
    )


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ('442["some","data"', "socketio.payload.bad-json"),
        ('0/admin,"invalid"', "socketio.payload.invalid"),
        ("1/admin,{}", "socketio.payload.invalid"),
        ('2/admin,"invalid', "socketio.payload.bad-json"),
        ("2/admin,{}", "socketio.payload.invalid"),
        ('2[{"toString":"foo"}]', "socketio.payload.invalid"),
        ('2[true,"foo"]', "socketio.payload.invalid"),
        ('2[null,"bar"]', "socketio.payload.invalid"),
        ("5", "socketio.attachments.illegal"),
        ("4 1", "socketio.payload.invalid"),
    ],
)
def test_parser_v4_rejects(message: str, rule: str) -> None:
    assert rules(decode([message], revision=3)) == [rule]


def test_v4_attachment_error_vectors() -> None:
    for revision in (3, 4):
        assert rules(
            decode(
                ['51-["hello",{"_placeholder":true,"num":"splice"}]', b"world"], revision=revision
            )
        ) == ["socketio.placeholder.invalid"]
        assert rules(
            decode(['51-["hello",{"_placeholder":true,"num":1}]', b"world"], revision=revision)
        ) == ["socketio.placeholder.invalid"]
        assert rules(decode([b"world"], revision=revision)) == ["socketio.binary.unexpected"]
        assert rules(
            decode(['51-["hello",{"_placeholder":true,"num":0}]', '2["hello"]'], revision=revision)
        ) == ["socketio.binary.interrupted"]


# -- §3.10 python-socketio's cases ---------------------------------------------------------------


def test_python_socketio_cases() -> None:
    assert packet('2["foo"]').data == ["foo"]
    assert packet('3["foo"]').type == "ACK"
    assert packet("1").type == "DISCONNECT"
    assert packet('2/bar,["foo"]').nsp == "/bar"
    record = one('2/bar?a=b,["foo"]')
    assert isinstance(record, SocketIOPacket)
    assert (record.nsp, record.query, record.data) == ("/bar", "a=b", ["foo"])
    record = one("2/bar,")
    assert isinstance(record, SocketIOPacket) and (record.nsp, record.data) == ("/bar", None)
    assert packet('2/b-a-r,["foo"]').nsp == "/b-a-r"
    record = packet('2["f-o-o"]')
    assert (record.attachments, record.event) == (0, "f-o-o")
    assert packet('2123["foo"]').id == 123
    hundred = "1" * 100
    assert packet("2" + hundred + '["foo"]').id == int(hundred)
    assert rules(decode(["2" + hundred + "1"])) == ["socketio.id.too-long"]
    assert rules(decode(["2" + hundred + '1["foo"]'])) == ["socketio.id.too-long"]
    record = one("2123")
    assert isinstance(record, SocketIOPacket) and (record.id, record.data) == (123, None)
    assert packet('2/bar,123["foo"]').id == 123


def test_python_socketio_lenient_binary_cases_follow_js() -> None:
    """python-socketio accepts non-array payloads for 5/6; the JS parser (and ioproto) do not."""
    assert rules(decode(['51-{"_placeholder":true,"num":0}', b"1234"])) == [
        "socketio.payload.invalid",
        "socketio.binary.unexpected",
    ]
    assert (
        rules(decode(['61-{"_placeholder":true,"num":0}', b"1234"]))[0]
        == "socketio.payload.invalid"
    )
    message = (
        '52-{"a":"123","b":{"_placeholder":true,"num":0},"c":[{"_placeholder":true,"num":1},123]}'
    )
    assert rules(decode([message, b"456", b"789"]))[0] == "socketio.payload.invalid"
    # the python rejects: too many attachments, a count with 11 digits
    assert rules(decode(["6" + "1" * 11 + '-{"a":"123"}'])) == ["socketio.attachments.too-many"]
    # 6 with no count: python reads no attachments, JS says "Illegal attachments"
    assert rules(decode(['6{"a":"0123456789-"}'])) == ["socketio.attachments.illegal"]


def test_python_socketio_array_binary_cases() -> None:
    """The same cases as arrays (what python-socketio actually sends)."""
    # an EVENT must start with a name; an ACK payload may start with binary
    assert rules(decode(['51-[{"_placeholder":true,"num":0}]', b"1234"]))[0] == (
        "socketio.payload.invalid"
    )
    (ack,) = packets(decode(['61-[{"_placeholder":true,"num":0}]', b"1234"]))
    assert (ack.type, ack.args) == ("ACK", [b"1234"])
    message = (
        '52-["e",{"a":"123","b":{"_placeholder":true,"num":0},'
        '"c":[{"_placeholder":true,"num":1},123]}]'
    )
    records = decode([message, b"456", b"789"])
    (record,) = packets(records)
    assert record.args == [{"a": "123", "b": b"456", "c": [b"789", 123]}]
    records = decode([message, b"456", b"789", b"extra"])
    assert rules(records) == ["socketio.binary.unexpected"]


def test_json_that_would_take_too_much_memory_is_refused() -> None:
    """Issue 11, item 12: bound memory, not depth. ``[[],[],...]`` takes ~35x its text."""
    wide = "[" + ",".join(["[]"] * 20_000) + "]"
    limits = Limits(max_json_bytes=1_000_000)
    assert rules(decode([f'2["a",{wide}]'], limits=limits)) == ["socketio.payload.too-large"]
    # brackets and commas inside strings are text, not structure
    text = '"' + "[]," * 20_000 + '"'
    assert packet(f'2["a",{text}]', limits=limits).args == ["[]," * 20_000]
