"""The construct declarations round-trip, and the decoder's fast paths agree with them."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from construct import ConstructError
from eio_helpers import decode, packets, rules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_engineio import wire
from ioproto_engineio.decoder import _make_packet
from ioproto_engineio.records import EngineIOHandshake, EngineIOPacket
from ioproto_http.records import Chunk, ChunkKind, HttpInfo

from ioproto.fastrecords import positional_maker

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Lone surrogates are legal in JavaScript strings but cannot be UTF-8 encoded on the wire;
# everything else may appear.
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
text_v4 = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x1e"),
    max_size=40,
)
kinds = st.sampled_from(wire.PACKET_TYPES)
non_open = st.sampled_from(wire.PACKET_TYPES[1:])


def text_packets(data: st.SearchStrategy[str], types: st.SearchStrategy[str] = kinds) -> Any:
    return st.builds(lambda t, d: {"type": t, "data": d}, types, data)


binary_packets = st.builds(lambda d: {"type": "message", "data": d}, st.binary(max_size=40))
packet_v4 = st.one_of(text_packets(text_v4), binary_packets)
packet_v3 = st.one_of(text_packets(text), binary_packets)
# What the decoder turns into plain packets (an open packet is a handshake, checked apart).
decodable_v4 = st.one_of(text_packets(text_v4, non_open), binary_packets)
decodable_v3 = st.one_of(text_packets(text, non_open), binary_packets)


def plain(value: Any) -> Any:
    """Containers → dicts without construct's private keys, for comparisons."""
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if not k.startswith("_")}
    return value


def as_pairs(items: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(item["type"], item["data"]) for item in items]


# -- round trips -------------------------------------------------------------------------------


@SETTINGS
@given(packet_v4)
def test_packet_v4_round_trip(packet: dict[str, Any]) -> None:
    built = wire.packet_v4.build(packet)
    assert plain(wire.packet_v4.parse(built)) == packet
    assert built.startswith(b"b") == isinstance(packet["data"], bytes)


@SETTINGS
@given(st.one_of(packet_v3, st.builds(lambda t, d: {"type": t, "data": d}, kinds, st.binary())))
def test_packet_v3_round_trip(packet: dict[str, Any]) -> None:
    assert plain(wire.packet_v3.parse(wire.packet_v3.build(packet))) == packet


@SETTINGS
@given(st.binary(max_size=40), kinds)
def test_binary_messages_round_trip(data: bytes, kind: str) -> None:
    assert wire.binary_message_v4.build({"data": data}) == data
    assert plain(wire.binary_message_v4.parse(data)) == {"type": "message", "data": data}
    built = wire.binary_message_v3.build({"type": kind, "data": data})
    assert built[0] == wire.PACKET_TYPES.index(kind)
    assert plain(wire.binary_message_v3.parse(built)) == {"type": kind, "data": data}


@SETTINGS
@given(st.lists(packet_v4, min_size=1, max_size=8))
def test_payload_v4_round_trip(items: list[dict[str, Any]]) -> None:
    built = wire.payload_v4.build(items)
    assert plain(wire.payload_v4.parse(built)) == items


@SETTINGS
@given(st.lists(packet_v3, max_size=8))
def test_payload_v3_text_round_trip(items: list[dict[str, Any]]) -> None:
    built = wire.payload_v3_text.build(items)
    assert plain(wire.payload_v3_text.parse(built)) == items


@SETTINGS
@given(st.lists(st.one_of(text_packets(text), binary_packets), max_size=8))
def test_payload_v3_binary_round_trip(items: list[dict[str, Any]]) -> None:
    built = wire.payload_v3_binary.build(wire.xhr2_records(items))
    parsed = plain(wire.payload_v3_binary.parse(built))
    assert [record["packet"] for record in parsed] == items


@SETTINGS
@given(st.integers(0, 10**6), text)
def test_jsonp_response_round_trip(index: int, payload: str) -> None:
    built = wire.jsonp_response.build({"index": index, "payload": payload})
    assert plain(wire.jsonp_response.parse(built)) == {"index": index, "payload": payload}
    assert "\u2028" not in built.decode()


