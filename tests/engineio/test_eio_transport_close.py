"""A session ends when its WebSocket closes: the Engine.IO layer's ``transport-close``.

The stream decides from the connection's own records (it may run in a worker process):
the first close frame on a WebSocket that is its session's transport (opened on it, or
upgraded to it with the client's ``upgrade`` packet), or the end of that WebSocket's TCP
connection without a close frame (:class:`~ioproto_http.records.WebSocketEnd`), becomes an
:class:`~ioproto_engineio.records.EngineIOTransportClose`; a probe's WebSocket closing
ends nothing. The real captures' side is in tests/insight/test_session_ends.py.
"""

from __future__ import annotations

from eio_helpers import chunk, stream
from hypothesis import given
from hypothesis import strategies as st
from ioproto_engineio.decoder import EngineIODecoder
from ioproto_engineio.records import TRANSPORT_CLOSED, EngineIOTransportClose
from ioproto_http.records import (
    ABNORMAL_CLOSURE,
    Chunk,
    ChunkKind,
    WebSocketEnd,
    close_status,
)
from ioproto_socketio.testing import engineio_url

import ioproto
from ioproto.components import Limits

HANDSHAKE = b'0{"sid":"s1","upgrades":[],"pingInterval":300,"pingTimeout":200}'
WS = ChunkKind.WS_TEXT


def close_frame(payload: bytes = b"", *, connection: str = "ws1", **fields: object) -> Chunk:
    fields.setdefault("ts", 2.0)
    fields.setdefault("direction", "c2s")
    sid = fields.pop("sid", None)
    return Chunk(
        kind=ChunkKind.WS_CONTROL,
        type="ws-close",
        data=payload,
        connection=connection,
        http=engineio_url(sid=sid, transport="websocket"),
        **fields,  # type: ignore[arg-type]
    )


def test_close_frame_of_a_websocket_only_session_closes_it() -> None:
    decoder = stream()
    list(decoder.feed(chunk(HANDSHAKE, WS, connection="ws1", transport="websocket")))
    (closed,) = decoder.feed(close_frame(b"\x03\xe9going away"))
    assert isinstance(closed, EngineIOTransportClose)
    assert (closed.sid, closed.transport, closed.direction) == ("s1", "websocket", "c2s")
    assert (closed.code, closed.message, closed.type) == (1001, "going away", "transport-close")
    assert closed.raw == b"\x03\xe9going away" and closed.parent is not None
    # the other side's answering close frame is only a close frame
    (echo,) = decoder.feed(close_frame(direction="s2c"))
    assert isinstance(echo, Chunk) and echo.type == "ws-close" and echo.sid == "s1"


def test_upgraded_websocket_closing_closes_the_session() -> None:
    decoder = stream()
    probe = chunk(b"2probe", WS, connection="ws1", sid="s1", transport="websocket")
    list(decoder.feed(probe))
    list(decoder.feed(chunk(b"5", WS, connection="ws1", sid="s1", transport="websocket")))
    (closed,) = decoder.feed(close_frame(sid="s1"))
    assert isinstance(closed, EngineIOTransportClose) and closed.sid == "s1"
    assert (closed.code, closed.message) == (None, None)


def test_a_probe_that_never_upgraded_ends_nothing() -> None:
    """An upgrade that fails: the session goes on over polling."""
    decoder = stream()
    probe = chunk(b"2probe", WS, connection="ws1", sid="s1", transport="websocket")
    list(decoder.feed(probe))
    (frame,) = decoder.feed(close_frame(sid="s1"))
    assert isinstance(frame, Chunk) and frame.type == "ws-close"
    assert frame.sid == "s1"  # attributed to its session, as every control frame


def test_other_control_frames_and_other_connections_end_nothing() -> None:
    decoder = stream()
    list(decoder.feed(chunk(HANDSHAKE, WS, connection="ws1", transport="websocket")))
    ping = Chunk(kind=ChunkKind.WS_CONTROL, type="ws-ping", data=b"", connection="ws1", ts=1.5)
    (same,) = decoder.feed(ping)
    assert isinstance(same, Chunk) and same.sid == "s1"
    (other,) = decoder.feed(close_frame(connection="ws2"))
    assert isinstance(other, Chunk) and other.sid is None


