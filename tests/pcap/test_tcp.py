"""TCP reassembly: unit cases, invariance under segmentation/reordering/duplication, gaps."""

from __future__ import annotations

import dataclasses
import itertools

import pcapbuild
import scenarios
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_pcap.tcp import Reassembler
from pcaphelp import chunks, decode_frames, errors, per_direction


class Sink:
    def __init__(self) -> None:
        self.data = bytearray()
        self.gaps: list[tuple[int, int]] = []

    def reassembler(self, **kwargs: int) -> Reassembler:
        return Reassembler(self.data.extend, lambda o, n: self.gaps.append((o, n)), **kwargs)


def test_in_order_and_wraparound() -> None:
    sink = Sink()
    r = sink.reassembler()
    r.syn(0xFFFFFFFD)
    r.add(0xFFFFFFFE, b"ab")
    r.add(0, b"cd")  # wrapped
    r.add(2, b"ef")
    assert bytes(sink.data) == b"abcdef" and not sink.gaps


def test_out_of_order_overlap_first_wins() -> None:
    sink = Sink()
    r = sink.reassembler()
    r.syn(99)
    r.add(104, b"FGH")
    r.add(104, b"xyzIJ")  # longer retransmission: first bytes win, the tail is new
    r.add(100, b"abcd")
    r.add(101, b"QQ")  # old data
    r.add(102, b"cdEfgh")  # overlap at both ends
    assert bytes(sink.data) == b"abcdFGHIJ"
    r.add(109, b"K")
    assert bytes(sink.data) == b"abcdFGHIJK"


def test_overflow_and_flush_report_gaps() -> None:
    sink = Sink()
    r = sink.reassembler(max_segments=2)
    r.syn(0)
    r.add(1, b"aa")
    r.add(10, b"x")
    r.add(20, b"y")
    r.add(30, b"z")  # third pending segment: the first hole is declared lost
    assert sink.gaps == [(2, 7)]
    assert bytes(sink.data) == b"aax"
    r.flush()
    assert sink.gaps == [(2, 7), (10, 9), (20, 9)]
    assert bytes(sink.data) == b"aaxyz"


def test_ack_declares_hole_lost() -> None:
    sink = Sink()
    r = sink.reassembler()
    r.syn(0)
    r.add(1, b"aa")
    r.add(5, b"bb")
    r.acked(4)  # the peer got bytes we never saw
    assert sink.gaps == [(2, 2)] and bytes(sink.data) == b"aabb"


def test_fin_before_data() -> None:
    sink = Sink()
    r = sink.reassembler()
    r.syn(0)
    r.fin(3, 0)
    assert not r.finished
    r.add(1, b"ab")
    assert r.finished


# -- whole captures ---------------------------------------------------------------------------


def _flows() -> list[pcapbuild.Flow]:
    return [
        scenarios.polling_flow(mss=700),
        scenarios.websocket_flow(mss=700, client_takeover=True),
    ]


FLOWS = _flows()
REFERENCE = decode_frames(
    pcapbuild.render(sorted((p for f in FLOWS for p in f.packets), key=lambda p: p.ts))
)


def test_reference_is_clean() -> None:
    assert not errors(REFERENCE) and len(chunks(REFERENCE)) > 30


