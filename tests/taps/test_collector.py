"""The collector against hostile and broken senders, on real sockets (TCP and unix).

Garbage, mutated records and streams cut anywhere never raise out of ``poll``; each bad line
is one error record and the good records around it still become chunks; every bound
(``max_line``, ``max_buffered``, ``max_connections``) holds and is reported.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_http.records import Chunk
from ioproto_tap import wire
from ioproto_tap.collector import Address, CollectLimits, Collector, parse_address

from ioproto.model import ErrorRecord, Record
from ioproto.testing.strategies import chunked, mutated

HELLO = wire.dumps({"t": "hello", "v": 1, "tap": "test", "lib": "test/1", "pid": 1, "host": "h"})
OPEN = wire.dumps(
    {
        "t": "open",
        "ts": 1.0,
        "sid": "S",
        "tr": "websocket",
        "eio": 4,
        "req": {
            "m": "GET",
            "u": "/socket.io/?EIO=4&transport=websocket",
            "h": [["User-Agent", "t"]],
        },
    }
)


def packet(n: int, data: str | None = None) -> bytes:
    record = {"t": "p", "ts": 2.0 + n, "sid": "S", "d": "c2s", "tr": "websocket"}
    return wire.dumps({**record, "p": f"4m{n}" if data is None else data})


@pytest.fixture
def collector() -> Iterator[Collector]:
    limits = CollectLimits(max_line=4096, max_buffered=64 * 1024, max_connections=4)
    c = Collector([Address(port=0)], limits)
    c.start()
    yield c
    c.close()


def connect(collector: Collector) -> socket.socket:
    address = collector.listening[0]
    return socket.create_connection((address.host, address.port))


def gather(collector: Collector, until: float = 0.5, stop_when: int | None = None) -> list[Record]:
    out: list[Record] = []
    deadline = time.monotonic() + 10
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        got = collector.poll(0.05)
        if got:
            out.extend(got)
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > until:
            break
        if stop_when is not None and len([r for r in out if isinstance(r, Chunk)]) >= stop_when:
            break
    return out


def messages(records: list[Record]) -> list[bytes]:
    return [r.data for r in records if isinstance(r, Chunk)]


def rules(records: list[Record]) -> list[str]:
    return [r.rule for r in records if isinstance(r, ErrorRecord)]


def test_good_records_around_bad_lines_still_arrive(collector: Collector) -> None:
    sock = connect(collector)
    sock.sendall(
        HELLO
        + OPEN
        + packet(1)
        + b"{not json\n"
        + b"[1,2]\n"
        + packet(2)
        + b'{"t":"p","ts":"x"}\n'
        + b'{"t":"what"}\n'
        + packet(3)
    )
    out = gather(collector, stop_when=3)
    sock.close()
    out += gather(collector)
    assert messages(out) == [b"4m1", b"4m2", b"4m3"]
    assert rules(out) == [
        "collect.record.bad-json",
        "collect.record.not-object",
        "collect.record.bad-field",
        "collect.record.unknown-kind",
    ]
    first = next(r for r in out if isinstance(r, Chunk))
    assert first.http is not None and first.http.request_header("user-agent") == "t"


def test_a_stream_without_hello_or_of_another_version_is_closed(collector: Collector) -> None:
    for first, rule in [
        (packet(1), "collect.hello.missing"),
        (b"GET / HTTP/1.1\r\n\r\n\n", "collect.hello.missing"),
        (wire.dumps({"t": "hello", "v": 2}), "collect.version.unsupported"),
    ]:
        sock = connect(collector)
        sock.sendall(first + packet(2))
        out = gather(collector)
        assert rule in rules(out) and not messages(out)
        sock.settimeout(5)
        assert sock.recv(10) == b""  # closed by the collector
        sock.close()


def test_a_line_longer_than_the_limit_is_skipped_not_buffered(collector: Collector) -> None:
    sock = connect(collector)
    sock.sendall(HELLO + OPEN + packet(1))
    huge = packet(0, "4" + "x" * 20000)
    sender = threading.Thread(target=sock.sendall, args=(huge + packet(2),))
    sender.start()
    out = gather(collector, stop_when=2)
    sender.join()
    assert messages(out) == [b"4m1", b"4m2"]
    assert rules(out) == ["collect.record.too-large"]
    assert collector.buffered <= 4096
    sock.close()


def test_partial_lines_of_all_taps_stay_within_the_budget() -> None:
    limits = CollectLimits(max_line=40_000, max_buffered=50_000, max_connections=8)
    c = Collector([Address(port=0)], limits)
    c.start()
    try:
        socks = [connect(c) for _ in range(3)]
        for sock in socks:
            sock.sendall(HELLO + packet(0, "4" + "y" * 30_000)[:30_000])
        out = gather(c)
        # each 30 kB partial line beyond the first takes the total over 50 kB
        assert rules(out).count("collect.buffer.full") == 2
        assert c.buffered <= 50_000
        assert c.connections == 1
    finally:
        for sock in socks:
            sock.close()
        c.close()


def test_connections_beyond_the_limit_are_refused(collector: Collector) -> None:
    socks = [connect(collector) for _ in range(6)]
    for sock in socks:
        sock.sendall(HELLO)
    out = gather(collector)
    assert collector.connections == 4
    assert rules(out).count("collect.connections.full") == 1  # reported once a second at most
    for sock in socks:
        sock.close()


def test_a_tap_that_dies_mid_record_is_reported_and_the_others_go_on(collector: Collector) -> None:
    a, b = connect(collector), connect(collector)
    a.sendall(HELLO + OPEN + packet(1) + packet(2)[:10])
    b.sendall(HELLO + OPEN)
    gather(collector)
    a.close()
    b.sendall(packet(3))
    out = gather(collector, stop_when=1)
    assert "collect.record.truncated" in rules(out + gather(collector))
    assert b"4m3" in messages(out)
    b.close()


def test_a_drop_report_and_a_reconnection_hello_become_error_records(collector: Collector) -> None:
    sock = connect(collector)
    hello = wire.dumps({"t": "hello", "v": 1, "dropped": 7})
    drop = wire.dumps({"t": "drop", "ts": 3.0, "n": 5, "b": 500, "total_n": 12, "total_b": 1200})
    sock.sendall(hello + drop)
    out = gather(collector)
    assert rules(out) == ["collect.tap.dropped", "collect.tap.dropped"]
    sock.close()


def test_unix_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "c.sock")
    c = Collector([parse_address(f"unix:{path}")])
    c.start()
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.connect(path)
        sock.sendall(HELLO + OPEN + packet(1))
        assert messages(gather(c, stop_when=1)) == [b"4m1"]
        sock.close()
    finally:
        c.close()
    assert not Path(path).exists()


STREAM = HELLO + OPEN + b"".join(packet(n) for n in range(5))


SLOW_OK = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW_OK)
@given(data=st.data())
def test_garbage_mutated_and_split_streams_never_break_the_collector(
    collector: Collector, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(["garbage", "mutated", "split"]))
    if kind == "garbage":
        stream = data.draw(st.binary(max_size=2000))
    elif kind == "mutated":
        stream = data.draw(mutated(STREAM, max_edits=8))
    else:
        stream = STREAM
    sock = connect(collector)
    out: list[Record] = []
    for piece in data.draw(chunked(stream, max_pieces=12)):
        try:
            sock.sendall(piece)
        except OSError:
            break  # the collector closed it (no hello): fine
        out += collector.poll(0)
    sock.close()
    out += gather(collector, until=0.2)
    assert all(isinstance(r, Chunk | ErrorRecord) for r in out)
    if kind == "split":
        assert messages(out) == [f"4m{n}".encode() for n in range(5)] and not rules(out)
    assert collector.connections == 0 and collector.buffered == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9000", Address(port=9000)),
        ("0.0.0.0:1", Address(host="0.0.0.0", port=1)),
        ("[::1]:5", Address(host="::1", port=5)),
        ("unix:/x", Address(path="/x")),
    ],
)
def test_addresses(text: str, expected: Address) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["host", "1:99999", "unix:", ":x"])
def test_bad_addresses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_address(text)
