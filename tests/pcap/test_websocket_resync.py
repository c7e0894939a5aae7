"""After a bad WebSocket frame, a direction looks for frames again where a TCP segment starts.

A frame that breaks the framing (an unknown opcode, reserved bits, a bad control frame, a
length past ``MAX_TRUSTED_LENGTH``; one merely over ``max_payload`` is skipped by its length:
test_websocket_oversized.py) is a ``capture.websocket.invalid`` record that says what happens
next; the rest of its segment is dropped (a bad frame's own length cannot be trusted), and
the frames of the following segments decode, as after lost bytes. Before, the direction
stopped for good: every later message of it was lost without a word.
"""

from __future__ import annotations

import pcapbuild
from hypothesis import given, settings
from hypothesis import strategies as st
from pcaphelp import chunks, decode_frames, errors

from ioproto.model import Record

AFTER = "; the frames after it are looked for again where a TCP segment starts"


def _server(segments: list[bytes], extensions: str | None = None) -> list[Record]:
    """What the http layer makes of a WebSocket connection whose server sends each of
    ``segments`` in one TCP segment."""
    flow = pcapbuild.websocket_upgrade(pcapbuild.Flow().handshake(), extensions)
    for segment in segments:
        flow.send(1, segment)
    return decode_frames(pcapbuild.render(flow.close().packets))


def _text(n: int) -> bytes:
    return pcapbuild.ws_frame(1, b'42["tick",%d]' % n)


def _messages(records: list[Record]) -> list[bytes]:
    return [c.data for c in chunks(records) if c.direction == "s2c"]


def test_the_segments_after_a_bad_frame_decode() -> None:
    records = _server([_text(0), b"\x83\x02hi", _text(1), _text(2)])
    assert _messages(records) == [b'42["tick",0]', b'42["tick",1]', b'42["tick",2]']
    [error] = errors(records)
    assert (error.rule, error.reason) == ("capture.websocket.invalid", "unknown opcode 0x3" + AFTER)
    assert error.raw == b"\x83\x02hi"


def test_the_rest_of_the_bad_frames_segment_is_dropped() -> None:
    records = _server([_text(0) + b"\xf1\x00" + _text(1), _text(2)])
    assert _messages(records) == [b'42["tick",0]', b'42["tick",2]']
    assert [e.reason for e in errors(records)] == ["reserved bits set (0x70)" + AFTER]


def test_a_segment_that_is_not_frames_is_skipped_until_one_is() -> None:
    records = _server([b"\x83\x00", b"{not frames at all}", _text(1)])
    assert _messages(records) == [b'42["tick",1]']
    assert len(errors(records)) == 1


def test_a_fragmented_message_in_progress_is_said_to_be_lost() -> None:
    first = pcapbuild.ws_frame(1, b'42["a",', fin=False)
    records = _server([first, b"\x8b\x00", _text(1)])  # 0xb: a reserved control opcode
    assert _messages(records) == [b'42["tick",1]']
    [error] = errors(records)
    assert error.reason == (
        "unknown opcode 0xb; the fragmented message in progress is lost" + AFTER
    )


def test_the_compression_context_is_let_go_at_a_bad_frame() -> None:
    deflater = pcapbuild.Deflater()
    records = _server(
        [
            pcapbuild.ws_frame(1, deflater.compress(b'42["tick",0]'), rsv1=True),
            b"\x83\x00",
            pcapbuild.ws_frame(1, deflater.compress(b'42["tick",1]'), rsv1=True),
            _text(2),
        ],
        "permessage-deflate",
    )
    assert _messages(records) == [b'42["tick",0]', b'42["tick",2]']
    assert [(e.rule, e.reason) for e in errors(records)][1] == (
        "capture.websocket.inflate",
        "compressed message whose compression context was let go at a bad frame; later "
        "compressed messages are dropped",
    )


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 6),
    st.sampled_from([0x83, 0x87, 0x8C, 0xF1, 0xB1, 0x09, 0x88]),
    st.booleans(),
)
def test_one_bad_frame_costs_only_its_segment(at: int, b0: int, masked: bool) -> None:
    """Whichever message's segment a bad frame (of any kind) is put in front of, that
    message is lost with one record, and every other message decodes."""
    segments = [_text(n) for n in range(7)]
    bad = bytes([b0, 0x7E, 0xFF, 0xFF]) if b0 == 0x88 else bytes([b0, 0x82 if masked else 2])
    segments[at] = bad + (b"\0" * 4 if masked and b0 != 0x88 else b"") + b"ab" + segments[at]
    records = _server(segments)
    assert _messages(records) == [b'42["tick",%d]' % n for n in range(7) if n != at]
    assert [e.rule for e in errors(records)] == ["capture.websocket.invalid"]
