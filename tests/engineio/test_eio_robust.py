"""Untrusted input: any bytes as any chunk give records or error records, never an exception;
mutated payloads keep what the damage did not touch."""

from __future__ import annotations

from typing import Any

from eio_helpers import ALL_KINDS, chunk, packets, stream
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_engineio import wire
from ioproto_engineio.records import EngineIOHttpError, EngineIOPacket
from ioproto_http.records import ChunkKind, HttpInfo

from ioproto.components import Limits
from ioproto.model import ErrorRecord

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

http_infos = st.one_of(
    st.none(),
    st.builds(
        HttpInfo,
        method=st.sampled_from([None, "GET", "POST", "OPTIONS", "PUT"]),
        status=st.sampled_from([None, 101, 200, 204, 302, 400, 403, 500]),
        query=st.sampled_from([(), (("EIO", "3"),), (("j", "4"),), (("EIO", "4"), ("j", "x"))]),
        headers=st.sampled_from(
            [
                (),
                (("content-type", "application/octet-stream"),),
                (("content-type", "text/plain; charset=UTF-8"),),
                (("content-encoding", "gzip"),),
                (("content-encoding", "deflate"),),
            ]
        ),
    ),
)

# Bytes that look like Engine.IO more often than uniform noise would.
interesting = st.one_of(
    st.binary(max_size=80),
    st.lists(
        st.sampled_from(
            [
                b"4",
                b"0",
                b"b",
                b"\x1e",
                b":",
                b"1",
                b"9",
                b"\x00",
                b"\x01",
                b"\xff",
                b"\x04",
                b"{",
                b'"sid"',
                b"}",
                b"\xf0\x9f\x98\x80",
                b"\xe2\x82\xac",
                b"AQID",
                b"=",
                b"d=",
                b"___eio[",
                b'1]("',
                b'");',
                b"\\",
                b"\x1f\x8b",
                b"x\x9c",
                b"ok",
            ]
        ),
        max_size=20,
    ).map(b"".join),
)


def _check(records: list[Any]) -> None:
    for record in records:
        assert isinstance(record, EngineIOPacket | EngineIOHttpError | ErrorRecord)
        if isinstance(record, ErrorRecord):
            assert record.rule != "engineio.internal", record.reason
            assert len(record.raw) <= Limits().max_raw_kept


@SETTINGS
@given(
    interesting,
    st.sampled_from(ALL_KINDS),
    st.sampled_from([None, 2, 3, 4, 7]),
    http_infos,
    st.sampled_from([None, "conn-a"]),
)
def test_any_bytes_any_kind_never_raises(
    data: bytes, kind: ChunkKind, revision: int | None, http: HttpInfo | None, conn: str | None
) -> None:
    decoder = stream()
    records = list(decoder.feed(chunk(data, kind, revision=revision, http=http, connection=conn)))
    records += list(decoder.close())
    _check(records)


@SETTINGS
@given(st.lists(st.tuples(interesting, st.sampled_from(ALL_KINDS)), max_size=10))
def test_sequences_never_raise(items: list[tuple[bytes, ChunkKind]]) -> None:
    decoder = stream(limits=Limits(max_sessions=2, max_packets_per_payload=3, max_payload=40))
    for number, (data, kind) in enumerate(items):
        _check(list(decoder.feed(chunk(data, kind, connection=f"c{number % 3}"))))
    _check(list(decoder.close()))


text_v4 = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1e"), max_size=20
)
pieces_v4 = st.lists(
    st.one_of(
        st.builds(
            lambda t, d: {"type": t, "data": d}, st.sampled_from(wire.PACKET_TYPES[1:]), text_v4
        ),
        st.builds(lambda d: {"type": "message", "data": d}, st.binary(max_size=20)),
    ),
    min_size=2,
    max_size=8,
)


@SETTINGS
@given(pieces_v4, st.data())
def test_v4_damage_to_one_piece_leaves_the_others(items: list[dict[str, Any]], data: Any) -> None:
    built = [wire.packet_v4.build(item) for item in items]
    victim = data.draw(st.integers(0, len(built) - 1))
    junk = data.draw(st.binary(max_size=12).filter(lambda b: b"\x1e" not in b))
    damaged = list(built)
    damaged[victim] = junk
    decoder = stream()
    records = list(decoder.feed(chunk(b"\x1e".join(damaged), ChunkKind.HTTP_RESPONSE, revision=4)))
    _check(records)
    assert [r.index for r in records] == list(range(len(items)))
    for index, item in enumerate(items):
        if index != victim:
            record = records[index]
            assert isinstance(record, EngineIOPacket)
            assert (record.type, record.data) == (item["type"], item["data"])


@SETTINGS
@given(pieces_v4, st.data())
def test_v4_byte_mutations_never_raise(items: list[dict[str, Any]], data: Any) -> None:
    payload = bytearray(wire.payload_v4.build(items))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        position = data.draw(st.integers(0, max(len(payload) - 1, 0)))
        if action == "flip" and payload:
            payload[position] ^= data.draw(st.integers(1, 255))
        elif action == "insert":
            payload.insert(position, data.draw(st.integers(0, 255)))
        elif payload:
            del payload[position]
    records = list(stream().feed(chunk(bytes(payload), ChunkKind.LINE, revision=4)))
    _check(records)
    # Every piece is reported: as a packet or as an error.
    assert len(records) == bytes(payload).count(b"\x1e") + 1


ascii_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=15)


