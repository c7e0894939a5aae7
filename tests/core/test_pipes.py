"""Messages through a pipe between a reader process and this one (ioproto.pipes)."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioproto.pipes import PIPE_BYTES, MessageReader, send_message, widen

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=5) | st.tuples(inner, inner),
    max_leaves=20,
)


def _through_a_pipe(messages: list[Any]) -> list[Any]:
    """What a reader gets of ``messages`` sent by a writer thread, then the pipe closed."""
    reading, writing = os.pipe()

    def write() -> None:
        try:
            for message in messages:
                send_message(writing, message)
        finally:
            os.close(writing)

    writer = threading.Thread(target=write)
    writer.start()
    reader = MessageReader(reading)
    got = []
    try:
        while True:
            try:
                got.append(reader.recv())
            except EOFError:
                break
    finally:
        reader.close()
        writer.join()
    return got


@settings(max_examples=50, deadline=None)
@given(st.lists(values, max_size=8))
def test_messages_arrive_whole_and_in_order(messages: list[Any]) -> None:
    assert _through_a_pipe(messages) == messages


def test_messages_larger_than_the_pipe_and_its_buffer() -> None:
    large = [os.urandom(3 * PIPE_BYTES), b"", [b"x" * 70_000] * 40, "é" * 300_000]
    assert _through_a_pipe(large) == large


def test_a_writer_that_dies_in_the_middle_of_a_message_ends_the_reading() -> None:
    reading, writing = os.pipe()
    os.write(writing, b"\0\0\0\0\0\0\1\0partial")  # says 256 bytes, gives 7
    os.close(writing)
    reader = MessageReader(reading)
    with pytest.raises(EOFError):
        reader.recv()
    reader.close()


def test_writing_after_the_reader_has_gone_is_a_broken_pipe() -> None:
    reading, writing = os.pipe()
    widen(writing)
    MessageReader(reading).close()
    with pytest.raises(BrokenPipeError):
        send_message(writing, b"nobody listens")
    os.close(writing)
