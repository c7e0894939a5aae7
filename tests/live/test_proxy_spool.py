"""The spool between the relay's pipe and the decoder: order kept through memory and file,
budgets held, nothing lost while it has room (ioproto_proxy.spool)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_proxy.channel import BATCH, frame
from ioproto_proxy.spool import Spool

from ioproto.testing.strategies import chunked


class Count:
    """A stand-in for the shared counter (``multiprocessing.RawValue``)."""

    def __init__(self) -> None:
        self.value = 0


def batches(sizes: list[int]) -> list[bytes]:
    """One frame per size: a batch whose only event carries ``size`` bytes, numbered."""
    return [
        frame(BATCH, [(0, index, 0.0, bytes([index % 256]) * size)], size)
        for index, size in enumerate(sizes)
    ]


def read_all(spool: Spool, count: int, pause: float = 0.0) -> list[Any]:
    got: list[Any] = []
    deadline = time.monotonic() + 30
    while len(got) < count and time.monotonic() < deadline:
        got += spool.read(0.5)
        time.sleep(pause)
    return got


def writer(fd: int, frames: list[bytes]) -> threading.Thread:
    def write() -> None:
        with os.fdopen(fd, "wb", buffering=0) as pipe:
            for item in frames:
                pipe.write(item)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 5000), min_size=1, max_size=60),
    memory=st.integers(0, 12000),
    disk=st.integers(0, 400_000),
)
def test_frames_come_out_in_order_through_memory_and_file(
    sizes: list[int], memory: int, disk: int
) -> None:
    read_end, write_end = os.pipe()
    taken = Count()
    spool = Spool(read_end, taken, memory + disk, memory=memory)
    frames = batches(sizes)
    thread = writer(write_end, frames)
    time.sleep(0.01)  # let the spool fill up before anything is read
    try:
        got = read_all(spool, len(frames))
        thread.join(5)
        assert [(kind, events[0][1], len(events[0][3])) for kind, events in got] == [
            (BATCH, index, size) for index, size in enumerate(sizes)
        ]
        assert taken.value == sum(sizes)
        assert spool.waiting == 0
        deadline = time.monotonic() + 5
        while not spool.eof and time.monotonic() < deadline:
            time.sleep(0.01)
        assert spool.eof
    finally:
        spool.close()


@settings(max_examples=30, deadline=None)
@given(data=st.data(), sizes=st.lists(st.integers(0, 3000), min_size=1, max_size=40))
def test_frames_cut_anywhere_by_the_pipe_come_out_whole(data: Any, sizes: list[int]) -> None:
    """The relay's writes and the spool's reads need not meet at frame boundaries: a read
    may end inside a frame's header or payload, or hold many frames."""
    # drawn first: a draw hypothesis gives up on ends the example here, and a spool made
    # before it would wait for a writer that never comes, its thread and pipe left behind
    pieces = data.draw(chunked(b"".join(batches(sizes)), max_pieces=60))
    read_end, write_end = os.pipe()
    taken = Count()
    spool = Spool(read_end, taken, 1 << 20)

    def write() -> None:
        with os.fdopen(write_end, "wb", buffering=0) as pipe:
            for piece in pieces:
                pipe.write(piece)
                time.sleep(0.0005)  # let the spool read each piece on its own

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        got = read_all(spool, len(sizes))
        thread.join(5)
        assert [(events[0][1], len(events[0][3])) for _, events in got] == list(enumerate(sizes))
        assert taken.value == sum(sizes)
    finally:
        spool.close()


def test_what_waits_stays_within_the_budget_and_uses_the_file() -> None:
    read_end, write_end = os.pipe()
    taken = Count()
    spool = Spool(read_end, taken, 60_000, memory=10_000)
    frames = batches([1000] * 200)  # 200 kB: more than memory and file together
    thread = writer(write_end, frames)
    deadline = time.monotonic() + 5
    while spool.waiting < 55_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    # the budget counts frame bytes (a little more than their data): full, and no more
    assert 50_000 <= spool.waiting <= 60_000
    assert spool.spilled_bytes > 0
    assert taken.value == spool.waiting  # the rest is still in the pipe: the relay's bound
    got = read_all(spool, len(frames))
    thread.join(5)
    assert [events[0][1] for _, events in got] == list(range(200))
    spool.close()


def test_close_while_the_relay_still_writes_releases_everything() -> None:
    read_end, write_end = os.pipe()
    spool = Spool(read_end, Count(), 10_000, memory=10_000)
    thread = writer(write_end, batches([1000] * 100))
    time.sleep(0.05)
    spool.close()  # discards; the thread reads on until the writer is done
    thread.join(5)
    assert not thread.is_alive()
    spool.close()
    assert spool.fd == -1
