"""The app layer: bindings as data, EVENTs passed through with an AppMessage after them,
parse failures as error records, Engine.IO bindings by path and probe, monitor rendering."""

from __future__ import annotations

import struct
from typing import Any

import attrs
import ioproto_engineio
import ioproto_socketio
import pytest
from construct import Bytes, Enum, ExprAdapter, Int8ub, Int16ub, Struct, Terminated
from ioproto_appproto import AckArg, AppMessage, AppProtocol, EngineIOBinary, EventArg, to_plain
from ioproto_http.records import HttpInfo
from ioproto_socketio.records import AckRequest, SocketIOPacket
from ioproto_socketio.testing import socketio_ack, socketio_event, socketio_messages

import ioproto
from ioproto.jsonform import record_to_dict
from ioproto.model import ErrorRecord, Record
from ioproto.testing import run_pipeline

Point = Struct("x" / Int16ub, "y" / Int16ub, Terminated)
Color = Struct("color" / Enum(Int8ub, red=1, green=2))
Broken = ExprAdapter(Int8ub, lambda obj, ctx: 1 // obj, lambda obj, ctx: obj)  # ZeroDivision

DEMO = AppProtocol(
    name="demo",
    bindings=[
        EventArg(event="point", nsp="/", arg=0, format=Point),
        EventArg(event="point", nsp="/", arg=1, format=Color, message="color"),
        EventArg(event="only-up", format=Point, direction="c2s"),
        EventArg(event="broken", format=Struct("v" / Broken)),
    ],
)


class Demo:
    @ioproto.hookimpl
    def register_decoders(self, register: Any) -> None:
        for decoder in DEMO.decoders():
            register(decoder)


PLUGINS = [ioproto_engineio, ioproto_socketio, Demo()]


def decode(packets: list[Any], proto: str = "app") -> list[Record]:
    chunks = socketio_messages([("c2s", "0"), *packets])
    return [r for r in run_pipeline(chunks, plugins=PLUGINS, proto=proto) if r.layer != "engineio"]


def test_bound_event_passes_through_followed_by_app_messages() -> None:
    records = decode(
        [
            ("c2s", socketio_event("point", struct.pack(">HH", 3, 4), b"\x02", ack_id=1)),
            ("s2c", socketio_ack(1, "ok")),
        ]
    )
    kinds = [(r.layer, r.type) for r in records]
    assert kinds == [
        ("socketio", "CONNECT"),
        ("socketio", "EVENT"),
        ("app", "demo.point"),
        ("app", "demo.color"),
        ("socketio", "ACK"),
    ]
    event, point, color, ack = records[1:]
    assert isinstance(point, AppMessage) and isinstance(color, AppMessage)
    assert point.fields == {"x": 3, "y": 4} and color.fields == {"color": "green"}
    assert (point.protocol, point.message, point.nsp, point.event, point.arg) == (
        "demo",
        "point",
        "/",
        "point",
        0,
    )
    assert point.parent is event and point.raw == struct.pack(">HH", 3, 4)
    assert (point.sid, point.direction, point.ts) == (event.sid, event.direction, event.ts)
    assert ack.answers == AckRequest.of(event)  # type: ignore[attr-defined]
    line = record_to_dict(point)
    assert line["fields"] == {"x": 3, "y": 4} and line["via"][:2] == ["socketio", "engineio"]


def test_parse_failures_become_errors_and_the_event_still_arrives() -> None:
    records = decode(
        [
            ("c2s", socketio_event("point", b"\x00\x01\x00\x02\xff", b"\x09")),
            ("c2s", socketio_event("point", "not bytes")),
            ("c2s", socketio_event("broken", b"\x00")),
        ]
    )
    events = [r for r in records if isinstance(r, SocketIOPacket) and r.type == "EVENT"]
    assert len(events) == 3
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    assert [e.rule for e in errors] == [
        "app.demo.parse",  # trailing byte refused by Terminated
        "app.demo.not-binary",  # a string where bytes were bound
        "app.demo.not-binary",  # argument 1 missing
        "app.demo.parse",  # the adapter raised ZeroDivisionError, not a ConstructError
    ]
    # construct's Enum accepts unknown values (aesthetics.md 5): 9 comes out as the int 9
    colors = [r for r in records if isinstance(r, AppMessage) and r.message == "color"]
    assert [c.fields for c in colors] == [{"color": 9}]
    assert errors[0].raw == b"\x00\x01\x00\x02\xff" and errors[0].parent is events[0]
    assert "ZeroDivisionError" in errors[-1].reason


def test_direction_and_namespace_filters() -> None:
    records = decode(
        [
            ("s2c", socketio_event("only-up", b"\x00\x01\x00\x02")),
            ("c2s", socketio_event("only-up", b"\x00\x01\x00\x02")),
            ("c2s", socketio_event("point", b"\x00\x01\x00\x02", nsp="/other")),
        ]
    )
    assert [r.type for r in records if r.layer == "app"] == ["demo.only-up"]


def test_unbound_records_are_untouched_and_socketio_proto_ignores_the_app_layer() -> None:
    packets = [("c2s", socketio_event("chat", "hi")), ("c2s", socketio_event("point", b"\0\1\0\2"))]
    with_app = decode(packets)
    without = decode(packets, proto="socketio")
    assert [r for r in with_app if r.layer != "app"] == without


def test_engineio_bindings_by_path_and_probe() -> None:
    telemetry = Struct("fps" / Int16ub, Terminated)
    calls: list[bytes] = []

    def probe(data: bytes) -> bool:
        calls.append(data)
        if data == b"boom":
            raise RuntimeError("probe bug")
        return data[:1] == b"\xee"

    proto = AppProtocol(
        name="raw",
        bindings=[
            EngineIOBinary(path="/telemetry", format=telemetry, message="telemetry"),
            EngineIOBinary(probe=probe, format=Struct("tag" / Bytes(1), "n" / Int8ub), message="p"),
        ],
    )

    class Raw:
        @ioproto.hookimpl
        def register_decoders(self, register: Any) -> None:
            for decoder in proto.decoders():
                register(decoder)

    def chunks(path: str, messages: list[bytes]) -> list[Any]:
        out = socketio_messages([("c2s", m) for m in messages], connection=path)
        query = (("EIO", "4"),)
        http = HttpInfo(method="GET", target=path + "/?EIO=4", path=path + "/", query=query)
        return [attrs.evolve(c, http=http) for c in out]

    records = run_pipeline(
        chunks("/telemetry", [b"\x00\x3c", b"\x00"]) + chunks("/socket.io", [b"\xee\x05", b"boom"]),
        plugins=[ioproto_engineio, ioproto_socketio, Raw()],
        proto="socketio",
    )
    app = [r for r in records if isinstance(r, AppMessage)]
    assert [(r.type, r.fields) for r in app] == [
        ("raw.telemetry", {"fps": 60}),
        ("raw.p", {"tag": b"\xee", "n": 5}),
    ]
    assert app[0].parent is not None and app[0].parent.layer == "engineio"
    rules = [r.rule for r in records if isinstance(r, ErrorRecord)]
    # b"\x00" on /telemetry is too short: an app error, and the message goes on to the sinks;
    # b"boom" is nobody's (the probe raised): the default Socket.IO parser reports it.
    assert rules == ["app.raw.parse", "socketio.binary.unexpected"]
    assert any(r.layer == "engineio" and r.type == "message" for r in records)


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError):
        AppProtocol(name="bad name", bindings=[])
    with pytest.raises(ValueError):
        EngineIOBinary(format=Point)
    with pytest.raises(TypeError):
        AppProtocol(name="x", bindings=[object()])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("declare", "says"),
    [
        (lambda: EventArg(event="p", format=None), "format=None: not a construct format"),
        (lambda: EventArg(event="p", format=Struct), "format=the class Struct"),
        (lambda: EventArg(event="p", format=Point, nsp="game"), "nsp='/game'"),
        (lambda: EventArg(event="p", format=Point, arg=-1), "0 for the first"),
        (lambda: AckArg(event="p", format=Point, direction="up"), "give 'c2s', 's2c'"),
        (lambda: EventArg(event="", format=Point), "give the event's name"),
        (
            lambda: AppProtocol(name="x", bindings=EventArg(event="p", format=Point)),
            "bindings takes a list of bindings: bindings=[EventArg(",
        ),
    ],
)
def test_a_declaration_that_cannot_work_says_what_to_give(declare: Any, says: str) -> None:
    """Raised when the plugin's module is imported: ioproto names the plugin and says this."""
    with pytest.raises((ValueError, TypeError)) as raised:
        declare()
    assert says in str(raised.value)
    assert DEMO.decoder().name == "app-demo" and DEMO.decoder().layer == "app"
    assert [d.name for d in DEMO.decoders()] == ["app-demo"]


