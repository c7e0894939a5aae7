"""What all connections of the HTTP layer hold of unfinished messages together is bounded by
``Limits.max_buffer_bytes`` (each alone is by ``max_payload``): many connections each in the
middle of a large body or fragmented WebSocket message held it all (40 bodies of 15 MB: 625
MB). Past the budget, the connection holding the most lets go, as if those bytes had been
lost, and the others, and later messages, still decode."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_http.decoder import HttpStream
from ioproto_tcp.records import TcpData, TcpOpen
from pcaphelp import chunks, errors, http_layer

from ioproto.components import DecodeContext, Limits, SourceContext

SERVER = "127.0.0.1:3000"


def connection(port: int) -> str:
    return f"127.0.0.1:{port}-{SERVER}"


def post(port: int, length: int) -> list[Any]:
    """A polling POST of ``length`` bytes announced, its head sent."""
    name = connection(port)
    head = (
        f"POST /socket.io/?EIO=4&transport=polling&sid=s{port} HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    return [
        TcpOpen(ts=0.0, connection=name, endpoints=(name.split("-")[0], SERVER), client=0),
        TcpData(ts=0.0, connection=name, side=0, data=head),
    ]


def body(port: int, data: bytes) -> TcpData:
    return TcpData(ts=0.0, connection=connection(port), side=0, data=data)


def test_unfinished_bodies_stay_within_the_budget_and_a_finished_one_still_decodes() -> None:
    budget = 100_000
    records: list[Any] = []
    for port in range(50000, 50010):
        records += post(port, 1_000_000)
    for _ in range(5):
        for port in range(50000, 50010):
            records.append(body(port, b"4" + b"x" * 9_999))
    records += post(50100, 11)
    records.append(body(50100, b"4hello body"))
    context = SourceContext(limits=Limits(max_buffer_bytes=budget))
    stream = HttpStream(DecodeContext(limits=context.limits))
    most = 0
    out: list[Any] = []
    for record in records:
        out += stream.feed(record)
        most = max(most, stream.buffered)
    assert most <= budget + 10_000  # over by one delivery at most, at once let go
    dropped = [e for e in errors(out) if e.rule == "capture.buffer.over-budget"]
    assert dropped and "limits.max_buffer_bytes (100000)" in dropped[0].reason
    assert [c.data for c in chunks(out)] == [b"4hello body"]


def test_nothing_is_dropped_under_the_budget() -> None:
    records: list[Any] = []
    for port in range(50000, 50004):
        records += post(port, 20_000)
        records += [body(port, b"4" + b"y" * 9_999), body(port, b"z" * 10_000)]
    out = http_layer(records, SourceContext(limits=Limits(max_buffer_bytes=80_000)))
    assert not errors(out)
    assert len(chunks(out)) == 4


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 30_000), min_size=1, max_size=40),
    budget=st.integers(1, 60_000),
)
def test_the_count_is_what_the_connections_hold(sizes: list[int], budget: int) -> None:
    """Whatever comes and goes, the layer's count equals what its conversations hold, and
    stays within the budget but for the delivery that crossed it."""
    stream = HttpStream(DecodeContext(limits=Limits(max_buffer_bytes=budget)))
    for port in range(50000, 50005):
        for record in post(port, 100_000):
            stream.feed(record)
    for step, size in enumerate(sizes):
        stream.feed(body(50000 + step % 5, b"4" * size))
        conversations = stream.conversations.values()
        held = sum(side.held() for each in conversations for side in each.sides)
        assert stream.buffered == held
        assert held <= budget + size
    for _ in stream.close():
        pass
    assert stream.buffered == 0
