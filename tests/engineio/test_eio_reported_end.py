"""A server's own word that it ended a session: ``reported-end`` in, ``transport-close`` out.

A source inside the server (an in-process tap) sees no connection and no close frame; it
passes on the server's reason for a session's end as a
:class:`~ioproto_http.records.ReportedEnd`. The Engine.IO layer ends the session with an
:class:`~ioproto_engineio.records.EngineIOTransportClose` (code unknown, the message the
server's words) when the server ended it under its transport (``transport close``,
``transport error``, ``ping timeout``, engine.io's ``forced close`` ...), never after a
``close`` packet ended it, and not for a reason that a ``close`` packet tells (``client
disconnect``, python-engineio's ``server disconnect``, reported before the packet it
sends). ``ping timeout`` ends the session as ``ping timeout``. Real servers and their taps:
tests/taps/test_tap_session_end.py.
"""

from __future__ import annotations

import pytest
from eio_helpers import chunk, stream
from ioproto_engineio.decoder import EngineIODecoder
from ioproto_engineio.records import EngineIOTransportClose, counts_as_packet
from ioproto_http.records import ChunkKind, HttpInfo, ReportedEnd
from ioproto_socketio.testing import engineio_url


def reported(reason: str, sid: str = "s1", transport: str = "websocket") -> ReportedEnd:
    http = engineio_url(revision=4, sid=sid, transport=transport)
    assert http is not None
    return ReportedEnd(
        ts=7.0,
        connection="tap-conn",
        reason=reason,
        http=HttpInfo(path=http.path, query=http.query),
    )


@pytest.mark.parametrize(
    ("reason", "transport", "end"),
    [
        ("transport close", "websocket", "transport closed"),
        ("transport error", "polling", "transport closed"),
        ("forced close", "websocket", "transport closed"),
        ("ping timeout", "polling", "ping timeout"),
    ],
)
def test_a_server_ended_session_gets_its_transport_close(
    reason: str, transport: str, end: str
) -> None:
    report = reported(reason, transport=transport)
    (closed,) = stream().feed(report)
    assert isinstance(closed, EngineIOTransportClose)
    assert (closed.sid, closed.transport, closed.ts, closed.connection) == (
        "s1",
        transport,
        7.0,
        "tap-conn",
    )
    assert (closed.code, closed.message) == (None, f"the server reported: {reason}")
    assert closed.parent is report and closed.raw == b"" and closed.revision == 4
    assert EngineIODecoder().ends_session(closed) == end
    assert not counts_as_packet(closed)


@pytest.mark.parametrize("reason", ["client disconnect", "server disconnect", "a reason of 2030"])
def test_a_close_packet_tells_the_other_ends(reason: str) -> None:
    assert list(stream().feed(reported(reason))) == []


def test_nothing_ends_twice() -> None:
    """A session a ``close`` packet ended (engine.io reports ``transport close`` when the
    client's WebSocket closes after its ``close``), or one a report ended already."""
    decoder = stream()
    (close,) = decoder.feed(chunk(b"1", ChunkKind.WS_TEXT, sid="s1", transport="websocket"))
    assert close.type == "close"
    assert list(decoder.feed(reported("transport close"))) == []
    (first,) = decoder.feed(reported("transport error", sid="s2"))
    assert first.type == "transport-close"
    assert list(decoder.feed(reported("transport close", sid="s2"))) == []


def test_a_report_naming_no_session_ends_nothing() -> None:
    report = ReportedEnd(ts=1.0, connection="tap:x", reason="transport close", http=None)
    assert EngineIODecoder().accepts(report)
    assert list(stream().feed(report)) == []
