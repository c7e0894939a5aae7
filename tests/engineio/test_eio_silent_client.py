"""A session whose client went silent ends with the input as its server ended it.

Engine.IO's servers end a session whose client sent nothing for ``pingInterval +
pingTimeout`` (revision 4: no pong to the ping; revision 3: no ping), and over polling
nothing on the wire says so. When the input ends, the Engine.IO stream's ``input_ended``
makes a ``transport-close`` (``message`` :data:`CLIENT_SILENT`) for each session still open
whose client had been silent that long and a second more, at the time its server's wait ran
out; the pipeline ends it ``ping timeout`` before ending the others ``input ended``. The real
capture's side is in tests/insight/test_session_ends.py (``polling_silent.pcap``).
"""

from __future__ import annotations

from typing import Any

from eio_helpers import chunk, stream
from hypothesis import given
from hypothesis import strategies as st
from ioproto_engineio.decoder import SILENCE_GRACE, EngineIODecoder, EngineIOStream
from ioproto_engineio.records import (
    CLIENT_SILENT,
    PING_TIMEOUT,
    EngineIOTransportClose,
)
from ioproto_http.records import Chunk, ChunkKind, WebSocketEnd

import ioproto
from ioproto.components import Limits
from ioproto.model import Record

REQUEST, RESPONSE, WS = ChunkKind.HTTP_REQUEST, ChunkKind.HTTP_RESPONSE, ChunkKind.WS_TEXT
#: pingInterval + pingTimeout: 0.5 s
HANDSHAKE = b'0{"sid":"%s","upgrades":[],"pingInterval":300,"pingTimeout":200}'


def opened(decoder: EngineIOStream, sid: str = "s1", ts: float = 1.0) -> None:
    hello = chunk(HANDSHAKE % sid.encode(), RESPONSE, ts=ts, direction="s2c", connection=sid)
    assert [r.type for r in decoder.feed(hello)] == ["open"]


def sent(
    decoder: EngineIOStream, data: bytes, ts: float, sid: str = "s1", **fields: Any
) -> list[Record]:
    fields.setdefault("direction", "c2s")
    kind = fields.pop("kind", REQUEST)
    return list(decoder.feed(chunk(data, kind, ts=ts, sid=sid, connection=sid, **fields)))


def test_a_client_silent_past_its_servers_wait_is_timed_out_at_that_wait() -> None:
    decoder = stream()
    opened(decoder)
    sent(decoder, b"3", ts=2.0)  # a pong
    sent(decoder, b"2", ts=2.2, direction="s2c", kind=RESPONSE)  # the server's: no sign
    (ended,) = decoder.input_ended(2.0 + 0.5 + SILENCE_GRACE + 0.01)
    assert isinstance(ended, EngineIOTransportClose)
    assert (ended.ts, ended.sid, ended.transport, ended.connection) == (2.5, "s1", "polling", "s1")
    assert ended.code is None and ended.direction is None and ended.parent is None
    assert ended.message == f"{CLIENT_SILENT}1.5 s, past pingInterval + pingTimeout (0.5 s)"
    assert EngineIODecoder().ends_session(ended) == PING_TIMEOUT == "ping timeout"


def test_within_the_wait_and_its_grace_the_session_stays_open() -> None:
    decoder = stream()
    opened(decoder)
    sent(decoder, b"3", ts=2.0)
    assert decoder.input_ended(2.0 + 0.5 + SILENCE_GRACE) == []


def test_a_session_that_ended_is_not_timed_out() -> None:
    decoder = stream()
    opened(decoder, "closed")
    sent(decoder, b"1", ts=1.1, sid="closed")  # the client's close packet
    ws_hello = chunk(HANDSHAKE % b"ws", WS, ts=1.0, direction="s2c", connection="w")
    list(decoder.feed(ws_hello))
    close_frame = Chunk(
        kind=ChunkKind.WS_CONTROL, type="ws-close", data=b"\x03\xe8", ts=1.2, connection="w"
    )
    (closed,) = decoder.feed(close_frame)
    assert isinstance(closed, EngineIOTransportClose)  # its WebSocket closed: it ended
    opened(decoder, "cut")
    end = WebSocketEnd(ts=1.2, connection="cut", reason="the connection closed (FIN)")
    list(decoder.feed(end))  # a polling connection: not its transport, so no end
    assert [r.sid for r in decoder.input_ended(100.0)] == ["cut"]


def test_a_websocket_session_is_heard_on_its_fast_path_too() -> None:
    decoder = stream()
    hello = chunk(HANDSHAKE % b"w", WS, ts=1.0, direction="s2c", connection="c1")
    list(decoder.feed(hello))
    pong = chunk(b"3", WS, ts=5.0, direction="c2s", connection="c1")
    assert [r.type for r in decoder.feed(pong)] == ["pong"]
    (ended,) = decoder.input_ended(10.0)
    assert (ended.ts, ended.transport, ended.connection) == (5.5, "websocket", "c1")


def test_without_the_handshakes_timing_no_verdict() -> None:
    decoder = stream()
    list(decoder.feed(chunk(b'0{"sid":"s1","upgrades":[]}', RESPONSE, ts=1.0, connection="c")))
    sent(decoder, b"3", ts=2.0)  # a session whose handshake the capture missed
    assert decoder.input_ended(100.0) == []


