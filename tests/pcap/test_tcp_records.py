"""The pcap source delivers TCP byte streams (the ``tcp`` layer) and nothing more."""

from __future__ import annotations

import pcapbuild
import scenarios
from ioproto_pcap.capture import CaptureDecoder
from ioproto_tcp.records import TcpClose, TcpData, TcpEvent, TcpFin, TcpOpen

from ioproto.components import SourceContext
from ioproto.model import Record


def tcp_records(packets: list[pcapbuild.TcpPacket]) -> list[Record]:
    decoder = CaptureDecoder(SourceContext())
    for frame in pcapbuild.render(packets):
        decoder.frame(*frame)
    decoder.finish()
    return list(decoder.out)


def streams(records: list[Record]) -> dict[tuple[str | None, int], bytes]:
    out: dict[tuple[str | None, int], bytes] = {}
    for record in records:
        if isinstance(record, TcpData):
            key = (record.connection, record.side)
            out[key] = out.get(key, b"") + record.data
    return out


def test_each_connection_opens_first_closes_last_and_names_the_client() -> None:
    flow = scenarios.polling_flow()
    records = tcp_records(flow.packets)
    assert all(isinstance(r, TcpEvent) for r in records)
    assert isinstance(records[0], TcpOpen) and isinstance(records[-1], TcpClose)
    opened = records[0]
    assert opened.endpoints == ("10.0.0.1:51000", "10.0.0.2:3000") and opened.client == 0
    assert [r for r in records if isinstance(r, TcpOpen | TcpClose)] == [records[0], records[-1]]
    assert sorted(r.side for r in records if isinstance(r, TcpFin)) == [0, 1]
    assert all(r.direction is None and r.sid is None for r in records)  # bytes, no meaning


def test_the_streams_hold_exactly_what_was_sent() -> None:
    flow = scenarios.polling_flow()
    sent: dict[int, bytes] = {0: b"", 1: b""}
    for packet in flow.packets:
        if packet.payload:
            side = 0 if packet.src == "10.0.0.1" else 1
            sent[side] += packet.payload
    got = streams(tcp_records(flow.packets))
    name = "10.0.0.1:51000-10.0.0.2:3000"
    assert got == {(name, 0): sent[0], (name, 1): sent[1]}