@SETTINGS
@given(
    st.lists(
        st.builds(
            lambda t, d: {"type": t, "data": d}, st.sampled_from(wire.PACKET_TYPES[1:]), ascii_text
        ),
        min_size=2,
        max_size=6,
    ),
    st.data(),
)
def test_v3_same_length_damage_keeps_the_other_packets(
    items: list[dict[str, Any]], data: Any
) -> None:
    payload = bytearray(wire.payload_v3_text.build(items))
    # Damage the type digit of one packet: framing stays intact, one error, others survive.
    starts = []
    position = 0
    for item in items:
        encoded = wire.packet_v3.build(item)
        header = b"%d:" % len(encoded)
        starts.append(position + len(header))
        position += len(header) + len(encoded)
    victim = data.draw(st.integers(0, len(items) - 1))
    payload[starts[victim]] = ord("x")
    records = list(stream().feed(chunk(bytes(payload), ChunkKind.HTTP_RESPONSE, revision=3)))
    _check(records)
    assert [isinstance(r, ErrorRecord) for r in records] == [i == victim for i in range(len(items))]
    survivors = [(item["type"], item["data"]) for i, item in enumerate(items) if i != victim]
    assert packets(records) == survivors


@SETTINGS
@given(
    st.lists(
        st.builds(
            lambda t, d: {"type": t, "data": d}, st.sampled_from(wire.PACKET_TYPES[1:]), ascii_text
        ),
        min_size=1,
        max_size=6,
    ),
    st.data(),
)
def test_v3_mutations_never_raise(items: list[dict[str, Any]], data: Any) -> None:
    payload = bytearray(wire.payload_v3_text.build(items))
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(payload) - 1)) if payload else 0
        if payload and data.draw(st.booleans()):
            payload[position] ^= data.draw(st.integers(1, 255))
        else:
            payload.insert(position, data.draw(st.sampled_from([ord(":"), ord("9"), 0xE2, 0x1E])))
    _check(list(stream().feed(chunk(bytes(payload), ChunkKind.HTTP_RESPONSE, revision=3))))


def test_v3_resync_after_bad_length() -> None:
    records = list(stream().feed(chunk(b"6:4hello99:4xx3:4ab2:41", ChunkKind.LINE, revision=3)))
    assert [(type(r).__name__, getattr(r, "data", None)) for r in records] == [
        ("EngineIOPacket", "hello"),
        ("ErrorRecord", None),
        ("EngineIOPacket", "ab"),
        ("EngineIOPacket", "1"),
    ]
    error = records[1]
    assert isinstance(error, ErrorRecord)
    assert error.rule == "engineio.payload.bad-length"
    assert error.offset == 8 and error.raw == b"99:4xx"


def test_v3_no_resync_point_gives_one_error_for_the_rest() -> None:
    records = list(stream().feed(chunk(b"2:4a7:4b", ChunkKind.LINE, revision=3)))
    assert [type(r).__name__ for r in records] == ["EngineIOPacket", "ErrorRecord"]
    assert records[1].raw == b"7:4b"


def test_v3_invalid_utf8_inside_one_packet() -> None:
    records = list(stream().feed(chunk(b"2:4\xff2:4a", ChunkKind.HTTP_RESPONSE, revision=3)))
    assert [r.rule if isinstance(r, ErrorRecord) else r.data for r in records] == [
        "engineio.packet.bad-utf8",
        "a",
    ]


def test_v4_invalid_utf8_in_one_piece() -> None:
    records = list(stream().feed(chunk(b"4\xff\x1e4ok", ChunkKind.HTTP_RESPONSE, revision=4)))
    assert [r.rule if isinstance(r, ErrorRecord) else r.data for r in records] == [
        "engineio.packet.bad-utf8",
        "ok",
    ]


def test_bad_base64() -> None:
    records = list(stream().feed(chunk(b"b!!!!", ChunkKind.WS_TEXT)))
    assert [r.rule for r in records] == ["engineio.base64.invalid"]
    records = list(stream().feed(chunk(b"bAQIDBA", ChunkKind.WS_TEXT)))  # padding optional
    assert records[0].data == b"\x01\x02\x03\x04"
    records = list(stream().feed(chunk(b"bx", ChunkKind.WS_TEXT, revision=3)))
    assert [r.rule for r in records] == ["engineio.base64.bad-type"]


def test_xhr2_errors() -> None:
    octet = HttpInfo(status=200, headers=(("content-type", "application/octet-stream"),))
    cases = {
        b"\x00\x09": "engineio.xhr2.bad-length",
        b"\x00\xff4": "engineio.xhr2.bad-length",
        b"\x00\x0a\xff": "engineio.xhr2.bad-length",
        b"\x00\x05\xff4a": "engineio.xhr2.bad-length",
        b"\x00\x00\xff": "engineio.packet.empty",
        b"\x01\x00\xff": "engineio.binary.empty",
        b"\x01\x02\xff\x06\x01": "engineio.binary.bad-type",
        b"\x00\x02\xff4a\x02": "engineio.xhr2.bad-kind",
    }
    for body, rule in cases.items():
        records = list(stream().feed(chunk(body, ChunkKind.HTTP_RESPONSE, revision=3, http=octet)))
        assert rule in [getattr(r, "rule", None) for r in records], (body, records)


def test_a_damaged_first_packet_that_looks_like_jsonp_leaves_the_others() -> None:
    """The request did not ask for JSONP (no ``j=``): a body that only starts like the
    wrapper is a payload whose first packet is damaged (found by hypothesis above)."""
    records = list(
        stream().feed(chunk(b"___eio[\x1eb\x1e4hi", ChunkKind.HTTP_RESPONSE, revision=4))
    )
    _check(records)
    assert [r.index for r in records] == [0, 1, 2]
    assert isinstance(records[0], ErrorRecord)
    assert [(r.type, r.data) for r in records[1:]] == [("message", b""), ("message", "hi")]
