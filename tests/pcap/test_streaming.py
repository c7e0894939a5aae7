"""A capture read from a pipe (tcpdump's live output, stdin) yields each frame as soon as its
last byte has arrived, and the same frames as the file read at once, however the bytes are
split."""

from __future__ import annotations

import itertools
import os
import queue
import threading
from collections.abc import Callable

import pcapbuild
import pytest
import scenarios
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_pcap.files import FrameReader

FRAMES = pcapbuild.render(scenarios.websocket_flow(mss=500).packets)[:12]
WRITERS: dict[str, Callable[..., bytes]] = {
    "pcap": pcapbuild.write_pcap,
    "pcapng": pcapbuild.write_pcapng,
}


def pieces(writer: Callable[..., bytes]) -> tuple[bytes, list[bytes]]:
    """The capture's header, then the bytes each frame adds to it."""
    sizes = [len(writer("/dev/null", FRAMES[:n])) for n in range(1, len(FRAMES) + 1)]
    whole = writer("/dev/null", FRAMES)
    header = whole[: sizes[0] - (sizes[1] - sizes[0])]
    ends = [len(header), *sizes]
    return header, [whole[start:end] for start, end in itertools.pairwise(ends)]


@pytest.mark.parametrize("kind", WRITERS)
def test_each_frame_is_yielded_as_it_arrives(kind: str) -> None:
    header, frames = pieces(WRITERS[kind])
    read_fd, write_fd = os.pipe()
    got: queue.Queue[object] = queue.Queue()

    def read() -> None:
        with open(read_fd, "rb") as stream:
            for frame in FrameReader(stream):
                got.put(frame)
        got.put(None)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        os.write(write_fd, header)
        for number, data in enumerate(frames):
            os.write(write_fd, data)
            # The writer keeps the pipe open: only a reader that does not wait for more
            # bytes than the frame needs can deliver it.
            frame = got.get(timeout=10)
            assert FRAMES[number][1:] == frame[1:]  # type: ignore[index]
    finally:
        os.close(write_fd)
        thread.join(10)
    assert got.get(timeout=1) is None


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(WRITERS)), st.lists(st.integers(1, 400), max_size=40))
def test_any_split_gives_the_same_frames(kind: str, cuts: list[int]) -> None:
    whole = WRITERS[kind]("/dev/null", FRAMES)
    read_fd, write_fd = os.pipe()
    got: list[object] = []

    def read() -> None:
        with open(read_fd, "rb") as stream:
            got.extend(FrameReader(stream))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    pos = 0
    for cut in cuts:
        os.write(write_fd, whole[pos : pos + cut])
        pos += cut
    os.write(write_fd, whole[pos:])
    os.close(write_fd)
    thread.join(10)
    assert [frame[1:] for frame in FRAMES] == [frame[1:] for frame in got]  # type: ignore[index]
