"""Session ids, revision choice, limits, and decoding through the real pipeline."""

from __future__ import annotations

import gzip
import zlib

import ioproto_engineio
from eio_helpers import chunk, decode, rules, stream, summary
from ioproto_engineio.records import EngineIOHandshake, EngineIOPacket
from ioproto_http.records import Chunk, ChunkKind, HttpInfo

import ioproto
from ioproto.components import Limits
from ioproto.model import ErrorRecord
from ioproto.plugins import make_plugin_manager

HANDSHAKE = (
    b'0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'
)


def test_pipeline_line_chunks() -> None:
    pm = make_plugin_manager(load_entrypoints=False, plugins=[ioproto_engineio])
    pipeline = ioproto.Pipeline.build(proto="engineio", plugin_manager=pm)
    out = pipeline.feed(Chunk(kind=ChunkKind.LINE, data=HANDSHAKE, ts=0.0))
    out += pipeline.feed(Chunk(kind=ChunkKind.LINE, data=b"4hello\x1e2", ts=1.0))
    out += pipeline.feed(Chunk(kind=ChunkKind.LINE, data=b"zzz", ts=2.0))
    out += pipeline.feed(Chunk(kind=ChunkKind.WS_CONTROL, data=b"", ts=3.0))
    out += pipeline.close()
    handshake = out[0]
    assert isinstance(handshake, EngineIOHandshake)
    assert (handshake.sid, handshake.upgrades, handshake.ping_interval) == ("a", (), 25000)
    assert (handshake.ping_timeout, handshake.max_payload) == (20000, 1000000)
    assert [(r.type, r.data) for r in out[1:3]] == [("message", "hello"), ("ping", "")]
    assert isinstance(out[3], ErrorRecord) and out[3].rule == "engineio.packet.bad-type"
    assert out[4].layer == "chunk"  # a ws-control chunk is not Engine.IO input: passed through
    assert pipeline.summary.errors == {"engineio.packet.bad-type": 1}


def test_websocket_only_session_learns_sid() -> None:
    decoder = stream()
    first = list(decoder.feed(chunk(HANDSHAKE, ChunkKind.WS_TEXT, connection="tcp1")))
    assert first[0].sid == "a"
    later = list(decoder.feed(chunk(b"42[1]", ChunkKind.WS_TEXT, connection="tcp1")))
    assert later[0].sid == "a" and later[0].transport == "websocket"
    other = list(decoder.feed(chunk(b"42[1]", ChunkKind.WS_TEXT, connection="tcp2")))
    assert other[0].sid is None
    payload = list(decoder.feed(chunk(b"4x\x1e4y", ChunkKind.HTTP_RESPONSE, connection="tcp1")))
    assert [r.sid for r in payload] == ["a", "a"]
    given = list(decoder.feed(chunk(b"42[1]", ChunkKind.WS_TEXT, connection="tcp1", sid="zz")))
    assert given[0].sid == "zz"  # the URL's sid wins, and the connection now carries it
    after = list(decoder.feed(chunk(b"42[1]", ChunkKind.WS_TEXT, connection="tcp1")))
    assert after[0].sid == "zz"
    list(decoder.close())


def test_sid_map_is_bounded_in_bytes() -> None:
    decoder = stream(limits=Limits(max_sessions=1, max_state_bytes=2 * 210))
    for number in range(3):
        body = b'0{"sid":"s%d"}' % number
        list(decoder.feed(chunk(body, ChunkKind.WS_TEXT, connection=f"c{number}")))
    sids = [
        next(iter(decoder.feed(chunk(b"4", ChunkKind.WS_TEXT, connection=f"c{n}")))).sid
        for n in range(3)
    ]
    assert sids == [None, "s1", "s2"]


def test_revision_choice() -> None:
    body = b"\x04\x01"
    assert summary(decode(body, ChunkKind.WS_BINARY)) == [("message", b"\x04\x01")]
    assert summary(decode(body, ChunkKind.WS_BINARY, revision=3)) == [("message", b"\x01")]
    assert summary(decode(body, ChunkKind.WS_BINARY, options={"revision": "3"})) == [
        ("message", b"\x01")
    ]
    # The option does not override a chunk's revision unless forced.
    assert summary(decode(body, ChunkKind.WS_BINARY, revision=4, options={"revision": 3})) == [
        ("message", b"\x04\x01")
    ]
    forced = {"revision": 3, "force_revision": "true"}
    assert summary(decode(body, ChunkKind.WS_BINARY, revision=4, options=forced)) == [
        ("message", b"\x01")
    ]
    # JS engine.io reads any EIO other than 4 as 3.
    records = decode(b"1:4", ChunkKind.LINE, revision=9)
    assert records[0].revision == 3 and records[0].type == "message"


def test_limits() -> None:
    records = decode(b"4" * 50, ChunkKind.WS_TEXT, limits=Limits(max_payload=10, max_raw_kept=5))
    assert rules(records) == ["engineio.payload.too-large"]
    assert records[0].raw == b"44444"
    records = decode(
        b"4a\x1e4b\x1e4c\x1e4d", ChunkKind.LINE, limits=Limits(max_packets_per_payload=2)
    )
    assert summary(records) == [
        ("message", "a"),
        ("message", "b"),
        ("error", "engineio.payload.too-many-packets"),
    ]
    assert records[2].raw == b"4c\x1e4d" and records[2].index == 2
    records = decode(
        b"2:4a2:4b2:4c", ChunkKind.LINE, revision=3, limits=Limits(max_packets_per_payload=1)
    )
    assert summary(records) == [("message", "a"), ("error", "engineio.payload.too-many-packets")]