def test_to_plain() -> None:
    parsed = Struct("a" / Int8ub, "c" / Enum(Int8ub, red=1), "b" / Bytes(2)).parse(b"\x01\x01xy")
    assert to_plain(parsed) == {"a": 1, "c": "red", "b": b"xy"}
    assert type(to_plain(parsed)["c"]) is str


def test_monitor_renders_app_messages() -> None:
    from ioproto_monitor.render import Clock, render_line

    records = decode([("c2s", socketio_event("point", struct.pack(">HH", 3, 4)))])
    app = next(r for r in records if isinstance(r, AppMessage))
    line = "".join(text for text, _ in render_line(app, Clock("none")))
    assert "↳ demo.point" in line and '"x":3' in line


ACKED = AppProtocol(
    name="acked",
    bindings=[
        EventArg(event="ask", format=Point, direction="c2s"),
        AckArg(event="ask", arg=1, format=Color, direction="s2c"),
    ],
)


class Acked:
    @ioproto.hookimpl
    def register_decoders(self, register: Any) -> None:
        for decoder in ACKED.decoders():
            register(decoder)


def decode_acked(packets: list[Any]) -> list[Record]:
    chunks = socketio_messages([("c2s", "0"), *packets])
    plugins = [ioproto_engineio, ioproto_socketio, Acked()]
    records = run_pipeline(chunks, plugins=plugins, proto="app")
    return [r for r in records if r.layer != "engineio"]


