"""Options, error records and mid-stream pick-up."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pcapbuild
import pytest
import scenarios
from ioproto_http.framing import BodyReader, decode_content, parse_head
from ioproto_tcp.records import TcpClose
from pcaphelp import chunks, decode_file, decode_frames, errors, http_layer

from ioproto.errors import UsageError


def _render(flow: pcapbuild.Flow) -> list:
    return pcapbuild.render(flow.packets)


def test_port_filter_and_all_http() -> None:
    flow = scenarios.polling_flow()
    assert not decode_frames(_render(flow), {"port": 8080})
    assert decode_frames(_render(flow), {"port": "80, 3000"})
    assert decode_frames(_render(flow), {"port": [3000]})
    default = chunks(decode_frames(_render(flow)))
    everything = chunks(decode_frames(_render(flow), {"all_http": "true"}))
    assert len(everything) == len(default) + 2
    assert any(c.http.path == "/favicon.ico" and c.data == b"not found" for c in everything)


def test_tls_reported_once() -> None:
    flow = pcapbuild.Flow().handshake()
    flow.send(0, b"\x16\x03\x01\x02\x00" + b"\x01" * 300)
    flow.send(1, b"\x16\x03\x03\x00\x40" + b"\x02" * 64)
    flow.send(0, b"\x17\x03\x03\x00\x10" + b"\x03" * 16)
    records = decode_frames(_render(flow.close()))
    assert [e.rule for e in errors(records)] == ["capture.tls"]
    assert records[0].connection == "10.0.0.1:51000-10.0.0.2:3000"


def test_ip_fragments_reported_once_per_datagram() -> None:
    p = pcapbuild.TcpPacket(1.0, "10.0.0.1", "10.0.0.2", 1, 2, 0, 0, 0x18, b"x" * 40)
    frames = []
    for fragment in (0x2000, 0x0005, 0x0005):
        ip = pcapbuild.ip_bytes(p, ident=7, fragment=fragment)
        frames.append((1.0, 101, ip))
    frames.append((1.0, 101, pcapbuild.ip_bytes(p, ident=8, fragment=0x0003)))
    records = decode_frames(frames)
    assert [e.rule for e in records] == ["capture.ip.fragment"] * 2


def test_unsupported_link_type() -> None:
    records = decode_frames([(1.0, 147, b"abc"), (2.0, 147, b"abc")])
    assert [e.rule for e in errors(records)] == ["capture.link.unsupported"]


def test_truncated_and_invalid_files(tmp_path) -> None:
    data = pcapbuild.write_pcap(tmp_path / "a.pcap", _render(scenarios.polling_flow()))
    (tmp_path / "cut.pcap").write_bytes(data[:-7])
    records = decode_file(tmp_path / "cut.pcap")
    assert [e.rule for e in errors(records)] == ["capture.file.truncated"]
    assert chunks(records)  # what was read is still decoded
    (tmp_path / "bad.pcap").write_bytes(b"nope" * 10)
    assert [e.rule for e in decode_file(tmp_path / "bad.pcap")] == ["capture.file.invalid"]
    (tmp_path / "huge.pcap").write_bytes(data[:24] + b"\0" * 8 + b"\xff" * 8)
    assert [e.rule for e in decode_file(tmp_path / "huge.pcap")] == ["capture.file.invalid"]
    with pytest.raises(UsageError, match=r"no such file: .*missing\.pcap"):
        decode_file(tmp_path / "missing.pcap")


def test_midstream_websocket() -> None:
    flow = scenarios.websocket_flow(deflate=False, mss=60_000)
    # drop the handshake and the upgrade exchange: start at the first WebSocket frame
    first = next(i for i, p in enumerate(flow.packets) if p.payload[:1] == b"\x81")
    records = decode_frames(pcapbuild.render(flow.packets[first:]))
    assert not errors(records)
    got = [(c.direction, str(c.kind), c.data) for c in chunks(records)]
    assert got == scenarios.expected_ws_messages(deflate=False)
    assert records[0].connection == "10.0.0.1:51001-10.0.0.2:3000"
    # Chunks carry no Engine.IO facts: the Engine.IO layer derives them.
    assert all(c.transport is None and c.sid is None for c in chunks(records))


def test_midstream_compressed_websocket_reports_inflate() -> None:
    flow = scenarios.websocket_flow(mss=60_000)
    first = next(i for i, p in enumerate(flow.packets) if p.payload[:1] == b"\x81")
    records = decode_frames(pcapbuild.render(flow.packets[first:]))
    rules = {e.rule for e in errors(records)}
    assert rules == {"capture.websocket.inflate"}
    assert b"3probe" in [c.data for c in chunks(records)]


def test_midstream_http() -> None:
    flow = scenarios.polling_flow(mss=60)
    # start in the middle of the first response body and of a request
    first = 1 + next(i for i, p in enumerate(flow.packets) if p.payload.startswith(b"HTTP"))
    records = decode_frames(pcapbuild.render(flow.packets[first:]))
    assert not errors(records)
    got = [(c.direction, c.http.method, c.http.query_value("t"), c.data) for c in chunks(records)]
    assert got[0][:3] == ("c2s", "POST", None)
    assert ("s2c", "GET", "3", b"2") in got
    assert ("s2c", "GET", "5", b"6") in got


def test_unrecognised_midstream_reported() -> None:
    flow = pcapbuild.Flow()
    flow.send(0, b"\x00\x01binary protocol" * 10)
    flow.send(1, b"\x00\x02reply" * 10)
    records = decode_frames(_render(flow))
    assert [e.rule for e in records] == ["capture.tcp.midstream"]


def test_invalid_http_resumes_at_next_message() -> None:
    flow = pcapbuild.Flow().handshake()
    good = pcapbuild.http_request("GET", "/socket.io/?EIO=4&transport=polling")
    flow.send(0, good)
    flow.send(1, b"HTTP/1.1 200 OK\r\nBroken header line\r\n\r\n")
    flow.send(0, good)
    flow.send(1, b"HTTP/1.1 200 OK\r\nContent-Length: zz\r\n\r\n")
    flow.send(0, good)
    flow.send(1, pcapbuild.http_response(200, b"0{}"))
    records = decode_frames(_render(flow.close()))
    assert [e.rule for e in errors(records)] == ["capture.http.invalid"] * 2
    responses = [c for c in chunks(records) if c.direction == "s2c"]
    assert [c.data for c in responses] == [b"0{}"]


def test_bad_content_encoding_reported() -> None:
    flow = pcapbuild.Flow().handshake()
    flow.send(0, pcapbuild.http_request("GET", "/socket.io/?EIO=4&transport=polling"))
    flow.send(1, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc")
    records = decode_frames(_render(flow.close()))
    assert [e.rule for e in errors(records)] == ["capture.http.invalid"]


def test_websocket_invalid_frame() -> None:
    flow = scenarios.websocket_flow(deflate=False, mss=60_000)
    index = next(i for i, p in enumerate(flow.packets) if p.payload[:1] == b"\x81")
    p = flow.packets[index]
    flow.packets[index] = dataclasses.replace(p, payload=b"\xb3" + p.payload[1:])  # RSV + op 3
    records = decode_frames(_render(flow))
    assert "capture.websocket.invalid" in [e.rule for e in errors(records)]


def test_message_size_limit() -> None:
    from ioproto.components import Limits

    flow = scenarios.websocket_flow(deflate=False, mss=1400)
    records = decode_frames(_render(flow), limits=Limits(max_payload=1000))
    assert "capture.websocket.invalid" in [e.rule for e in errors(records)]


def test_connection_cap_evicts() -> None:
    from ioproto_pcap.capture import CaptureDecoder

    from ioproto.components import SourceContext

    packets = []
    for number, port in enumerate(range(40000, 40030)):
        flow = scenarios.polling_flow(client=("10.0.0.1", port))
        for p in flow.packets[:5]:  # never closed: only eviction forgets them
            p.ts += number * 0.002
            packets.append(p)
    packets.sort(key=lambda p: p.ts)
    decoder = CaptureDecoder(SourceContext(options={"max_connections": 5}))
    most = 0
    for frame in pcapbuild.render(packets):
        decoder.frame(*frame)
        most = max(most, len(decoder.connections))
    decoder.finish()
    assert most <= 2 * 6
    records = http_layer(decoder.out, SourceContext())
    assert len([c for c in chunks(records) if c.direction == "s2c"]) == 30


def _one_segment_each(ports: Iterable[int]) -> list[tuple[float, int, bytes]]:
    """One data segment per client port, a millisecond apart: a connection each."""
    packets = [
        pcapbuild.TcpPacket(n * 0.001, "10.0.0.1", "10.0.0.2", port, 3000, 1, 1, 0x18, b"x")
        for n, port in enumerate(ports)
    ]
    return pcapbuild.render(packets)


def _closes(records: list) -> dict[str, str]:
    """connection → the reason of its ``TcpClose``."""
    return {r.connection: r.reason for r in records if isinstance(r, TcpClose)}


def test_connections_past_the_cap_are_evicted_without_a_sweep_each() -> None:
    """Past ``max_connections`` each new connection evicts the least recently active one in
    O(1): a sweep (which looks at every live connection) stays rare (it once ran for every
    new connection, 4,003 sweeps of 20,000 connections for 24,000)."""
    from ioproto_pcap.capture import SWEEP_EVERY, CaptureDecoder

    from ioproto.components import SourceContext

    decoder = CaptureDecoder(SourceContext(options={"max_connections": 50}))
    sweep = decoder._sweep
    sweeps = []
    decoder._sweep = lambda: (sweeps.append(1), sweep())[1]  # type: ignore[method-assign]
    frames = _one_segment_each(range(20000, 23000))
    most = 0
    for frame in frames:
        decoder.frame(*frame)
        most = max(most, len(decoder.recent))
    evicted = _closes(decoder.out)
    decoder.finish()
    assert len(sweeps) <= len(frames) // SWEEP_EVERY
    assert most == 50
    assert len(evicted) == 2950
    assert set(evicted.values()) == {"evicted"}
    assert "10.0.0.1:20000-10.0.0.2:3000" in evicted
    assert "10.0.0.1:22950-10.0.0.2:3000" not in evicted


def test_eviction_takes_the_least_recently_active_connection() -> None:
    from ioproto_pcap.capture import CaptureDecoder

    from ioproto.components import SourceContext

    decoder = CaptureDecoder(SourceContext(options={"max_connections": 3}))
    a, b, c, d = _one_segment_each([1001, 1002, 1003, 1004])
    for frame in (a, b, c, (0.01, *a[1:]), d):  # a is active again before d opens
        decoder.frame(*frame)
    assert _closes(decoder.out) == {"10.0.0.1:1002-10.0.0.2:3000": "evicted"}


def test_idle_connections_end_at_the_cap_and_in_sweeps() -> None:
    from ioproto_pcap.capture import SWEEP_EVERY, CaptureDecoder

    from ioproto.components import SourceContext

    options = {"max_connections": 3, "idle_timeout": 10}
    decoder = CaptureDecoder(SourceContext(options=options))
    frames = _one_segment_each([1001, 1002, 1003, 1004])
    for ts, frame in zip((0.0, 1.0, 20.0, 21.0), frames, strict=True):
        decoder.frame(ts, *frame[1:])
    # 1001 is evicted for 1004; 1002 has been idle for longer than 10 s
    assert _closes(decoder.out) == {
        "10.0.0.1:1001-10.0.0.2:3000": "evicted",
        "10.0.0.1:1002-10.0.0.2:3000": "idle",
    }
    decoder.out.clear()
    for _ in range(SWEEP_EVERY):  # frames of no connection: only the sweep ends any
        decoder.frame(40.0, 147, b"")
    assert _closes(decoder.out) == {
        "10.0.0.1:1003-10.0.0.2:3000": "idle",
        "10.0.0.1:1004-10.0.0.2:3000": "idle",
    }


@pytest.mark.parametrize(
    ("head", "ok"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\r\n folded", True),
        (b"GET /\r\n", False),
        (b"GET / HTTP/1.1\r\nno colon", False),
        (b"G@T / HTTP/1.1", False),
    ],
)
def test_parse_request_head(head: bytes, ok: bool) -> None:
    assert isinstance(parse_head(head, request=True), str) != ok


def test_chunked_reader_incremental() -> None:
    body = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nT: 1\r\n\r\nNEXT"
    reader = BodyReader(1000)
    buf = bytearray()
    pos = 0
    for byte in body:
        buf.append(byte)
        pos = reader.step(buf, pos)
        if reader.done:
            break
    assert reader.done and bytes(reader.body) == b"hello world" and buf[pos:] == b""
    bad = BodyReader(1000)
    bad.step(bytearray(b"zz\r\n"), 0)
    assert bad.error


def test_decode_content_limits() -> None:
    import gzip

    bomb = gzip.compress(b"0" * 100_000)
    assert isinstance(decode_content(bomb, ["gzip"], 1000), str)
    assert decode_content(bomb, ["gzip"], 200_000) == b"0" * 100_000
    assert isinstance(decode_content(b"xx", ["compress"], 10), str)
