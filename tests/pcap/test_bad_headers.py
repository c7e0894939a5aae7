"""A frame whose IP or TCP header length cannot be right is an error record, not silence.

IHL under 5 words (read before this as a TCP header at the wrong place), an IPv4 header
past the packet or its total length, an IPv6 extension header past the packet, a TCP data
offset under 5 words or past the packet, a TCP header cut short: ``capture.ip.invalid`` /
``capture.tcp.invalid`` naming the problem, the frame is skipped and decoding goes on with
the next. The first ``MAX_BAD_HEADERS`` of each rule are reported one by one, the rest
counted in one record at the end, so a flood of them cannot flood the output (and a
sharded run reports them as one process does).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import pcapbuild
import pytest
import scenarios
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_pcap.capture import MAX_BAD_HEADERS
from pcaphelp import decode_frames, errors, project

import ioproto
from ioproto.jsonform import dumps

Frame = tuple[float, int, bytes]
IP = 14  # where the IPv4 header starts in an Ethernet frame
TCP = IP + 20


def _set(frame: bytes, at: int, byte: int) -> bytes:
    return frame[:at] + bytes([byte]) + frame[at + 1 :]


def _ihl(words: int) -> Callable[[bytes], bytes]:
    return lambda frame: _set(frame, IP, 0x40 | words)


def _offset(words: int) -> Callable[[bytes], bytes]:
    return lambda frame: _set(frame, TCP + 12, words << 4)


def _cut(size: int) -> Callable[[bytes], bytes]:
    """The IPv4 total length says ``size`` bytes (the frame stays as it is)."""
    return lambda frame: frame[: IP + 2] + struct.pack(">H", size) + frame[IP + 4 :]


def _frames() -> list[Frame]:
    return pcapbuild.render(scenarios.polling_flow().packets)


def _with_damaged_copy(damage: Callable[[bytes], bytes], at: int = 5) -> list[Frame]:
    """The polling flow with a damaged copy of its frame ``at`` (a data frame) after it:
    everything the flow carries is still there."""
    frames = _frames()
    ts, linktype, frame = frames[at]
    assert len(frame) > TCP + 20  # it carries data
    return [*frames[: at + 1], (ts, linktype, damage(frame)), *frames[at + 1 :]]


@pytest.mark.parametrize(
    ("damage", "rule", "problem"),
    [
        (_ihl(0), "capture.ip.invalid", "IPv4 header length of 0 bytes (under 20)"),
        (_ihl(4), "capture.ip.invalid", "IPv4 header length of 16 bytes (under 20)"),
        (
            lambda frame: _ihl(15)(frame)[: IP + 24],  # 60 bytes of header; 24 captured
            "capture.ip.invalid",
            "IPv4 header of 60 bytes runs past the packet (24 bytes left)",
        ),
        (
            lambda frame: _ihl(6)(_cut(22)(frame)),
            "capture.ip.invalid",
            "IPv4 total length of 22 bytes, under its header length of 24",
        ),
        (_offset(0), "capture.tcp.invalid", "TCP data offset of 0 bytes (under 20)"),
        (_offset(4), "capture.tcp.invalid", "TCP data offset of 16 bytes (under 20)"),
        (_cut(30), "capture.tcp.invalid", "TCP header cut short (10 of 20 bytes)"),
    ],
)
def test_each_bad_header_is_reported_and_the_rest_decoded(
    damage: Callable[[bytes], bytes], rule: str, problem: str
) -> None:
    records = decode_frames(_with_damaged_copy(damage))
    [error] = errors(records)
    assert (error.rule, error.reason) == (rule, f"{problem}: the frame is skipped")
    assert error.connection in ("10.0.0.1:51000-10.0.0.2:3000", "10.0.0.1-10.0.0.2")
    assert project([r for r in records if r is not error]) == project(decode_frames(_frames()))


def test_a_tcp_header_past_a_short_snap_length_names_it() -> None:
    frames = _frames()
    ts, linktype, frame = frames[5]
    damaged = _offset(15)(frame)[: TCP + 40]  # 60 bytes of header; 40 captured
    [error] = errors(decode_frames([*frames[:6], (ts, linktype, damaged), *frames[6:]]))
    assert error.reason == (
        "TCP header of 60 bytes runs past the packet (40 bytes left; a snap length too "
        "short?): the frame is skipped"
    )
    assert error.connection == "10.0.0.1:51000-10.0.0.2:3000"


def _flood(count: int) -> list[Frame]:
    frames = _frames()
    ts, linktype, frame = frames[5]
    bad = [(ts, linktype, _offset(2)(frame))] * count
    return [*frames[:6], *bad, *frames[6:]]


def test_a_flood_of_bad_headers_is_counted_not_listed() -> None:
    records = decode_frames(_flood(MAX_BAD_HEADERS + 150))
    reported = errors(records)
    assert len(reported) == MAX_BAD_HEADERS + 1
    assert reported[-1].rule == "capture.tcp.invalid"
    assert reported[-1].reason == (
        f"{MAX_BAD_HEADERS + 150} frames in all were skipped for a bad TCP header (the "
        f"first {MAX_BAD_HEADERS} are reported one by one)"
    )
    good = [r for r in records if r not in reported]
    assert project(good) == project(decode_frames(_frames()))


def test_as_many_as_the_limit_need_no_count() -> None:
    assert len(errors(decode_frames(_flood(MAX_BAD_HEADERS)))) == MAX_BAD_HEADERS


def test_a_sharded_run_reports_them_as_one_process(tmp_path: Path) -> None:
    frames = _flood(MAX_BAD_HEADERS + 3)
    later = scenarios.polling_flow(client=("10.0.0.5", 52000))
    for packet in later.packets:
        packet.ts += 100  # the count's time is that of the capture's last frame
    path = tmp_path / "flood.pcap"
    pcapbuild.write_pcap(path, frames + pcapbuild.render(later.packets))

    def decoded(jobs: int) -> list[str]:
        records = ioproto.decode(
            str(path),
            proto="socketio",
            classifiers=None,
            source_options={"parallel_min_bytes": "0", "shard": "true"},
            jobs=jobs,
        )
        return [dumps(record, include_raw=True) for record in records]

    alone = decoded(1)
    assert sum('"capture.tcp.invalid"' in line for line in alone) == MAX_BAD_HEADERS + 1
    count = json.loads(alone[-2])  # the last record before the summary
    assert count["rule"] == "capture.tcp.invalid"
    assert count["ts"] == pytest.approx(later.packets[-1].ts, abs=1e-5)
    for jobs in (2, 3):
        assert decoded(jobs) == alone, f"{jobs} workers"


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["ihl", "offset"]),
    st.integers(0, 4),
    st.integers(3, 30),
)
def test_any_bad_length_on_any_frame_is_one_record(field: str, words: int, at: int) -> None:
    """Whatever frame of the flow gets a copy with an IHL or a data offset under 5 words,
    the copy is one record and everything the flow carries is decoded as without it."""
    frames = _frames()
    at = min(at, len(frames) - 1)
    damage = _ihl(words) if field == "ihl" else _offset(words)
    ts, linktype, frame = frames[at]
    records = decode_frames([*frames[: at + 1], (ts, linktype, damage(frame)), *frames[at + 1 :]])
    [error] = errors(records)
    assert error.rule == ("capture.ip.invalid" if field == "ihl" else "capture.tcp.invalid")
    assert project([r for r in records if r is not error]) == project(decode_frames(frames))


def _v6_frames() -> list[Frame]:
    flow = pcapbuild.Flow(client=("fd00::1", 51000), server=("fd00::2", 3000)).handshake()
    flow.send(0, pcapbuild.http_request("GET", "/socket.io/?EIO=4&transport=polling&t=1"))
    flow.send(1, pcapbuild.http_response(200, b'0{"sid":"abc","upgrades":[]}'))
    return pcapbuild.render(flow.close().packets)


def _hop_by_hop(words: int) -> Callable[[bytes], bytes]:
    """A hop-by-hop options header of ``words`` + 1 eight-byte units (8 bytes of them
    captured) between the IPv6 header and the TCP header."""

    def damage(frame: bytes) -> bytes:
        (length,) = struct.unpack_from(">H", frame, IP + 4)
        header = frame[IP : IP + 40]
        header = header[:4] + struct.pack(">HB", length + 8, 0) + header[7:]
        extension = bytes([6, words]) + b"\x01\x04\0\0\0\0"  # then TCP; PadN
        return frame[:IP] + header + extension + frame[IP + 40 :]

    return damage


def test_an_ipv6_extension_header_past_the_packet_names_it() -> None:
    """Before, it was said to be a TCP header cut short (0 of 20 bytes)."""
    frames = _v6_frames()
    ts, linktype, frame = frames[3]  # the request
    good = (ts, linktype, _hop_by_hop(0)(frame))
    bad = (ts, linktype, _hop_by_hop(255)(frame))
    assert project(decode_frames([*frames[:3], good, *frames[4:]])) == project(
        decode_frames(frames)
    )
    records = decode_frames([*frames[:4], bad, *frames[4:]])
    [error] = errors(records)
    left = len(frame) - IP - 40 + 8
    assert (error.rule, error.reason, error.connection) == (
        "capture.ip.invalid",
        f"IPv6 extension header of 2048 bytes runs past the packet ({left} bytes left): the "
        "frame is skipped",
        "[fd00::1]-[fd00::2]",
    )
    assert project([r for r in records if r is not error]) == project(decode_frames(frames))


def test_a_flood_of_bad_ip_headers_is_counted_as_ip() -> None:
    """The count of ``capture.ip.invalid`` says IP: IPv4 and IPv6 headers are counted."""
    frames = _v6_frames()
    ts, linktype, frame = frames[3]
    bad = [(ts, linktype, _hop_by_hop(255)(frame))] * (MAX_BAD_HEADERS + 1)
    [*_, count] = errors(decode_frames([*frames, *bad]))
    assert count.reason == (
        f"{MAX_BAD_HEADERS + 1} frames in all were skipped for a bad IP header (the first "
        f"{MAX_BAD_HEADERS} are reported one by one)"
    )
