"""A WebSocket frame over ``max_payload`` is skipped by its length, not taken for a bad frame.

Its header is valid: its message is one ``capture.websocket.invalid`` record (``message larger
than … bytes``, as for a fragmented message over the limit), its payload is skipped as it
arrives, never held, and the frames after it, in the same TCP segments, decode. Before, the
direction resynchronised as after a bad frame, and the messages in the rest of the segments
it ended in were lost. A compressed one is inflated as it passes, within ``KEEP_IN_STEP``
times the limit, so that the compression context stays in step. A length past
``MAX_TRUSTED_LENGTH`` is a bad frame still. A TCP gap inside such a frame counts down its
skip (the direction stays in step) instead of resynchronising it.
"""

from __future__ import annotations

import itertools
import random
import struct

import pcapbuild
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_http.decoder import HttpStream
from ioproto_http.masking import unmask
from ioproto_http.websocket import KEEP_IN_STEP, MAX_TRUSTED_LENGTH, probe_frames
from ioproto_pcap.capture import CaptureDecoder
from pcaphelp import chunks, errors

from ioproto.components import DecodeContext, Limits, SourceContext
from ioproto.model import ErrorRecord, Record

LIMIT = 1 << 20
MASK = b"\x37\xfa\x21\x3d"
INVALID = "capture.websocket.invalid"


def _frame(
    opcode: int, payload: bytes, *, masked: bool, fin: bool = True, rsv1: bool = False
) -> bytes:
    """A frame as :func:`pcapbuild.ws_frame` makes it, masked at C speed (a 24 MB payload)."""
    head = pcapbuild.ws_frame(opcode, b"", fin=fin, rsv1=rsv1)[:1]
    size = len(payload)
    bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += struct.pack("!BH", bit | 126, size)
    else:
        head += struct.pack("!BQ", bit | 127, size)
    return head + MASK + unmask(payload, MASK) if masked else head + payload


def _tick(n: int, masked: bool) -> bytes:
    return _frame(1, b'42["tick",%d]' % n, masked=masked)


def _decode(
    side: int,
    stream: list[bytes],
    extensions: str | None = None,
    mss: int = 60_000,
    limit: int = LIMIT,
    lost: range = range(0),
    midstream: bool = False,
) -> tuple[list[Record], int]:
    """The records of a WebSocket connection whose ``side`` sends each piece of ``stream``
    cut in ``mss``-byte segments, the ``lost`` ones (by their number among them) missing
    from the capture (and with ``midstream`` its handshake and upgrade), and the most the
    ``http`` layer held at once."""
    flow = pcapbuild.Flow()
    if not midstream:
        flow = pcapbuild.websocket_upgrade(flow.handshake(), extensions)
    before = len(flow.packets)
    for piece in stream:
        flow.send(side, piece, mss)
    segments = flow.packets[before:]
    gone = {id(segments[number]) for number in lost}
    packets = [p for p in flow.close().packets if id(p) not in gone]
    context = SourceContext(options={}, limits=Limits(max_payload=limit))
    source = CaptureDecoder(context)
    for ts, linktype, frame in pcapbuild.render(packets):
        source.frame(ts, linktype, frame)
    source.finish()
    from ioproto_engineio.decoder import EngineIODecoder

    http = HttpStream(
        DecodeContext(limits=context.limits, options={}, wanted=EngineIODecoder().accepts)
    )
    out: list[Record] = []
    held = 0
    for record in source.out:
        if isinstance(record, ErrorRecord):
            out.append(record)
            continue
        out.extend(http.feed(record))
        held = max(held, http.buffered)
    out.extend(http.close())
    return out, held


def _messages(records: list[Record]) -> list[bytes]:
    return [c.data for c in chunks(records) if c.kind != "ws-control"]


def _reasons(records: list[Record]) -> list[tuple[str, str]]:
    return [(e.rule, e.reason) for e in errors(records)]


def test_the_messages_after_a_large_frame_in_its_segments_decode() -> None:
    """A 24 MB frame between messages, under a 1 MiB limit, each side (the client's masked),
    all in 60 kB segments: one record for it, every other message, nothing held."""
    for side, masked in ((1, False), (0, True)):
        big = _frame(2, bytes(range(256)) * (24 * 4096), masked=masked)
        stream = b"".join([_tick(0, masked), big, *(_tick(n, masked) for n in range(1, 6))])
        records, held = _decode(side, [stream])
        assert _messages(records) == [b'42["tick",%d]' % n for n in range(6)]
        assert _reasons(records) == [(INVALID, f"message larger than {LIMIT} bytes")]
        assert held < 64 * 1024  # at most a segment: never the frame


