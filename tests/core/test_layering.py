"""Records enter the pipeline at the layer they are of, whatever the source."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import ioproto_engineio
import ioproto_http
import ioproto_pcap
from ioproto_http.records import Chunk, ChunkKind, HttpInfo
from ioproto_tcp.records import TcpClose, TcpData, TcpOpen

import ioproto
from ioproto.layers import layer_names
from ioproto.model import ErrorRecord, Record
from ioproto.pipeline import Pipeline
from ioproto.plugins import collect_components, make_plugin_manager

DATA = Path(__file__).resolve().parents[1] / "data"
UPGRADE = (
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: h\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
)
SWITCHED = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"


def pipeline(proto: str = "engineio", **kwargs: object) -> Pipeline:
    pm = make_plugin_manager(load_entrypoints=False, plugins=[ioproto_http, ioproto_engineio])
    return Pipeline.build(proto=proto, plugin_manager=pm, **kwargs)  # type: ignore[arg-type]


def websocket(*frames: bytes) -> list[Record]:
    """A WebSocket connection as a capture gives it: ``tcp`` records."""
    name = "10.0.0.1:5000-10.0.0.2:80"
    records: list[Record] = [
        TcpOpen(ts=1.0, connection=name, endpoints=("10.0.0.1:5000", "10.0.0.2:80"), client=0),
        TcpData(ts=1.1, connection=name, side=0, data=UPGRADE),
        TcpData(ts=1.2, connection=name, side=1, data=SWITCHED),
    ]
    records += [TcpData(ts=2.0 + n, connection=name, side=1, data=f) for n, f in enumerate(frames)]
    return [*records, TcpClose(ts=9.0, connection=name)]


def frame(text: bytes, opcode: int = 1) -> bytes:
    return bytes([0x80 | opcode, len(text)]) + text


def run(p: Pipeline, records: Iterable[Record]) -> list[Record]:
    out: list[Record] = []
    for record in records:
        out += p.feed(record)
    return out + p.close()


def test_the_layers_a_proto_names_and_the_source_layers() -> None:
    components = collect_components(make_plugin_manager())
    names = layer_names(components)
    assert names[:1] == ["tcp"] and {"chunk", "engineio", "socketio"} <= set(names)
    assert [layer.name for layer in pipeline("engineio").layers] == ["chunk", "engineio"]
    assert pipeline("tcp").layers == []  # a layer only sources make: no decoding


def test_tcp_records_chunks_and_packets_each_enter_at_their_layer() -> None:
    handshake = b'0{"sid":"s1","upgrades":[],"pingInterval":1,"pingTimeout":1}'
    from_tcp = run(pipeline(), websocket(frame(handshake), frame(b"4hi")))
    assert [(r.layer, r.type, r.sid) for r in from_tcp] == [
        ("engineio", "open", "s1"),
        ("engineio", "message", "s1"),
        # the connection closed without a close frame (the http layer's ws-end)
        ("engineio", "transport-close", "s1"),
    ]
    url = HttpInfo(path="/socket.io/", query=(("EIO", "4"),))
    chunk = Chunk(ts=1.0, kind=ChunkKind.WS_TEXT, data=b"4hi", http=url, connection="c")
    assert [(r.layer, r.type) for r in run(pipeline(), [chunk])] == [("engineio", "message")]
    packet = from_tcp[1]
    assert run(pipeline(), [packet]) == [packet]  # already at the top


def test_engineio_attributes_control_frames_and_errors_of_the_layers_below() -> None:
    handshake = b'0{"sid":"s1","upgrades":[],"pingInterval":1,"pingTimeout":1}'
    records = websocket(frame(handshake), frame(b"", opcode=9), frame(b"", opcode=8))
    name = records[0].connection
    # An error the http layer would make about this connection (a lost segment, say).
    gap = ErrorRecord(ts=3.5, connection=name, layer="capture", rule="x", reason="y")
    out = run(pipeline(), records)
    ping = next(r for r in out if r.type == "ws-ping")
    assert (ping.layer, ping.sid, ping.transport) == ("chunk", "s1", "websocket")
    # the close frame closed the session's WebSocket: the Engine.IO layer says so
    close = next(r for r in out if r.type == "transport-close")
    assert (close.layer, close.sid, close.parent.type) == ("engineio", "s1", "ws-close")
    stream = pipeline().layers[1].members[0].stream
    list(stream.feed(next(r for r in out if r.type == "open").parent))  # learns the connection
    attributed = list(stream.feed(gap))
    assert [(r.rule, r.sid, r.transport) for r in attributed] == [("x", "s1", "websocket")]


def test_all_layers_emits_a_passed_on_record_once() -> None:
    handshake = b'0{"sid":"s1","upgrades":[],"pingInterval":1,"pingTimeout":1}'
    out = run(pipeline(all_layers=True), websocket(frame(handshake), frame(b"", opcode=9)))
    controls = [r for r in out if r.type == "ws-ping"]
    assert len(controls) == 1 and controls[0].sid == "s1"
    assert [r.layer for r in out].count("tcp") == 6  # open, 4 deliveries, close


def test_the_http_layer_decodes_what_the_layers_above_want() -> None:
    wanted = [r for r in ioproto.decode(str(DATA / "clients_mixed.pcap"), proto="chunk")]
    everything = list(
        ioproto.decode(str(DATA / "clients_mixed.pcap"), proto="chunk", options={"all_http": True})
    )
    is_engineio: Callable[[Record], bool] = ioproto_engineio.decoder.EngineIODecoder().accepts
    assert wanted and all(is_engineio(r) for r in wanted if isinstance(r, Chunk))
    assert len(everything) >= len(wanted)


def test_sources_are_told_what_is_wanted() -> None:
    pm = make_plugin_manager(load_entrypoints=False, plugins=[ioproto_pcap, ioproto_http])
    p = Pipeline.build(proto="chunk", plugin_manager=pm)
    page = Chunk(ts=0.0, kind=ChunkKind.HTTP_REQUEST, data=b"", http=HttpInfo(path="/app.js"))
    assert p.wants(page)  # no Engine.IO plugin: nobody rides on chunks, everything is wanted
    assert not pipeline().wants(page)
    socketio = HttpInfo(path="/socket.io/", query=(("EIO", "4"),))
    assert pipeline().wants(Chunk(ts=0.0, kind=ChunkKind.HTTP_REQUEST, data=b"", http=socketio))