def test_the_sessions_end_in_the_order_their_wait_ran_out() -> None:
    decoder = stream()
    for number, last in ((1, 9.0), (2, 3.0), (3, 6.0)):
        opened(decoder, f"s{number}")
        sent(decoder, b"3", ts=last, sid=f"s{number}")
    assert [(r.sid, r.ts) for r in decoder.input_ended(100.0)] == [
        ("s2", 3.5),
        ("s3", 6.5),
        ("s1", 9.5),
    ]
    assert decoder.input_ended(100.0) == []  # said once


def test_the_map_of_silences_is_bounded_in_bytes() -> None:
    decoder = stream(limits=Limits(max_state_bytes=3 * 190))
    for number in range(6):
        opened(decoder, f"s{number}")
    assert decoder._silences_cost <= 3 * 190
    assert [r.sid for r in decoder.input_ended(100.0)] == ["s3", "s4", "s5"]


@given(
    st.lists(st.floats(min_value=0, max_value=60, allow_nan=False), max_size=20),
    st.floats(min_value=0, max_value=120, allow_nan=False),
)
def test_the_verdict_is_the_silence_since_the_last_sign_of_life(
    signs: list[float], after: float
) -> None:
    decoder = stream()
    opened(decoder, ts=0.0)
    for ts in sorted(signs):
        sent(decoder, b"3", ts=ts)
        sent(decoder, b"2", ts=ts + 0.1, direction="s2c", kind=RESPONSE)
    last = max(signs, default=0.0)
    ended = decoder.input_ended(last + after)
    assert len(ended) == (after > 0.5 + SILENCE_GRACE)
    assert all(record.ts == last + 0.5 for record in ended)


def test_the_pipeline_ends_a_silent_session_ping_timeout_before_the_others() -> None:
    pipeline = ioproto.Pipeline.build(proto="engineio")  # with the classifiers: sessions
    ends: list[tuple[object, str, float]] = []
    pipeline.announcing = lambda session, end: ends.append((session.key, end.reason, end.ts))
    for sid, ts in (("quiet", 1.0), ("busy", 1.0)):
        pipeline.feed(chunk(HANDSHAKE % sid.encode(), RESPONSE, ts=ts, sid=sid, direction="s2c"))
    pipeline.feed(chunk(b"3", REQUEST, ts=9.0, sid="busy", direction="c2s"))
    out = pipeline.finish()
    assert ends == [("quiet", PING_TIMEOUT, 1.5), ("busy", "input ended", 9.0)]
    summaries = [r for r in out if r.type == "summary"]
    assert [(s.sid, s.end_reason) for s in summaries] == [
        ("quiet", "ping timeout"),
        ("busy", "input ended"),
    ]


def test_as_time_passes_in_a_live_run_only_the_silent_end() -> None:
    decoder = stream()
    for sid in ("quiet", "talking"):
        opened(decoder, sid)
    sent(decoder, b"3", ts=4.0, sid="talking")
    (ended,) = decoder.time_passed(4.0)
    assert (ended.sid, ended.ts) == ("quiet", 1.5)
    assert decoder.time_passed(4.0) == []  # ended once
    sent(decoder, b"3", ts=5.0, sid="talking")
    assert decoder.time_passed(6.4) == []
    (later,) = decoder.time_passed(6.6)
    assert (later.sid, later.ts) == ("talking", 5.5)


def test_the_pipeline_lets_time_pass_only_while_it_is_fed() -> None:
    pipeline = ioproto.Pipeline.build(proto="engineio")
    assert pipeline.time_passed(100.0) == []  # nothing fed yet
    pipeline.feed(chunk(HANDSHAKE % b"quiet", RESPONSE, ts=1.0, sid="quiet", direction="s2c"))
    assert pipeline.time_passed(2.0) == []
    out = pipeline.time_passed(2.6)
    assert [(r.type, r.sid) for r in out] == [("transport-close", "quiet"), ("summary", "quiet")]
    assert out[1].end_reason == PING_TIMEOUT
    assert [r.type for r in pipeline.finish()] == []  # it ended: nothing more of it
    assert pipeline.time_passed(100.0) == []


#: The JSON parser refuses longer integer literals (an error record, as before).
_DIGITS = 10**99


@given(
    st.integers(min_value=-_DIGITS, max_value=_DIGITS),
    st.one_of(st.integers(-(2**40), 2**40), st.integers(min_value=-_DIGITS, max_value=_DIGITS)),
)
def test_any_timing_the_handshake_gives_loses_nothing(interval: int, timeout: int) -> None:
    """A handshake's numbers come off the network: one no server could wait (negative,
    more than a timer takes) is no verdict, never a failure."""
    decoder = stream()
    hello = b'0{"sid":"s1","upgrades":[],"pingInterval":%d,"pingTimeout":%d}' % (
        interval,
        timeout,
    )
    records = list(decoder.feed(chunk(hello, RESPONSE, ts=1.0, direction="s2c", connection="c")))
    assert [r.type for r in records] == ["open"]
    ended = decoder.input_ended(10.0**9)
    sane = 0 <= interval < 2**31 and 0 <= timeout < 2**31
    assert len(ended) == sane