def test_an_ack_of_a_bound_event_is_decoded_after_the_ack() -> None:
    records = decode_acked(
        [
            ("c2s", socketio_event("ask", struct.pack(">HH", 1, 2), ack_id=7)),
            ("s2c", socketio_ack(7, "fine", b"\x01")),
        ]
    )
    kinds = [(r.layer, r.type) for r in records]
    assert kinds[-2:] == [("socketio", "ACK"), ("app", "acked.ask-ack")]
    message = records[-1]
    assert isinstance(message, AppMessage)
    assert (message.event, message.arg, message.fields) == ("ask", 1, {"color": "red"})
    assert message.parent is records[-2] and message.direction == "s2c"


def test_acks_that_cannot_be_bound() -> None:
    """An ACK whose EVENT was not seen is not bound (no way to know what it answers); an ACK
    of another event, or in the other direction, neither; a bound argument that is not
    bytes is an error record naming the ack."""
    records = decode_acked(
        [
            ("s2c", socketio_ack(99, "x", b"\x01")),  # answers nothing seen
            ("c2s", socketio_event("other", ack_id=1)),
            ("s2c", socketio_ack(1, "x", b"\x01")),  # answers "other"
            ("s2c", socketio_event("ask", ack_id=2)),
            ("c2s", socketio_ack(2, "x", b"\x01")),  # the ack of "ask" sent c2s
            ("c2s", socketio_event("ask", struct.pack(">HH", 1, 2), ack_id=3)),
            ("s2c", socketio_ack(3, "x", "not bytes")),
        ]
    )
    assert not any(isinstance(r, AppMessage) and r.message == "ask-ack" for r in records)
    errors = [r for r in records if isinstance(r, ErrorRecord) and r.layer == "app"]
    assert [e.rule for e in errors] == ["app.acked.not-binary"]
    assert "the ack of 'ask'" in errors[0].reason