@st.composite
def mangled(draw: st.DrawFn, packets: list[pcapbuild.TcpPacket]) -> list[pcapbuild.TcpPacket]:
    head, body = packets[:3], []
    for p in packets[3:]:
        # capture-point reordering with ACKs kept would mean "the peer got data we never
        # saw" (a hole declared lost): mangle the data flow only
        p = dataclasses.replace(p, flags=p.flags & ~pcapbuild.ACK, ack=0)
        if len(p.payload) > 1 and draw(st.booleans()):
            cuts = sorted(draw(st.sets(st.integers(1, len(p.payload) - 1), max_size=3)))
            bounds = [0, *cuts, len(p.payload)]
            for a, b in itertools.pairwise(bounds):
                body.append(dataclasses.replace(p, seq=p.seq + a, payload=p.payload[a:b]))
        else:
            body.append(p)
    for _ in range(draw(st.integers(0, 5))):
        i = draw(st.integers(0, len(body) - 1))
        q = body[i]
        if q.payload:
            cut = draw(st.integers(1, len(q.payload)))
            where = draw(st.integers(max(0, i - 3), len(body)))
            body.insert(where, dataclasses.replace(q, payload=q.payload[:cut]))
    for _ in range(draw(st.integers(0, 8))):
        i = draw(st.integers(0, len(body) - 2))
        j = min(len(body) - 1, i + draw(st.integers(1, 6)))
        body[i], body[j] = body[j], body[i]
    out = head + body
    for number, p in enumerate(out):
        p.ts = 1_700_000_000 + number * 0.001
    return out


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_segmentation_reordering_duplication_invariance(data: st.DataObject) -> None:
    packets = []
    for flow in FLOWS:
        packets += data.draw(mangled([dataclasses.replace(p) for p in flow.packets]))
    records = decode_frames(pcapbuild.render(packets))
    assert not errors(records)
    assert per_direction(records) == per_direction(REFERENCE)


def test_gap_resumes_at_next_message() -> None:
    flow = scenarios.polling_flow(mss=100_000)
    lost = next(p for p in flow.packets if p.payload.startswith(b"POST"))
    packets = [p for p in flow.packets if p is not lost]
    records = decode_frames(pcapbuild.render(packets))
    gaps = [e for e in errors(records) if e.rule == "capture.tcp.gap"]
    assert len(gaps) == 1
    gap = gaps[0]
    assert gap.connection == "10.0.0.1:51000-10.0.0.2:3000" and gap.direction == "c2s"
    assert gap.offset is not None and f"{len(lost.payload)} bytes" in gap.reason
    got = [(c.direction, c.http.method, c.http.query_value("t"), c.data) for c in chunks(records)]
    # the lost POST and GET are gone; later requests are decoded and paired correctly
    assert ("c2s", "POST", None, b"40") not in got
    assert ("c2s", "GET", "3", b"") in got
    assert ("s2c", "GET", "3", b"2") in got
    assert ("s2c", "POST", None, b"ok") in got  # the later, chunked POST
    assert ("s2c", "GET", "5", b"6") in got
    assert not [c for c in chunks(records) if c.direction == "s2c" and c.data == scenarios.BIG]


def test_gap_in_response_body_resumes() -> None:
    flow = scenarios.polling_flow(mss=30)
    # lose a segment in the middle of the chunked gzip response
    bodies = [p for p in flow.packets if p.src == "10.0.0.2" and p.payload]
    start = next(i for i, p in enumerate(bodies) if b"gzip" in p.payload)
    lost = bodies[start + 3]
    assert b"ext=1" in lost.payload
    records = decode_frames(pcapbuild.render([p for p in flow.packets if p is not lost]))
    assert [e.rule for e in errors(records)] == ["capture.tcp.gap"]
    responses = [(c.http.query_value("t"), c.data) for c in chunks(records) if c.direction == "s2c"]
    assert ("3", b"2") in responses and ("5", b"6") in responses
    assert not any(data == scenarios.BIG for _, data in responses)


def test_gap_in_websocket_with_context_takeover() -> None:
    flow = scenarios.websocket_flow(mss=60_000)
    # lose the first compressed server message: later ones cannot be inflated
    lost = next(p for p in flow.packets if p.src == "10.0.0.2" and p.payload[:1] == b"\xc1")
    records = decode_frames(pcapbuild.render([p for p in flow.packets if p is not lost]))
    rules = [e.rule for e in errors(records)]
    assert rules[0] == "capture.tcp.gap"
    assert "capture.websocket.inflate" in rules
    s2c = [c.data for c in chunks(records) if c.direction == "s2c"]
    assert s2c[-2:] == [b"2", b"\x03\xe8"]  # uncompressed messages after the gap still come
    c2s = [c.data for c in chunks(records) if c.direction == "c2s"]
    assert scenarios.BIG + b"!" in c2s  # the other direction is unaffected