def test_connection_ending_without_a_close_frame_closes_the_session() -> None:
    decoder = stream()
    list(decoder.feed(chunk(HANDSHAKE, WS, connection="ws1", transport="websocket")))
    end = WebSocketEnd(ts=3.0, connection="ws1", reason="the connection was reset (RST)")
    (closed,) = decoder.feed(end)
    assert isinstance(closed, EngineIOTransportClose)
    assert closed.code == ABNORMAL_CLOSURE
    assert closed.message == "no close frame: the connection was reset (RST)"
    assert closed.parent is end and closed.raw == b""


def test_the_end_of_a_probe_connection_passes_through_attributed() -> None:
    decoder = stream()
    probe = chunk(b"2probe", WS, connection="ws1", sid="s1", transport="websocket")
    list(decoder.feed(probe))
    end = WebSocketEnd(
        ts=3.0, connection="ws1", reason="the connection closed (FIN)", http=probe.http
    )
    (passed,) = decoder.feed(end)
    assert isinstance(passed, WebSocketEnd) and passed.sid == "s1"


def test_what_is_known_survives_relearning_the_same_sid() -> None:
    """Chunks of interleaved connections make the stream learn a URL's sid again; that must
    not forget that the WebSocket became the transport."""
    decoder = stream()
    list(decoder.feed(chunk(b"5", WS, connection="ws1", sid="s1")))
    list(decoder.feed(chunk(b"4x", ChunkKind.HTTP_RESPONSE, connection="poll", sid="s1")))
    list(decoder.feed(chunk(b"4y", WS, connection="ws1", sid="s1")))
    (closed,) = decoder.feed(close_frame(sid="s1"))
    assert isinstance(closed, EngineIOTransportClose)


def test_the_map_is_bounded_in_bytes_not_by_the_session_limit() -> None:
    # max_sessions counts the store's sessions; a connection's sid must outlive its
    # session's eviction, or its close frame would end nothing
    decoder = stream(limits=Limits(max_sessions=2, max_state_bytes=3 * 210))
    for number in range(5):
        hello = b'0{"sid":"s%d","upgrades":[],"pingInterval":1,"pingTimeout":1}' % number
        list(decoder.feed(chunk(hello, WS, connection=f"ws{number}")))
    assert len(decoder._sids) == 3
    assert decoder._sids_cost <= 3 * 210
    (forgotten,) = decoder.feed(close_frame(connection="ws1"))
    assert isinstance(forgotten, Chunk)
    (closed,) = decoder.feed(close_frame(connection="ws2"))
    assert isinstance(closed, EngineIOTransportClose) and closed.sid == "s2"


def test_ends_session_says_why() -> None:
    decoder = EngineIODecoder()
    closed = EngineIOTransportClose(ts=1.0, sid="s1")
    assert decoder.ends_session(closed) == TRANSPORT_CLOSED == "transport closed"
    assert decoder.ends_session(close_frame()) is None


def test_the_pipeline_ends_the_session_at_the_close_frame() -> None:
    pipeline = ioproto.Pipeline.build(proto="engineio")  # with the classifiers: sessions
    ends = []
    pipeline.announcing = lambda session, end: ends.append((session.key, end.reason, end.ts))
    pipeline.feed(chunk(HANDSHAKE, WS, connection="ws1", transport="websocket", ts=1.0))
    assert ends == []
    pipeline.feed(close_frame(ts=2.0))
    assert ends == [("s1", "transport closed", 2.0)]
    pipeline.close()
    assert ends == [("s1", "transport closed", 2.0)]  # not ended again at the input's end


@given(st.binary(max_size=125))
def test_close_status_reads_any_payload(payload: bytes) -> None:
    code, message = close_status(payload)
    if len(payload) < 2:
        assert (code, message) == (None, None)
    else:
        assert code == int.from_bytes(payload[:2], "big")
        assert (message is None) == (len(payload) == 2)
        if message is not None:
            assert message == payload[2:].decode("utf-8", "replace")