@SETTINGS
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\\")))
def test_jsonp_post_round_trip(payload: str) -> None:
    assert wire.jsonp_post.parse(wire.jsonp_post.build(payload)) == payload


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"d=4%3A4a%5Cnb", "4:4a\nb"),  # a newline travels as \n
        (b"d=4%3A4a%5C%5Cnb", "4:4a\\nb"),  # a literal \n travels as \\n
        (b"d=4a+b", "4a b"),
        (b"x=1&d=4abc", "4abc"),
    ],
)
def test_jsonp_post_newline_escapes(body: bytes, expected: str) -> None:
    assert wire.jsonp_post.parse(body) == expected


def test_utf16_helpers() -> None:
    assert wire.utf16_length("4😀€") == 4
    assert wire.utf16_end("4😀x", 0, 3) == 2
    assert wire.utf16_end("4😀x", 0, 2) == -1  # would split the surrogate pair
    assert wire.utf16_end("ab", 0, 3) == -1


@pytest.mark.parametrize(
    "bad",
    [b"", b"\x1e", b"4a\x1e", b"9", b"b!!!", b"4\xff"],
)
def test_payload_v4_rejects(bad: bytes) -> None:
    with pytest.raises(ConstructError):
        wire.payload_v4.parse(bad)


def test_select_pitfall_avoided() -> None:
    # Select would build text packets as base64; the dispatch builds by data type.
    assert wire.packet_v4.build({"type": "ping", "data": "probe"}) == b"2probe"
    assert wire.packet_v4.build({"type": "message", "data": b"\x01"}) == b"bAQ=="


# -- the decoder agrees with the declarations ----------------------------------------------------


@SETTINGS
@given(decodable_v4)
def test_fast_single_packet_matches_construct(packet: dict[str, Any]) -> None:
    built = wire.packet_v4.build(packet)
    records = decode(built, ChunkKind.WS_TEXT, revision=4)
    assert packets(records) == [(packet["type"], packet["data"])]
    assert records[0].raw == built


@SETTINGS
@given(st.lists(decodable_v4, min_size=1, max_size=8))
def test_fast_payload_v4_matches_construct(items: list[dict[str, Any]]) -> None:
    built = wire.payload_v4.build(items)
    records = decode(built, ChunkKind.HTTP_RESPONSE, revision=4)
    assert packets(records) == as_pairs(plain(wire.payload_v4.parse(built)))
    assert [r.index for r in records] == list(range(len(items)))
    assert b"\x1e".join(r.raw for r in records) == built


@SETTINGS
@given(st.lists(decodable_v3, max_size=8))
def test_fast_payload_v3_text_matches_construct(items: list[dict[str, Any]]) -> None:
    built = wire.payload_v3_text.build(items)
    records = decode(built, ChunkKind.HTTP_RESPONSE, revision=3)
    assert packets(records) == as_pairs(plain(wire.payload_v3_text.parse(built)))
    assert not rules(records)


@SETTINGS
@given(st.lists(decodable_v3, min_size=1, max_size=8))
def test_fast_payload_v3_binary_matches_construct(items: list[dict[str, Any]]) -> None:
    built = wire.payload_v3_binary.build(wire.xhr2_records(items))
    records = decode(built, ChunkKind.HTTP_RESPONSE, revision=3)
    parsed = plain(wire.payload_v3_binary.parse(built))
    assert packets(records) == as_pairs([record["packet"] for record in parsed])


def _expected_from_construct(parsed: list[dict[str, Any]]) -> list[tuple[str, Any]] | None:
    """What the decoder must give for a payload construct accepts (None: not comparable)."""
    if any(item["type"] == "open" for item in parsed):
        return None  # open packets are handshakes, with stricter rules
    if any(isinstance(item["data"], bytes) and item["type"] != "message" for item in parsed):
        return None  # binary non-message packets are errors in the decoder
    return as_pairs(parsed)


@SETTINGS
@given(st.binary(max_size=60), st.sampled_from([3, 4]))
def test_arbitrary_payloads_agree_with_construct(data: bytes, revision: int) -> None:
    declaration = wire.payload_v4 if revision == 4 else wire.payload_v3_text
    records = decode(data, ChunkKind.LINE, revision=revision)
    if revision == 3 and not wire.Utf16Framed._LENGTH.match(data.decode("latin-1")):
        return  # a v3 line that is not a payload is read as one packet
    try:
        parsed = plain(declaration.parse(data))
    except ConstructError:
        assert rules(records), "construct rejects it, so the decoder must report an error"
        return
    expected = _expected_from_construct(parsed)
    if expected is not None:
        assert packets(records) == expected
        assert not rules(records)


