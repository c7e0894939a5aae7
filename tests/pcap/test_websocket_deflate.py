"""permessage-deflate messages dropped for their size keep the shared compression context.

A compressed message that inflates beyond ``limits.max_payload``, or whose compressed frames
already exceed it, is reported and dropped, but still inflated (its output thrown away) so
that the messages after it, compressed with the same LZ77 context, decode. Past
``KEEP_IN_STEP`` times the limit the context is let go. Frames are built with zlib as a
permessage-deflate peer builds them (pcapbuild.Deflater); the real capture deflate.pcap
(Node ``ws``, perMessageDeflate threshold 0) is read with a limit its larger messages pass.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import pcapbuild
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_http.websocket import INFLATE, INVALID, KEEP_IN_STEP, WsDirection
from ioproto_pcap.capture import read_capture
from pcaphelp import chunks, decode_file, decode_frames, errors, http_layer

from ioproto.components import Limits, SourceContext
from ioproto.model import ErrorRecord, InputSummary

DATA = Path(__file__).resolve().parents[1] / "data"
LIMIT = 1000


def _frames(messages: list[bytes], *, fragment: int = 0, takeover: bool = True) -> bytes:
    """Server frames of ``messages``, each compressed (RSV1 on its first frame) and cut into
    frames of ``fragment`` compressed bytes (0: one frame each)."""
    deflater = pcapbuild.Deflater(takeover)
    out = []
    for message in messages:
        data = deflater.compress(message)
        size = fragment or max(len(data), 1)
        pieces = [data[at : at + size] for at in range(0, len(data), size)] or [b""]
        for index, piece in enumerate(pieces):
            out.append(
                pcapbuild.ws_frame(
                    0 if index else 1,
                    piece,
                    fin=index == len(pieces) - 1,
                    rsv1=not index,
                )
            )
    return b"".join(out)


def _parse(data: bytes, limit: int = LIMIT) -> list[tuple[str, bytes, str]]:
    ws = WsDirection(deflate=True, no_takeover=False, limit=limit)
    out: list[tuple[str, bytes, str]] = []
    assert len(data) == ws.parse(data, 0, out)
    return out


def _messages(events: list[tuple[str, bytes, str]]) -> list[bytes]:
    return [payload for kind, payload, _ in events if kind == "ws-text"]


def test_a_message_inflating_beyond_the_limit_does_not_lose_the_context() -> None:
    events = _parse(_frames([b"hello" * 10, b"x" * (5 * LIMIT), b"after hello", b"after"]))
    assert [(INVALID, f"message inflates beyond {LIMIT} bytes")] == [
        (kind, reason) for kind, _, reason in events if kind not in ("ws-text",)
    ]
    assert _messages(events) == [b"hello" * 10, b"after hello", b"after"]


def test_a_message_whose_compressed_frames_exceed_the_limit_does_not_lose_the_context() -> None:
    noise = random.Random(1).randbytes(3 * LIMIT)  # incompressible: 3000 compressed bytes
    data = _frames([b"hello" * 10, noise, b"after hello" * 3, noise[:500]], fragment=100)
    events = _parse(data)
    assert [(INVALID, f"message larger than {LIMIT} bytes")] == [
        (kind, reason) for kind, _, reason in events if kind != "ws-text"
    ]
    assert [b"hello" * 10, b"after hello" * 3, noise[:500]] == _messages(events)


@pytest.mark.parametrize("fragment", [0, 100])
def test_past_keep_in_step_times_the_limit_the_context_is_let_go(fragment: int) -> None:
    bomb = b"\0" * (KEEP_IN_STEP * LIMIT + 1)
    if fragment:  # compressed frames over the limit too: zeros with a little noise
        bomb = random.Random(2).randbytes(2 * LIMIT) + bomb
    data = _frames([b"before", bomb, b"after", b"again"], fragment=fragment)
    events = _parse(data + pcapbuild.ws_frame(1, b"plain"))
    rules = [kind for kind, _, _ in events if kind.startswith("capture.")]
    assert rules == [INVALID, INFLATE]  # one for the bomb, one for the messages it costs
    reason = next(reason for kind, _, reason in events if kind == INFLATE)
    assert f"beyond {KEEP_IN_STEP} times the limit" in reason
    assert _messages(events) == [b"before", b"plain"]  # an uncompressed message still decodes


def test_a_bomb_is_dropped_in_bounded_pieces() -> None:
    """A message inflating to 1 GiB under a 16 MiB limit: a MiB of compressed bytes, dropped
    in pieces (never all at once), and the context is let go at 16 x the limit."""
    limit = 16 * 1024 * 1024
    deflater = zlib.compressobj(wbits=-15)
    zeros = b"\0" * (1024 * 1024)
    body = b"".join(deflater.compress(zeros) for _ in range(1024))
    body += deflater.flush(zlib.Z_SYNC_FLUSH)[:-4]
    events = _parse(pcapbuild.ws_frame(1, body, rsv1=True), limit)
    assert [kind for kind, _, _ in events] == [INVALID]
    assert "its compression context was let go" in events[0][2]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"ab", b"lorem ipsum ", b"\0"]),
            st.integers(0, KEEP_IN_STEP * LIMIT // 16),  # never past KEEP_IN_STEP x LIMIT
            st.integers(0, 3 * LIMIT),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from([7, 300, 900]),  # frames within the limit: messages over it
    st.randoms(use_true_random=False),
)
def test_every_message_within_the_limit_decodes(
    shapes: list[tuple[bytes, int, int]], fragment: int, rnd: random.Random
) -> None:
    """Whatever is dropped around them, the messages within the limit (compressed and
    inflated) decode as they were sent."""
    messages = [unit * count + rnd.randbytes(noise) for unit, count, noise in shapes]
    events = _parse(_frames(messages, fragment=fragment))
    deflater = pcapbuild.Deflater()
    expected = [
        message
        for message in messages
        if len(deflater.compress(message)) <= LIMIT and len(message) <= LIMIT
    ]
    assert expected == _messages(events)
    assert {INVALID} >= {kind for kind, _, _ in events if kind != "ws-text"}
    assert len(messages) - len(expected) == sum(kind == INVALID for kind, _, _ in events)


def test_oversized_messages_in_a_capture_keep_the_next_ones() -> None:
    flow = pcapbuild.websocket_upgrade(pcapbuild.Flow().handshake(), "permessage-deflate")
    texts = [b'42["a"]', b'42["' + b"b" * 5000 + b'"]', b'42["c"]']
    flow.send(1, _frames(texts))
    records = decode_frames(
        pcapbuild.render(flow.close().packets), limits=Limits(max_payload=LIMIT)
    )
    assert [c.data for c in chunks(records)] == [b'42["a"]', b'42["c"]']
    assert [e.rule for e in errors(records)] == [INVALID]


def test_real_capture_with_a_limit_its_larger_messages_pass() -> None:
    """deflate.pcap (Node ws, context takeover both ways): with a 160-byte limit its five
    larger messages are dropped, every other message decodes as without a limit."""
    path = DATA / "deflate.pcap"
    if not path.exists():
        pytest.skip("no deflate capture")

    def websocket(limit: int | None) -> list[tuple[str | None, bytes]]:
        limits = Limits() if limit is None else Limits(max_payload=limit)
        context = SourceContext(limits=limits)
        records = http_layer(
            (r for r in read_capture(str(path), context) if not isinstance(r, InputSummary)),
            context,
        )
        out: list[tuple[str | None, bytes]] = []
        for record in records:
            if isinstance(record, ErrorRecord):
                if record.rule.startswith("capture.websocket"):
                    out.append((record.rule, record.reason.encode()))
            elif str(record.kind).startswith("ws-"):  # type: ignore[attr-defined]
                out.append((record.direction, record.data))  # type: ignore[attr-defined]
        return out

    whole = websocket(None)
    limited = websocket(160)
    dropped = [item for item in whole if len(item[1]) > 160]
    assert len(dropped) == 5
    assert [item for item in whole if len(item[1]) <= 160] == [
        item for item in limited if item[0] != INVALID
    ]
    assert [item for item in limited if item[0] == INVALID] == [
        (INVALID, b"message inflates beyond 160 bytes")
    ] * 5
    assert decode_file(str(path))  # and without a limit, as before