def test_a_fragmented_message_with_a_large_frame_is_one_record() -> None:
    """Frames before and after the large one in the same message are dropped with it."""
    frames = [
        _frame(1, b"a" * 1000, masked=False, fin=False),
        _frame(0, b"b" * (3 * LIMIT), masked=False, fin=False),
        _frame(0, b"c" * (2 * LIMIT), masked=False, fin=False),
        _frame(9, b"ping", masked=False),
        _frame(0, b"d" * 10, masked=False),
        _tick(1, False),
    ]
    records, _ = _decode(1, [b"".join(frames)])
    assert _messages(records) == [b'42["tick",1]']
    assert [c.data for c in chunks(records) if c.kind == "ws-control"] == [b"ping"]
    assert _reasons(records) == [(INVALID, f"message larger than {LIMIT} bytes")]


def _deflated(deflater: pcapbuild.Deflater, n: int, masked: bool) -> bytes:
    return _frame(1, deflater.compress(b'42["tick",%d]' % n), masked=masked, rsv1=True)


def test_a_large_compressed_frame_keeps_the_context_in_step() -> None:
    """3 MiB of 16 letters, compressed to about 1.6 MB (over the limit): inflated as it
    passes, so the compressed messages after it decode; the client's masked ones in odd
    segments, its mask key turned at each."""
    letters = random.Random(7).choices(b"abcdefghijklmnop", k=3 << 20)
    for side, masked in ((1, False), (0, True)):
        deflater = pcapbuild.Deflater()
        first = _deflated(deflater, 0, masked)
        payload = deflater.compress(bytes(letters))
        assert LIMIT < len(payload) < 2 * LIMIT
        big = _frame(1, payload, masked=masked, rsv1=True)
        after = [_deflated(deflater, n, masked) for n in (1, 2)]
        stream = b"".join([first, big, *after])
        records, held = _decode(side, [stream], "permessage-deflate", mss=1399)
        assert _messages(records) == [b'42["tick",%d]' % n for n in range(3)]
        assert _reasons(records) == [(INVALID, f"message larger than {LIMIT} bytes")]
        assert held < 64 * 1024


def test_past_keep_in_step_times_the_limit_the_context_is_let_go() -> None:
    """A compressed frame of 20 MB of noise inflates beyond 16 times the limit: the context
    is let go as for a fragmented message; the uncompressed messages after it decode."""
    deflater = pcapbuild.Deflater()
    noise = random.Random(3).randbytes((KEEP_IN_STEP + 4) * LIMIT)
    stream = b"".join(
        [
            _frame(2, deflater.compress(noise), masked=False, rsv1=True),
            _deflated(deflater, 1, False),
            _tick(2, False),
        ]
    )
    records, _ = _decode(1, [stream], "permessage-deflate")
    assert _messages(records) == [b'42["tick",2]']
    assert _reasons(records) == [
        (INVALID, f"message larger than {LIMIT} bytes"),
        (
            "capture.websocket.inflate",
            "compressed message whose compression context was let go after a message "
            f"inflated beyond {KEEP_IN_STEP} times the limit ({KEEP_IN_STEP * LIMIT} bytes); "
            "later compressed messages are dropped",
        ),
    ]


def test_a_length_past_the_trusted_one_is_a_bad_frame() -> None:
    """A header claiming more than a TiB is bytes out of step: the direction resynchronises
    where a later segment starts, as after any bad frame."""
    bogus = b"\x82\x7f" + struct.pack("!Q", MAX_TRUSTED_LENGTH + 1) + b"xyz"
    records, _ = _decode(1, [_tick(0, False) + bogus + _tick(1, False), _tick(2, False)])
    assert _messages(records) == [b'42["tick",0]', b'42["tick",2]']
    [(rule, reason)] = _reasons(records)
    assert rule == INVALID
    assert reason.startswith(
        f"frame of {MAX_TRUSTED_LENGTH + 1} bytes: a length past {MAX_TRUSTED_LENGTH} bytes "
        "is not trusted; the frames after it are looked for again"
    )


def test_a_large_frame_cut_by_the_end_is_not_reported_twice() -> None:
    big = _frame(2, b"x" * (3 * LIMIT), masked=False)
    records, _ = _decode(1, [_tick(0, False) + big[: 2 * LIMIT]])
    assert _messages(records) == [b'42["tick",0]']
    assert _reasons(records) == [(INVALID, f"message larger than {LIMIT} bytes")]


SMALL = 1000


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(1, 30_000), max_size=8),
    st.booleans(),
    st.booleans(),
)
def test_any_cut_of_the_stream_gives_the_same_records(
    cuts: list[int], masked: bool, compressed: bool
) -> None:
    """Frames over the limit (a small one here) among others, the stream cut into segments
    at any points: the same messages and errors as in one piece."""
    deflater = pcapbuild.Deflater()
    rng = random.Random(5)
    frames = []
    for n in range(6):
        body = b'42["tick",%d]' % n
        if n % 2:
            body += rng.randbytes(n * 2500)  # over the limit compressed too
        if compressed:
            frames.append(_frame(1, deflater.compress(body), masked=masked, rsv1=True))
        else:
            frames.append(_frame(1, body, masked=masked))
    stream = b"".join(frames)
    points = sorted({min(cut, len(stream)) for cut in cuts} | {0, len(stream)})
    pieces = [stream[a:b] for a, b in itertools.pairwise(points) if b > a]
    extensions = "permessage-deflate" if compressed else None
    whole, _ = _decode(0 if masked else 1, [stream], extensions, limit=SMALL)
    cut, _ = _decode(0 if masked else 1, pieces, extensions, limit=SMALL)
    assert _messages(whole) == [b'42["tick",%d]' % n for n in (0, 2, 4)]
    assert _reasons(whole) == [(INVALID, f"message larger than {SMALL} bytes")] * 3
    assert (_messages(cut), _reasons(cut)) == (_messages(whole), _reasons(whole))


