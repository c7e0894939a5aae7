"""Every file format and link layer gives the same chunks."""

from __future__ import annotations

import io
import sys

import pcapbuild
import pytest
import scenarios
from ioproto_pcap.source import PcapSource
from pcaphelp import chunks, decode_file, errors, project


@pytest.fixture(scope="module")
def packets() -> list[pcapbuild.TcpPacket]:
    return scenarios.mixed_packets()


@pytest.fixture(scope="module")
def reference(packets, tmp_path_factory) -> list:
    path = tmp_path_factory.mktemp("ref") / "ref.pcap"
    pcapbuild.write_pcap(path, pcapbuild.render(packets))
    records = decode_file(path)
    assert not errors(records)
    return records


def test_reference_content(reference) -> None:
    found = chunks(reference)
    kinds = {str(c.kind) for c in found}
    assert kinds == {"http-request", "http-response", "ws-text", "ws-binary", "ws-control"}
    # polling: 7 Engine.IO requests (favicon dropped), 7 responses (HEAD's is empty)
    polling = [c for c in found if c.connection == "10.0.0.1:51000-10.0.0.2:3000"]
    assert [c.data for c in polling if c.direction == "s2c"] == [
        scenarios.OPEN,
        b"ok",
        scenarios.BIG,
        b"2",
        b"",
        b"ok",
        b"6",
    ]
    assert [c.http.method for c in polling if c.direction == "c2s"] == [
        "GET",
        "POST",
        "GET",
        "GET",
        "HEAD",
        "POST",
        "GET",
    ]
    first = polling[0]
    assert first.sid is None and first.http.query_value("EIO") == "4"
    assert first.http.query_value("t") == "N8hyd6w" and first.http.path == "/socket.io/"
    response = next(c for c in polling if c.direction == "s2c")
    assert response.http.status == 200 and response.http.request_header("user-agent")
    assert response.http.request_ts is not None and response.http.request_ts <= response.ts
    assert response.http.header("content-type") == "text/plain; charset=UTF-8"
    assert all(c.http.query_value("sid") == scenarios.SID for c in polling[2:])
    ws = [c for c in found if c.connection == "10.0.0.1:51001-10.0.0.2:3000"]
    got = [(c.direction, str(c.kind), c.data) for c in ws]
    assert got == scenarios.expected_ws_messages(deflate=True)
    assert all(c.http.status == 101 and c.http.request_header("user-agent") for c in ws)
    assert all(c.http.query_value("sid") == scenarios.SID for c in ws)
    v6 = [c for c in found if c.connection == "[fd00::1]:51002-[fd00::2]:3000"]
    assert [(c.direction, str(c.kind), c.data) for c in v6] == scenarios.expected_ws_messages(
        deflate=False
    )
    assert all(c.http.query_value("sid") is None for c in v6)
    assert [c.seq for c in found] == list(range(1, len(found) + 1))
    assert [c.ts for c in found] == sorted(c.ts for c in found)


@pytest.mark.parametrize("kind", sorted(pcapbuild.LINKTYPES))
def test_link_layers(kind, packets, reference, tmp_path) -> None:
    path = tmp_path / "x.pcap"
    pcapbuild.write_pcap(path, pcapbuild.render(packets, kind))
    assert project(decode_file(path)) == project(reference)


@pytest.mark.parametrize(
    "options",
    [
        {"big_endian": True},
        {"nanos": True},
        {"big_endian": True, "nanos": True},
        {"compress": True},
    ],
)
def test_pcap_variants(options, packets, reference, tmp_path) -> None:
    path = tmp_path / "x.pcap"
    pcapbuild.write_pcap(path, pcapbuild.render(packets), **options)
    records = decode_file(path)
    assert project(records) == project(reference)
    assert [r.ts for r in records] == pytest.approx([r.ts for r in reference], abs=2e-6)
    assert PcapSource().probe(str(path)) > 0


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"big_endian": True, "spread": 3},
        {"resolutions": {0: 9, 1: 0x80 | 20}, "spread": 2},
        {"compress": True, "spread": 2},
    ],
)
def test_pcapng_variants(options, packets, reference, tmp_path) -> None:
    # several link types in one file: each interface has its own
    frames = pcapbuild.render(packets[::2], "ethernet") + pcapbuild.render(packets[1::2], "sll2")
    frames.sort(key=lambda f: f[0])
    path = tmp_path / "x.pcapng"
    pcapbuild.write_pcapng(path, frames, **options)
    records = decode_file(path)
    assert project(records) == project(reference)
    assert [r.ts for r in records] == pytest.approx([r.ts for r in reference], abs=2e-6)
    assert PcapSource().probe(str(path)) > 0


def test_simple_packet_blocks_take_the_time_of_the_packet_before(
    packets, reference, tmp_path
) -> None:
    # A Simple Packet Block has no timestamp: time 0 (1970) would wreck latencies and rates.
    frames = pcapbuild.render(packets)
    path = tmp_path / "simple.pcapng"
    pcapbuild.write_pcapng(path, frames, simple=set(range(1, len(frames), 2)))
    records = decode_file(path)
    assert project(records) == project(reference)
    times = [r.ts for r in records]
    assert min(times) >= frames[0][0] and times == sorted(times)


def test_stdin(packets, reference, monkeypatch) -> None:
    data = pcapbuild.write_pcap("/dev/null", pcapbuild.render(packets), compress=True)

    class FakeStdin:
        buffer = io.BufferedReader(io.BytesIO(data))

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    assert project(decode_file("-")) == project(reference)
    assert 0 < PcapSource().probe("-") < 1


def test_probe_rejects(tmp_path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("0{}\n")
    assert PcapSource().probe(str(path)) < 0
    assert PcapSource().probe(str(tmp_path / "missing.pcap")) < 0
