"""How sessions end, on real captures: at their Engine.IO ``close``, when their WebSocket
closes (``transport-close``: a close frame, or the TCP connection ending without one), or
with the input; and each summary right after the record that ended its session.

The captures come from real socket.io / python-socketio peers (tests/data/README.md):
``examples/chat.pcap``'s three clients each call ``disconnect()``, which closes the
WebSocket without an Engine.IO ``close``; in ``clients_mixed.pcap`` ``dead-tcp`` drops its
TCP connection without a close frame and ``mute`` stops answering pings until the server
closes it; ``polling_only.pcap`` ends with the client's Engine.IO ``close``.
"""

from __future__ import annotations

from pathlib import Path

from insighthelp import DATA, ROOT, run_classifiers
from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_engineio.records import EngineIOTransportClose
from ioproto_http.records import Chunk, WebSocketEnd

import ioproto
from ioproto.model import Record

CHAT = ROOT / "examples" / "chat.pcap"


def decode(path: Path, **options: object) -> list[Record]:
    return list(ioproto.decode(path, classifiers=None, **options))  # type: ignore[arg-type]


def summaries(records: list[Record]) -> dict[str | None, SessionSummary]:
    return {r.sid: r for r in records if isinstance(r, SessionSummary)}


def test_chat_sessions_end_when_their_websocket_closes() -> None:
    records = decode(CHAT)
    closes = [r for r in records if isinstance(r, EngineIOTransportClose)]
    assert len(closes) == 3
    ended = summaries(records)
    assert {sid: s.end_reason for sid, s in ended.items()} == {
        close.sid: "transport closed" for close in closes
    }
    for close in closes:
        # the summary comes right after the record that ended its session, at its time
        at = records.index(close)
        summary = records[at + 1]
        assert isinstance(summary, SessionSummary) and summary.sid == close.sid
        assert summary.ts == close.ts
        assert isinstance(close.parent, Chunk) and close.parent.type == "ws-close"
        assert close.direction == "c2s"  # the client closed it
        # the server's answering close frame is a close frame of the ended session
        echo = next(
            r
            for r in records[at + 1 :]
            if isinstance(r, Chunk) and r.connection == close.connection
        )
        assert (echo.type, echo.direction, echo.sid) == ("ws-close", "s2c", close.sid)


def test_a_tcp_connection_ending_without_a_close_frame_ends_its_session() -> None:
    records = decode(DATA / "clients_mixed.pcap")
    ended = summaries(records)
    abnormal = [r for r in records if isinstance(r, EngineIOTransportClose) and r.code == 1006]
    assert len(abnormal) == 1
    (dead,) = abnormal
    assert dead.message == "no close frame: the connection closed (FIN)"
    assert ended[dead.sid].end_reason == "transport closed"
    assert ended[dead.sid].ts == dead.ts


def test_a_session_the_server_timed_out_reports_its_unanswered_ping() -> None:
    """``mute`` stops answering pings; the server closes its WebSocket after pingTimeout."""
    records = decode(DATA / "clients_mixed.pcap")
    (timeout,) = [r for r in records if isinstance(r, HeartbeatTimeout)]
    assert timeout.reason == "session closed" and timeout.timed_out
    summary = summaries(records)[timeout.sid]
    assert summary.end_reason == "transport closed" and summary.ping_unanswered
    close = next(
        r for r in records if isinstance(r, EngineIOTransportClose) and r.sid == timeout.sid
    )
    assert close.direction == "s2c"  # the server closed it
    assert close.tag("latency.ping_unanswered") is not None


def test_end_reasons_of_every_bundled_capture() -> None:
    """Every session of the bundled captures ends by what the capture shows of its end,
    except the two of ``rejected`` that never began (refused requests: no handshake, no
    transport), which end with the input."""
    reasons: dict[str, list[str]] = {}
    for path in [CHAT, *sorted(DATA.glob("*.pcap"))]:
        ended = summaries(decode(path))
        reasons[path.stem] = sorted(s.end_reason for s in ended.values())
    assert reasons["chat"] == ["transport closed"] * 3
    assert reasons["polling_only"] == ["closed"]
    assert reasons["v2_polling"] == ["closed"]
    assert reasons["upgrade"] == ["transport closed"]
    assert reasons["v2_ws"] == ["transport closed"]
    assert reasons["python_server"] == ["closed", "transport closed"]
    # rejected: two sessions that never began (refused handshakes) end with the input
    assert reasons["rejected"] == ["closed", "input ended", "input ended", "transport closed"]
    assert "input ended" not in reasons["clients_mixed"]  # dead-tcp's FIN ends it
    every = [reason for found in reasons.values() for reason in found]
    assert every.count("input ended") == 2


def test_sharded_runs_end_sessions_the_same_way() -> None:
    one = [repr(r) for r in decode(DATA / "clients_mixed.pcap", jobs=1)]
    sharded = [
        repr(r)
        for r in decode(
            DATA / "clients_mixed.pcap",
            jobs=3,
            source_options={"parallel_min_bytes": 0},
        )
    ]
    assert sharded == one


def test_the_end_of_a_websocket_no_session_claims_starts_no_session() -> None:
    """A ws-end the Engine.IO layer could not attribute (its connection's session unknown,
    say forgotten under its bounds) is no session of its own."""
    end = WebSocketEnd(ts=1.0, connection="c1", reason="the connection was reset (RST)")
    out = run_classifiers([end], ["session"])
    assert not [r for r in out if isinstance(r, SessionSummary)]