GAP = "capture.tcp.gap"


def test_a_gap_inside_a_large_frame_only_counts_down_its_skip() -> None:
    """Segments lost in the middle of a 24 MB frame: the skip counts them off, and every
    message after the frame decodes (before, the direction resynchronised and the messages
    in the rest of the segment where the frame ended were lost)."""
    for side, masked in ((1, False), (0, True)):
        big = _frame(2, bytes(range(256)) * (24 * 4096), masked=masked)
        stream = b"".join([_tick(0, masked), big, *(_tick(n, masked) for n in range(1, 6))])
        records, held = _decode(side, [stream], lost=range(100, 103))
        assert _messages(records) == [b'42["tick",%d]' % n for n in range(6)]
        assert [rule for rule, _ in _reasons(records)] == [INVALID, GAP]
        assert held < 64 * 1024


def test_a_gap_running_past_a_large_frame_resynchronises() -> None:
    """A gap that ends after the frame: where the next frame starts is not known; the
    direction looks for frames again where a segment starts, as after any gap."""
    big = _frame(2, b"x" * (3 * LIMIT), masked=False)
    tail = b"".join(_tick(n, False) for n in range(1, 4))
    stream = _tick(0, False) + big + tail
    last = (len(big) + 14) // 60_000  # the segment where the frame ends, with ticks 1-3
    records, _ = _decode(1, [stream, _tick(4, False)], lost=range(last - 1, last + 1))
    assert _messages(records) == [b'42["tick",0]', b'42["tick",4]']
    assert [rule for rule, _ in _reasons(records)] == [INVALID, GAP]


def test_a_gap_inside_a_large_compressed_frame_loses_only_the_context() -> None:
    """Lost inside a compressed frame being inflated to keep the context in step: the
    context is gone (the later compressed messages are dropped, the reason a gap's), the
    uncompressed ones after it decode."""
    letters = random.Random(7).choices(b"abcdefghijklmnop", k=3 << 20)
    deflater = pcapbuild.Deflater()
    big = _frame(1, deflater.compress(bytes(letters)), masked=False, rsv1=True)
    stream = b"".join(
        [_deflated(deflater, 0, False), big, _deflated(deflater, 1, False), _tick(2, False)]
    )
    records, _ = _decode(1, [stream], "permessage-deflate", mss=1399, lost=range(500, 501))
    assert _messages(records) == [b'42["tick",0]', b'42["tick",2]']
    reasons = _reasons(records)
    assert [rule for rule, _ in reasons] == [INVALID, GAP, "capture.websocket.inflate"]
    assert reasons[2][1] == (
        "compressed message whose compression context started before the capture (or a gap); "
        "later compressed messages are dropped"
    )


def test_a_large_frame_where_a_pick_up_starts_counts_as_a_frame() -> None:
    """A connection picked up mid-stream at a 3 MB frame: the probe takes its valid header
    for a frame, the parser skips it by its length, and the messages after it decode
    (before, it was "not WebSocket", and so was the rest of the connection)."""
    for side, masked in ((1, False), (0, True)):
        big = _frame(2, b"x" * (3 * LIMIT), masked=masked)
        stream = big + b"".join(_tick(n, masked) for n in range(4))
        records, _ = _decode(side, [stream], midstream=True)
        assert _messages(records) == [b'42["tick",%d]' % n for n in range(4)]
        assert _reasons(records) == [(INVALID, f"message larger than {LIMIT} bytes")]


def test_a_large_frame_where_frames_are_looked_for_again_counts_as_a_frame() -> None:
    """After a gap, the first segment starts with a 3 MB frame: the direction is back in
    step there, not after it (before, the messages in its last segment were lost)."""
    big = _frame(2, b"x" * (3 * LIMIT), masked=False)
    tail = b"".join(_tick(n, False) for n in range(2, 5))
    stream = [_tick(0, False), _tick(1, False), big + tail]
    records, _ = _decode(1, stream, lost=range(1, 2))
    assert _messages(records) == [b'42["tick",%d]' % n for n in (0, 2, 3, 4)]
    assert [rule for rule, _ in _reasons(records)] == [GAP, INVALID]


def test_the_probe_trusts_a_length_up_to_the_trusted_one() -> None:
    header = b"\x82\x7f" + struct.pack("!Q", MAX_TRUSTED_LENGTH)
    assert probe_frames(header) == 2
    assert probe_frames(b"\x82\x7f" + struct.pack("!Q", MAX_TRUSTED_LENGTH + 1)) == 0