def test_handshake_strictness() -> None:
    for body in [
        b'0{"sid":"a","pingInterval":NaN}',
        b'0{"sid":"a","pingInterval":Infinity}',
        b'0{"sid":"a","x":' + b"1" * 101 + b"}",
        b"0[]",
        b'0{"sid":1}',
        b'0{"sid":""}',
        b"0{",
        b"0" + b"[" * 100000,
    ]:
        records = decode(body, ChunkKind.WS_TEXT)
        assert rules(records) == ["engineio.handshake.invalid"], body[:40]
        assert records[0].raw == body[:4096]
    (record,) = decode(
        b'0{"sid":"a","upgrades":"websocket","pingInterval":2.5e4}', ChunkKind.WS_TEXT
    )
    assert isinstance(record, EngineIOHandshake)
    assert record.upgrades == () and record.ping_interval == 25000
    assert "handshake.bad-upgrades" in record.notes


def test_jsonp_forms() -> None:
    http = HttpInfo(method="GET", status=200, query=(("EIO", "3"), ("j", "4")))
    records = decode(b'___eio[4]("4:4hey");', ChunkKind.HTTP_RESPONSE, revision=3, http=http)
    assert summary(records) == [("message", "hey")]
    escaped = b'___eio[4]("5:4a\\"\\u2028\\\\");'
    records = decode(escaped, ChunkKind.HTTP_RESPONSE, revision=3, http=http)
    assert summary(records) == [("message", 'a"\u2028\\')]
    # python-engineio escapes only '"': a raw control character still decodes, with a note.
    records = decode(b'___eio[4]("4:4a\n\\"");', ChunkKind.HTTP_RESPONSE, revision=3, http=http)
    assert summary(records) == [("message", 'a\n"')]
    assert records[0].notes == ("jsonp.python-escaping",)
    assert rules(decode(b"___eio[x]", ChunkKind.HTTP_RESPONSE, http=http)) == [
        "engineio.jsonp.bad-wrapper"
    ]
    post = HttpInfo(method="POST", query=(("j", "4"),))
    assert rules(decode(b"x=1", ChunkKind.HTTP_REQUEST, http=post)) == ["engineio.jsonp.bad-form"]
    assert summary(decode(b"d=4%3A4a%5Cnb", ChunkKind.HTTP_REQUEST, revision=3, http=post)) == [
        ("message", "a\nb")
    ]


def test_compressed_poll_response() -> None:
    body = b"\x1e".join([b'42["event","' + b"x" * 2000 + b'"]'] * 2)
    for encoding, packed in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        http = HttpInfo(method="GET", status=200, headers=(("content-encoding", encoding),))
        records = decode(packed, ChunkKind.HTTP_RESPONSE, http=http)
        assert [r.type for r in records] == ["message", "message"]
    http = HttpInfo(method="GET", status=200, headers=(("content-encoding", "gzip"),))
    records = decode(
        gzip.compress(body), ChunkKind.HTTP_RESPONSE, http=http, limits=Limits(max_payload=1000)
    )
    assert rules(records) == ["engineio.payload.too-large"]
    assert rules(decode(b"\x1f\x8bjunk", ChunkKind.HTTP_RESPONSE, http=http)) == [
        "engineio.http.bad-compression"
    ]


def test_records_copy_chunk_context() -> None:
    source = chunk(
        b"4a\x1e4b",
        ChunkKind.HTTP_REQUEST,
        connection="1.2.3.4:5-6.7.8.9:80",
        direction="c2s",
        sid="S",
        transport="polling",
        revision=4,
        http=HttpInfo(method="POST"),
    )
    records = list(stream().feed(source))
    for index, record in enumerate(records):
        assert isinstance(record, EngineIOPacket)
        assert (record.connection, record.direction, record.sid, record.transport) == (
            "1.2.3.4:5-6.7.8.9:80",
            "c2s",
            "S",
            "polling",
        )
        assert record.parent is source and record.index == index and record.revision == 4
    assert [r.raw for r in records] == [b"4a", b"4b"]


def test_decoder_component() -> None:
    decoder = ioproto_engineio.decoder.EngineIODecoder()
    assert (decoder.name, decoder.rides_on) == ("engineio", "chunk")
    assert decoder.accepts(chunk(b"", ChunkKind.WS_TEXT))
    assert decoder.accepts(chunk(b"", ChunkKind.WS_CONTROL))  # to give it its session
    assert not decoder.accepts(chunk(b"", ChunkKind.WT_STREAM))
    not_engineio = HttpInfo(method="GET", path="/static/app.js")
    assert not decoder.accepts(chunk(b"x", ChunkKind.HTTP_RESPONSE, http=not_engineio))
    record = EngineIOPacket(ts=0.0)
    assert not decoder.accepts(record)
    assert list(stream().feed(record)) == [record]
