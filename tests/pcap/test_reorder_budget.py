"""What all TCP connections hold out of order together is bounded by the source option
``max_reorder_total`` (each direction alone is by ``max_reorder_bytes``): 120 connections
each holding 4 MB behind a hole took 506 MB. Past the budget, the stream whose hole has
waited longest gives up its holes and delivers what it held; the others, and later
connections, still decode."""

from __future__ import annotations

import pcapbuild
import scenarios
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_pcap.tcp import SEGMENT_OVERHEAD, Reassembler, ReorderBudget
from pcaphelp import chunks, decode_frames, errors

SERVER = ("10.0.0.2", 3000)


class Stream:
    """A reassembler on a shared budget, with what it delivered and declared lost."""

    def __init__(self, budget: ReorderBudget) -> None:
        self.data = bytearray()
        self.gaps: list[tuple[int, int]] = []
        self.gave_up: list[int] = []
        self.r = Reassembler(
            self.data.extend,
            lambda offset, length: self.gaps.append((offset, length)),
            budget=budget,
            on_give_up=self.gave_up.append,
        )
        self.r.syn(0)


def test_the_longest_waiting_hole_gives_up_first() -> None:
    budget = ReorderBudget(3 * (1000 + SEGMENT_OVERHEAD))
    first, second = Stream(budget), Stream(budget)
    first.r.add(11, b"a" * 1000)  # stream byte 10: a hole of 10 before it
    second.r.add(21, b"b" * 1000)
    second.r.add(1021, b"c" * 1000)
    assert budget.held == 3 * (1000 + SEGMENT_OVERHEAD) and not first.gaps
    second.r.add(2021, b"d" * 1000)  # over: the first stream waited longest
    assert first.gave_up == [1000] and first.gaps == [(0, 10)]
    assert bytes(first.data) == b"a" * 1000
    assert not second.gaps and budget.held == 3 * (1000 + SEGMENT_OVERHEAD)
    assert list(budget.waiting) == [second.r]
    second.r.add(1, b"x" * 20)  # the hole is filled: everything flows, nothing is held
    assert bytes(second.data) == b"x" * 20 + b"b" * 1000 + b"c" * 1000 + b"d" * 1000
    assert budget.held == 0 and not budget.waiting


def test_a_flood_of_tiny_segments_is_counted_with_their_overhead() -> None:
    budget = ReorderBudget(50 * (1 + SEGMENT_OVERHEAD))
    streams = [Stream(budget) for _ in range(10)]
    for index in range(1, 40):
        for stream in streams:
            stream.r.add(1 + 2 * index, b"z")  # every other byte: each its own segment
            assert budget.held <= budget.max_bytes
    assert sum(len(s.gave_up) for s in streams) > 0


@settings(max_examples=200, deadline=None)
@given(
    adds=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3000), st.integers(1, 400)), max_size=60
    ),
    total=st.integers(1, 4000),
)
def test_the_budget_holds_and_every_byte_is_delivered_or_lost_once(
    adds: list[tuple[int, int, int]], total: int
) -> None:
    budget = ReorderBudget(total)
    streams = [Stream(budget) for _ in range(4)]
    for index, offset, length in adds:
        stream = streams[index]
        stream.r.add(1 + offset, bytes([index + 65]) * length)
        assert budget.held <= total
        assert budget.held == sum(
            len(data) + SEGMENT_OVERHEAD for s in streams for data in s.r.pending.values()
        )
        assert set(budget.waiting) == {s.r for s in streams if s.r.pending}
    for stream in streams:
        stream.r.flush()
        assert len(stream.data) + sum(length for _, length in stream.gaps) == stream.r.offset
    assert budget.held == 0 and not budget.waiting


def held_behind_a_hole(port: int, size: int) -> pcapbuild.Flow:
    """A WebSocket connection whose client then sends ``size`` bytes after a lost segment."""
    flow = scenarios.websocket_flow(client=("10.0.0.1", port))
    flow.packets = [p for p in flow.packets if not p.flags & pcapbuild.FIN]
    flow.seq[0] += 100  # the segment that was never captured
    flow.send(0, b"y" * size)
    return flow


def test_connections_holding_too_much_give_up_and_a_later_connection_decodes() -> None:
    flows = [held_behind_a_hole(52000 + index, 60_000) for index in range(6)]
    later = scenarios.websocket_flow(client=("10.0.0.1", 53000))
    packets = sorted((p for flow in [*flows, later] for p in flow.packets), key=lambda p: p.ts)
    for offset, packet in enumerate(packets):
        packet.ts += offset * 1e-6  # keep the sorted order as the frames' times
    out = decode_frames(pcapbuild.render(packets), {"max_reorder_total": 200_000})
    gave_up = [e for e in errors(out) if e.rule == "capture.reorder.over-budget"]
    assert gave_up and "max_reorder_total" in gave_up[0].reason
    assert "10.0.0.1:52000 sent to 10.0.0.2:3000" in gave_up[0].reason
    later_name = "10.0.0.1:53000-10.0.0.2:3000"
    alone = decode_frames(pcapbuild.render(later.packets))
    assert chunks(alone)
    assert [c.data for c in chunks(out) if c.connection == later_name] == [
        c.data for c in chunks(alone)
    ]


def test_no_connection_gives_up_within_the_budget() -> None:
    flows = [held_behind_a_hole(52000 + index, 20_000) for index in range(3)]
    packets = [p for flow in flows for p in flow.packets]
    out = decode_frames(pcapbuild.render(packets), {"max_reorder_total": 200_000})
    assert not [e for e in errors(out) if e.rule == "capture.reorder.over-budget"]
