"""The parent's side of the tap: copied bytes become the records a capture would give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_engineio.decoder import EngineIODecoder
from ioproto_http.decoder import HttpStream
from ioproto_http.records import CONNECTION_ENDS, Chunk, ChunkKind
from ioproto_proxy.channel import CLOSE, DATA, ERROR, FIN, LOST, OPEN
from ioproto_proxy.streams import TapDecoder
from ioproto_tcp.records import TcpClose, TcpEvent

from ioproto.components import DecodeContext
from ioproto.model import ErrorRecord, Record

UPGRADE = (
    b"GET /socket.io/?EIO=4&transport=websocket&sid=abc HTTP/1.1\r\n"
    b"Host: 127.0.0.1:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
SWITCHED = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
)


def client_frame(text: bytes) -> bytes:
    """A masked text frame (mask 0, so the payload reads as is)."""
    return bytes([0x81, 0x80 | len(text)]) + b"\0\0\0\0" + text


def server_frame(text: bytes) -> bytes:
    return bytes([0x81, len(text)]) + text


def decode(events: list[tuple[int, int, float, object]]) -> list[Chunk | Record]:
    """The tap's events as the ``http`` layer decodes them (the proxy source's records)."""
    tap = TapDecoder()
    return http_layer([*tap.feed(events), *tap.finish(9.0)])


def http_layer(records: list[Record]) -> list[Record]:
    stream = HttpStream(DecodeContext())
    out: list[Record] = []
    for record in records:
        out += [record] if isinstance(record, ErrorRecord) else stream.feed(record)
    return out + list(stream.close())


def test_a_websocket_connection_becomes_chunks_like_a_capture() -> None:
    records = decode(
        [
            (OPEN, 1, 1.0, ("127.0.0.1:5000", "127.0.0.1:3000")),
            (DATA, 1, 1.1, UPGRADE),
            (DATA + 1, 1, 1.2, SWITCHED + server_frame(b'0{"sid":"abc"}')),
            (DATA, 1, 1.3, client_frame(b'42["hi"]')),
            (FIN, 1, 1.4, None),
            (CLOSE, 1, 1.5, None),
        ]
    )
    assert [(r.kind, r.direction, r.data, r.ts) for r in records if isinstance(r, Chunk)] == [
        (ChunkKind.WS_TEXT, "s2c", b'0{"sid":"abc"}', 1.2),
        (ChunkKind.WS_TEXT, "c2s", b'42["hi"]', 1.3),
    ]
    chunk = records[0]
    assert isinstance(chunk, Chunk)
    assert chunk.connection == "127.0.0.1:5000-127.0.0.1:3000"
    assert chunk.http is not None and chunk.http.method == "GET"
    assert chunk.http.query_value("sid") == "abc"  # for the Engine.IO layer
    assert not [r for r in records if isinstance(r, ErrorRecord)]


def test_a_close_says_why() -> None:
    """The relay's close reason (``reset`` when a peer reset its connection) is the
    ``TcpClose`` reason; a close without one (an older relay's) says ``closed``."""
    events: list[tuple[int, int, float, object]] = []
    for conn, reason in ((1, "reset"), (2, "closed"), (3, None)):
        events += [
            (OPEN, conn, 1.0, ("127.0.0.1:5000", "127.0.0.1:3000")),
            (CLOSE, conn, 1.1, reason),
        ]
    closes = [r for r in TapDecoder().feed(events) if isinstance(r, TcpClose)]
    assert [close.reason for close in closes] == ["reset", "closed", "closed"]


def test_dropped_bytes_are_a_gap_and_decoding_resumes() -> None:
    lost = client_frame(b'42["lost"]')
    records = decode(
        [
            (OPEN, 7, 1.0, ("127.0.0.1:5000", "127.0.0.1:3000")),
            (DATA, 7, 1.1, UPGRADE),
            (DATA + 1, 7, 1.2, SWITCHED),
            (DATA, 7, 1.3, client_frame(b'42["a"]')),
            (LOST, 7, 1.4, len(lost)),
            (DATA, 7, 1.5, client_frame(b'42["b"]')),
            (CLOSE, 7, 1.6, None),
        ]
    )
    gaps = [r for r in records if isinstance(r, ErrorRecord)]
    assert [g.rule for g in gaps] == ["capture.tcp.gap"]
    assert gaps[0].reason.startswith(f"{len(lost)} bytes lost")
    assert [r.data for r in records if isinstance(r, Chunk)] == [b'42["a"]', b'42["b"]']


def test_proxy_errors_carry_the_session_of_their_request() -> None:
    records = decode(
        [
            (OPEN, 2, 1.0, ("127.0.0.1:5000", "127.0.0.1:3000")),
            (ERROR, 2, 1.1, ("proxy.upstream.unreachable", "no", "/s/?sid=x&transport=polling")),
            (ERROR, 2, 1.2, ("proxy.request.invalid", "bad", None)),
            (ERROR, 99, 1.3, ("proxy.request.invalid", "unknown connection", None)),
        ]
    )
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    assert len(errors) == len(records)
    assert [(r.rule, r.sid, r.transport, r.layer, r.connection) for r in errors] == [
        ("proxy.upstream.unreachable", "x", "polling", "proxy", "127.0.0.1:5000-127.0.0.1:3000"),
        ("proxy.request.invalid", None, None, "proxy", "127.0.0.1:5000-127.0.0.1:3000"),
    ]


def test_a_revision_that_is_not_ascii_digits_is_unknown() -> None:
    # "EIO=%C2%B2" is "²", which passes str.isdigit() but not int(): it once crashed the
    # capture decoder, which the proxy shares.
    request = b"GET /socket.io/?EIO=%C2%B2&transport=polling HTTP/1.1\r\nHost: h\r\n\r\n"
    response = b'HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n0{"sid":"s"}'
    records = decode(
        [
            (OPEN, 3, 1.0, ("127.0.0.1:5000", "127.0.0.1:3000")),
            (DATA, 3, 1.1, request),
            (DATA + 1, 3, 1.2, response),
            (CLOSE, 3, 1.3, None),
        ]
    )
    chunks = [r for r in records if isinstance(r, Chunk)]
    assert [c.kind for c in chunks] == [ChunkKind.HTTP_REQUEST, ChunkKind.HTTP_RESPONSE]
    engineio = EngineIODecoder().open(DecodeContext())
    packets = [p for c in chunks for p in engineio.feed(c) if not isinstance(p, ErrorRecord)]
    assert packets and all(p.revision == 4 for p in packets)  # unknown: the default


_PIECES = [UPGRADE, SWITCHED, client_frame(b'42["x"]'), server_frame(b"3"), b"\x88\x00"]
_CONN = st.integers(1, 3)
_TS = st.floats(0, 10)
_EVENTS = st.one_of(
    st.tuples(st.just(OPEN), _CONN, _TS, st.just(("a:1", "b:2"))),
    st.tuples(
        st.sampled_from([DATA, DATA + 1]),
        _CONN,
        _TS,
        st.one_of(st.sampled_from(_PIECES), st.binary(max_size=64)),
    ),
    st.tuples(st.sampled_from([FIN, FIN + 1, CLOSE]), _CONN, _TS, st.none()),
    st.tuples(st.sampled_from([LOST, LOST + 1]), _CONN, _TS, st.integers(1, 99)),
    st.tuples(
        st.just(ERROR),
        _CONN,
        _TS,
        st.tuples(st.just("proxy.x"), st.text(max_size=5), st.none() | st.text(max_size=20)),
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_EVENTS, max_size=30), st.integers(1, 5))
def test_any_sequence_of_events_decodes_without_raising(
    events: list[tuple[int, int, float, object]], batches: int
) -> None:
    """Events in any order (data before an open, a gap after a close, garbage bytes, in
    any batching) give records, never an exception."""
    decoder = TapDecoder()
    size = max(1, len(events) // batches)
    tcp: list[Record] = []
    for start in range(0, len(events), size):
        tcp += decoder.feed(events[start : start + size])
    tcp += decoder.finish(9.0)
    assert all(isinstance(r, (TcpEvent, ErrorRecord)) for r in tcp)
    records = http_layer(tcp)
    assert all(isinstance(r, (Chunk, ErrorRecord, *CONNECTION_ENDS)) for r in records)


def test_the_decoder_counts_each_side_and_keeps_why_the_server_was_not_reached() -> None:
    """What the proxy says when nothing was decoded rests on these: the bytes of the
    connections closed and still open, gaps included, and the first unreachable reason."""
    tap = TapDecoder()
    tap.feed(
        [
            (OPEN, 1, 1.0, ("127.0.0.1:5000", "127.0.0.1:3000")),
            (DATA, 1, 1.1, b"GET / HTTP/1.1\r\n\r\n"),
            (DATA + 1, 1, 1.2, b"HTTP/1.1 200 OK\r\n"),
            (CLOSE, 1, 1.3, None),
            (OPEN, 2, 1.4, ("127.0.0.1:5001", "127.0.0.1:3000")),
            (DATA, 2, 1.5, b"GET"),
            (LOST, 2, 1.6, 10),
            (ERROR, 2, 1.7, ("proxy.upstream.unreachable", "cannot reach X: refused", None)),
            (ERROR, 2, 1.8, ("proxy.upstream.unreachable", "cannot reach X: later", None)),
        ]
    )
    assert tap.bytes_by_side() == (18 + 3 + 10, 17)
    assert tap.unreachable == "cannot reach X: refused"
    tap.finish(2.0)
    assert tap.bytes_by_side() == (31, 17)
