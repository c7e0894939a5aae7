"""The plugin through the real pipeline: registration, and chunks through both decoders."""

from __future__ import annotations

import importlib.util

import ioproto_socketio
import pytest
from ioproto_http.records import Chunk, ChunkKind
from ioproto_socketio.records import AckRequest
from ioproto_socketio.testing import engineio_url
from siohelp import errors, packets, unanswered

import ioproto
from ioproto.jsonform import record_to_dict
from ioproto.model import Packet, Record
from ioproto.plugins import collect_components

HAS_ENGINEIO = importlib.util.find_spec("ioproto_engineio.decoder") is not None
needs_engineio = pytest.mark.skipif(not HAS_ENGINEIO, reason="no Engine.IO decoder plugin")


def test_plugin_registers_the_decoder() -> None:
    pm = ioproto.make_plugin_manager(load_entrypoints=False, plugins=[ioproto_socketio])
    decoder = collect_components(pm).decoders.get("socketio")
    assert (decoder.name, decoder.rides_on) == ("socketio", "engineio")


def pipeline() -> ioproto.Pipeline:
    import ioproto_engineio

    pm = ioproto.make_plugin_manager(
        load_entrypoints=False, plugins=[ioproto_engineio, ioproto_socketio]
    )
    return ioproto.Pipeline.build(proto="socketio", plugin_manager=pm)


def feed_lines(lines: list[tuple[bytes, str]], revision: int = 4) -> list[Record]:
    running = pipeline()
    out: list[Record] = []
    for index, (data, direction) in enumerate(lines):
        out += running.feed(
            Chunk(
                kind=ChunkKind.LINE,
                data=data,
                ts=float(index),
                http=engineio_url(revision=revision),
                direction=direction,  # type: ignore[arg-type]
                connection="c1",
            )
        )
    out += running.close()
    return out


@needs_engineio
def test_lines_through_both_plugins_v4() -> None:
    out = feed_lines(
        [
            (b'0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}', "s2c"),
            (b"40", "c2s"),
            (b'40{"sid":"xyz"}', "s2c"),
            # a polling payload: a binary event whose attachment is in the same batch
            (b'42["a"]\x1e451-1["b",{"_placeholder":true,"num":0}]\x1ebAQID', "c2s"),
            (b'431["ok"]', "s2c"),
            (b'42/admin,7["late",{"x":1}]', "c2s"),
            (b"1", "c2s"),
        ]
    )
    sio = packets(out)
    assert [(r.type, r.direction, r.nsp) for r in sio] == [
        ("CONNECT", "c2s", "/"),
        ("CONNECT", "s2c", "/"),
        ("EVENT", "c2s", "/"),
        ("EVENT", "c2s", "/"),
        ("ACK", "s2c", "/"),
        ("EVENT", "c2s", "/admin"),
    ]
    assert sio[3].args == [b"\x01\x02\x03"] and sio[3].attachments == 1
    assert sio[4].answers == AckRequest.of(sio[3])
    assert not errors(out)
    # the Engine.IO close ends the session: passed through, then the unanswered ack
    closes = [r for r in out if r.layer == "engineio" and r.type == "close"]
    assert len(closes) == 1
    (left,) = unanswered(out)
    assert (left.event, left.nsp, left.id, left.reason) == ("late", "/admin", 7, "session closed")
    assert out.index(closes[0]) < out.index(left)


def v3(*texts: str) -> bytes:
    """An EIO3 text payload; lengths count UTF-16 code units."""
    return "".join(f"{len(t.encode('utf-16-le')) // 2}:{t}" for t in texts).encode("utf-8")


@needs_engineio
def test_lines_through_both_plugins_v3_binary_polling() -> None:
    out = feed_lines(
        [
            (
                v3(
                    '0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,'
                    '"pingTimeout":5000}',
                    "40",
                ),
                "s2c",
            ),
            (v3('451-["b",{"_placeholder":true,"num":0}]', "b4AQID"), "c2s"),
            (v3('42["x","\u00e9\U0001f600"]'), "c2s"),
        ],
        revision=3,
    )
    sio = packets(out)
    assert [(r.type, r.revision) for r in sio] == [("CONNECT", 4), ("EVENT", 4), ("EVENT", 4)]
    assert sio[1].args == [b"\x01\x02\x03"]
    assert sio[2].args == ["\u00e9\U0001f600"]
    assert not [r for r in errors(out) if r.layer == "socketio"], errors(out)


@needs_engineio
def test_bad_socketio_packet_does_not_stop_the_session() -> None:
    out = feed_lines([(b"4abc", "c2s"), (b"42{}", "c2s"), (b'42["fine"]', "c2s")])
    assert [e.rule for e in errors(out)] == ["socketio.type.unknown", "socketio.payload.invalid"]
    assert [r.event for r in packets(out)] == ["fine"]


def test_records_have_a_json_form() -> None:
    from siohelp import decode

    event, ack = packets(
        decode(['51-3["e",{"_placeholder":true,"num":0}]', b"\x00", ("33[1]", "s2c")])
    )
    form = record_to_dict(ack)
    assert form["layer"] == "socketio" and form["type"] == "ACK"
    assert (form["nsp"], form["id"], form["args"], form["wire_type"]) == ("/", 3, [1], 3)
    assert "answers" not in form and "attachment_records" not in form
    form = record_to_dict(event)
    assert form["args"] == [{"$bytes": "AA=="}] and form["attachments"] == 1
    assert form["event"] == "e"


def test_pass_through_of_unaccepted_engineio_records() -> None:
    from ioproto.components import DecodeContext

    decoder = ioproto_socketio.SocketIODecoder()
    ping = Packet(layer="engineio", type="ping", data="", ts=0.0)
    assert not decoder.accepts(ping)
    assert isinstance(decoder.open(DecodeContext()), object)
