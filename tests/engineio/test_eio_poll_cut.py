"""A session whose waiting poll is cut off by its connection's end: ``transport-close`` (polling).

Engine.IO servers end a polling session when the connection of its pending request closes
before the answer (engine.io: "poll connection closed prematurely", then "transport error";
python-engineio's asyncio server alike). The HTTP layer says so with an ``http-unanswered``
record (:class:`~ioproto_http.records.UnansweredRequest`); the Engine.IO layer turns the one
of a polling request naming its session into that session's
:class:`~ioproto_engineio.records.EngineIOTransportClose`, unless a ``close`` packet ended the
session already. Real peers: tests/insight/test_session_ends.py (``polling_gone.pcap``).
"""

from __future__ import annotations

from eio_helpers import chunk, stream
from hypothesis import given
from hypothesis import strategies as st
from ioproto_engineio.records import EngineIOTransportClose
from ioproto_http.records import ChunkKind, HttpInfo, UnansweredRequest
from ioproto_socketio.testing import engineio_url

import ioproto
from ioproto.components import Limits
from ioproto.sessions import TOMBSTONE_OVERHEAD, TOMBSTONE_SHARE

REASON = "the connection closed (FIN)"
POLLING = ChunkKind.HTTP_RESPONSE


def unanswered(
    sid: str | None = "s1", transport: str | None = "polling", method: str = "GET", **fields: object
) -> UnansweredRequest:
    http = engineio_url(revision=4, sid=sid, transport=transport)
    assert http is not None
    fields.setdefault("ts", 5.0)
    fields.setdefault("connection", "poll9")
    return UnansweredRequest(
        direction="c2s",
        reason=REASON,
        http=HttpInfo(method=method, path=http.path, query=http.query),
        request_ts=4.0,
        **fields,  # type: ignore[arg-type]
    )


def test_a_cut_poll_closes_its_session() -> None:
    cut = unanswered()
    (closed,) = stream().feed(cut)
    assert isinstance(closed, EngineIOTransportClose)
    assert (closed.sid, closed.transport, closed.direction) == ("s1", "polling", "c2s")
    assert (closed.ts, closed.connection, closed.revision) == (5.0, "poll9", 4)
    assert (closed.code, closed.message) == (None, f"a poll left unanswered: {REASON}")
    assert closed.parent is cut and closed.raw == b""


def test_a_cut_post_says_so() -> None:
    (closed,) = stream().feed(unanswered(method="POST"))
    assert isinstance(closed, EngineIOTransportClose)
    assert closed.message == f"a POST of packets left unanswered: {REASON}"


def test_requests_of_no_session_or_transport_pass_through() -> None:
    """A handshake request (no sid yet) or a request without ``transport=polling`` closes
    nothing: it passes through, and makes no session of its own (test_session_ends)."""
    decoder = stream()
    handshake = unanswered(sid=None)
    (same,) = decoder.feed(handshake)
    assert same is handshake
    (other,) = decoder.feed(unanswered(transport=None))
    assert isinstance(other, UnansweredRequest) and other.sid == "s1"  # attributed


def test_nothing_more_after_a_close_packet() -> None:
    """python-socketio's server leaves the poll waiting after the client's ``close``; the
    client then drops it: the session ended at the ``close``, not again."""
    decoder = stream()
    post = chunk(b"1", ChunkKind.HTTP_REQUEST, sid="s1", transport="polling", direction="c2s")
    (close,) = decoder.feed(post)
    assert close.type == "close"
    (passed,) = decoder.feed(unanswered())
    assert isinstance(passed, UnansweredRequest) and passed.sid == "s1"
    (other,) = decoder.feed(unanswered(sid="s2"))
    assert isinstance(other, EngineIOTransportClose)


def test_a_close_inside_a_payload_counts() -> None:
    decoder = stream()
    response = chunk(b"6\x1e1", POLLING, sid="s1", transport="polling", direction="s2c")
    assert [r.type for r in decoder.feed(response)] == ["noop", "close"]
    (passed,) = decoder.feed(unanswered())
    assert isinstance(passed, UnansweredRequest)


def test_the_sessions_a_close_ended_stay_within_their_budget() -> None:
    limits = Limits(
        max_sessions=1000, max_state_bytes=TOMBSTONE_SHARE * (TOMBSTONE_OVERHEAD + 2) * 3
    )
    decoder = stream(limits=limits)
    for number in range(10):
        post = chunk(b"1", ChunkKind.HTTP_REQUEST, sid=f"s{number}", transport="polling")
        list(decoder.feed(post))
    closed = decoder._closed_sids
    assert [f"s{n}" for n in range(10) if f"s{n}" in closed] == ["s7", "s8", "s9"]
    assert closed.cost == 3 * (TOMBSTONE_OVERHEAD + 2)
    # forgotten: its transport closing now ends it (again; the session store knows better)
    (closed,) = decoder.feed(unanswered(sid="s0"))
    assert isinstance(closed, EngineIOTransportClose)


def test_the_pipeline_ends_the_session_at_the_cut() -> None:
    pipeline = ioproto.Pipeline.build(proto="engineio")
    ends = []
    pipeline.announcing = lambda session, end: ends.append((session.key, end.reason, end.ts))
    handshake = b'0{"sid":"s1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
    pipeline.feed(chunk(handshake, POLLING, transport="polling", ts=1.0, direction="s2c"))
    pipeline.feed(unanswered(ts=7.5))
    assert ends == [("s1", "transport closed", 7.5)]


@given(
    st.sampled_from(["GET", "POST", "PUT", "OPTIONS"]),
    st.text(max_size=30),
    st.one_of(st.none(), st.text(max_size=12)),
)
def test_any_request_is_handled(method: str, reason: str, transport: str | None) -> None:
    """Whatever the request says (its values come off the network), a record comes back."""
    record = UnansweredRequest(
        ts=1.0,
        connection="c",
        reason=reason,
        http=HttpInfo(
            method=method,
            query=(("sid", "s"),) + ((("transport", transport),) if transport is not None else ()),
        ),
    )
    (out,) = stream().feed(record)
    assert isinstance(out, EngineIOTransportClose | UnansweredRequest)
    assert isinstance(out, EngineIOTransportClose) == (transport == "polling")
