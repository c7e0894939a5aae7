"""Corrupted captures and payloads give error records, never exceptions."""

from __future__ import annotations

import dataclasses
import gzip
import io

import pcapbuild
import scenarios
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_http.records import CONNECTION_ENDS, Chunk
from ioproto_pcap.capture import CaptureDecoder
from ioproto_pcap.files import FrameReader
from ioproto_pcap.link import parse_frame
from ioproto_tcp.records import TcpEvent
from pcaphelp import decode_frames, http_layer

from ioproto.components import SourceContext
from ioproto.model import ErrorRecord

FLOW = scenarios.websocket_flow(mss=500)
POLL = scenarios.polling_flow(mss=300)
FRAMES = pcapbuild.render(POLL.packets + FLOW.packets)
PCAP = pcapbuild.write_pcap("/dev/null", FRAMES[:80])
PCAPNG = pcapbuild.write_pcapng("/dev/null", FRAMES[:80])
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run_bytes(data: bytes) -> None:
    decoder = CaptureDecoder(SourceContext())
    reader = FrameReader(io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]
    for frame in reader:
        decoder.frame(*frame)
    decoder.finish()
    assert all(isinstance(r, (TcpEvent, ErrorRecord)) for r in decoder.out)
    records = http_layer(decoder.out, SourceContext())
    assert all(isinstance(r, (Chunk, ErrorRecord, *CONNECTION_ENDS)) for r in records)


@st.composite
def corrupted(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        pos = draw(st.integers(0, len(out) - 1))
        out[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(out)))
    return bytes(out[:cut])


@SETTINGS
@given(corrupted(PCAP))
def test_corrupted_pcap(data: bytes) -> None:
    _run_bytes(data)


@SETTINGS
@given(corrupted(PCAPNG))
def test_corrupted_pcapng(data: bytes) -> None:
    _run_bytes(data)


@SETTINGS
@given(st.binary(max_size=200))
def test_random_files(data: bytes) -> None:
    _run_bytes(data)
    _run_bytes(gzip.compress(data)[: len(data) // 2 + 10])
    _run_bytes(b"\xd4\xc3\xb2\xa1" + data)
    _run_bytes(b"\x0a\x0d\x0d\x0a" + data)


@SETTINGS
@given(st.integers(0, 300), st.binary(max_size=80))
def test_random_frames(linktype: int, frame: bytes) -> None:
    parse_frame(linktype, frame)
    decode_frames([(1.0, linktype, frame)])


@st.composite
def mangled_payloads(draw: st.DrawFn) -> list[pcapbuild.TcpPacket]:
    packets = [dataclasses.replace(p) for p in draw(st.sampled_from([FLOW, POLL])).packets]
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(3, len(packets) - 1))
        p = packets[i]
        if p.payload:
            payload = bytearray(p.payload)
            for _ in range(draw(st.integers(1, 4))):
                payload[draw(st.integers(0, len(payload) - 1))] = draw(st.integers(0, 255))
            packets[i] = dataclasses.replace(p, payload=bytes(payload))
        elif draw(st.booleans()):
            packets[i] = dataclasses.replace(p, payload=draw(st.binary(min_size=1, max_size=40)))
    if draw(st.booleans()):
        del packets[draw(st.integers(3, len(packets) - 1))]
    return packets


@SETTINGS
@given(mangled_payloads())
def test_corrupted_tcp_payloads(packets: list[pcapbuild.TcpPacket]) -> None:
    records = decode_frames(pcapbuild.render(packets))
    assert all(isinstance(r, (Chunk, ErrorRecord, *CONNECTION_ENDS)) for r in records)