@SETTINGS
@given(st.binary(max_size=60))
def test_arbitrary_xhr2_agrees_with_construct(data: bytes) -> None:
    http = HttpInfo(status=200, headers=(("content-type", "application/octet-stream"),))
    records = decode(data, ChunkKind.HTTP_RESPONSE, revision=3, http=http)
    if data in (b"", b"ok", b"OK"):  # no body, or a POST acknowledgement: skipped
        assert records == []
        return
    try:
        parsed = plain(wire.payload_v3_binary.parse(data))
    except ConstructError:
        assert rules(records)
        return
    items = [record["packet"] for record in parsed]
    kinds_ok = all(
        (record["kind"] == "string") != isinstance(record["packet"]["data"], bytes)
        for record in parsed
    )
    expected = _expected_from_construct(items)
    if expected is not None and kinds_ok:
        assert packets(records) == expected
        assert not rules(records)


# -- ioproto.fastrecords builds exactly what attrs' __init__ builds --------------------------


@SETTINGS
@given(
    st.floats(allow_nan=False),
    st.one_of(st.none(), text),
    st.sampled_from([None, "c2s", "s2c"]),
    st.one_of(st.none(), text),
    kinds,
    st.one_of(text, st.binary()),
    st.integers(0, 100),
    st.booleans(),
)
def test_positional_maker_equals_init(
    ts: float,
    connection: str | None,
    direction: Any,
    sid: str | None,
    kind: str,
    data: Any,
    index: int,
    binary: bool,
) -> None:
    parent = Chunk(kind=ChunkKind.LINE, data=b"x", ts=ts)
    fast = _make_packet(
        ts,
        connection,
        direction,
        "polling",
        parent,
        4,
        ("n",),
        sid,
        kind,
        data,
        b"r",
        index,
        binary,
    )
    slow = EngineIOPacket(
        ts=ts,
        connection=connection,
        direction=direction,
        transport="polling",
        parent=parent,
        revision=4,
        notes=("n",),
        sid=sid,
        type=kind,
        data=data,
        raw=b"r",
        index=index,
        binary=binary,
    )
    assert fast == slow
    assert fast.parent is parent
    assert attrs.asdict(fast, recurse=False) == attrs.asdict(slow, recurse=False)


def test_positional_maker_fallback_and_defaults() -> None:
    make = positional_maker(EngineIOHandshake, ("ts", "sid", "upgrades"))
    record = make(1.0, "abc", ("websocket",))
    assert record == EngineIOHandshake(ts=1.0, sid="abc", upgrades=("websocket",))
    assert record.type == "open" and record.layer == "engineio" and record.tags == ()
    with pytest.raises(TypeError):
        positional_maker(EngineIOPacket, ("nope",))


@attrs.frozen(slots=True, kw_only=True)
class _Validated:
    value: int = attrs.field(validator=attrs.validators.instance_of(int))


def test_positional_maker_falls_back_to_init_with_validators() -> None:
    make = positional_maker(_Validated, ("value",))
    assert make(3) == _Validated(value=3)
    with pytest.raises(TypeError):
        make("not an int")


@SETTINGS
@given(st.one_of(packet_v4.map(wire.packet_v4.build), st.binary(max_size=40)))
def test_the_fast_path_agrees_with_the_v4_declaration(raw: bytes) -> None:
    fast = wire.fast_packet(raw, False)
    try:
        parsed = wire.packet_v4.parse(raw)
    except ConstructError as exc:
        assert fast is None and exc.rule.startswith("engineio.")  # type: ignore[attr-defined]
        return
    assert fast in (None, (parsed.type, parsed.data))


@SETTINGS
@given(st.one_of(packet_v3.map(wire.packet_v3.build), st.binary(max_size=40)))
def test_the_fast_path_agrees_with_the_v3_declaration(raw: bytes) -> None:
    fast = wire.fast_packet(raw, True)
    try:
        parsed = wire.packet_v3.parse(raw)
    except ConstructError as exc:
        assert fast is None and exc.rule.startswith("engineio.")  # type: ignore[attr-defined]
        return
    assert fast in (None, (parsed.type, parsed.data))
    if parsed.type != "open" and not (isinstance(parsed.data, bytes) and parsed.type != "message"):
        assert fast is not None  # every common form takes the fast path
