"""How sessions end, on real captures: at their Engine.IO ``close``, when their WebSocket
closes (``transport-close``: a close frame, or the TCP connection ending without one), or
with the input; and each summary right after the record that ended its session.

The captures come from real socket.io / python-socketio peers (tests/data/README.md):
``examples/chat.pcap``'s three clients each call ``disconnect()``, which closes the
WebSocket without an Engine.IO ``close``; in ``clients_mixed.pcap`` ``dead-tcp`` drops its
TCP connection without a close frame and ``mute`` stops answering pings until the server
closes it; ``polling_only.pcap`` ends with the client's Engine.IO ``close``; in
``polling_gone.pcap`` three polling clients (socket.io-client and python-socketio killed with
SIGKILL, a hand-written one aborting) go away while their long poll waits, and the server's
log says when it ended each session ("transport error"); in ``polling_silent.pcap`` two
polling clients (socket.io-client, python-socketio) are frozen with SIGSTOP and their server
times them out ("ping timeout") with nothing on the wire: the end of the input shows it.
"""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run_ioproto
from insighthelp import DATA, ROOT, run_classifiers
from ioproto_classify.common import find_chunk
from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_dashboard.rows import packet_row
from ioproto_engineio.records import CLIENT_SILENT, PING_TIMEOUT, EngineIOTransportClose
from ioproto_http.records import Chunk, UnansweredRequest, WebSocketEnd

import ioproto
from ioproto.model import Record

CHAT = ROOT / "examples" / "chat.pcap"


def decode(path: Path, **options: object) -> list[Record]:
    return list(ioproto.decode(path, classifiers=None, **options))  # type: ignore[arg-type]


def server_ends(path: Path) -> dict[str, tuple[float, str]]:
    """From a capture's log: each client the server saw disconnect, when and why."""
    log = [json.loads(line) for line in path.with_suffix(".log.jsonl").read_text().splitlines()]
    return {
        entry["client"]: (entry["t"], entry["args"][0])
        for entry in log
        if entry["side"] == "server" and entry["action"] == "disconnect"
    }


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
    assert reasons["polling_gone"] == ["transport closed"] * 3
    assert reasons["polling_silent"] == ["closed", "ping timeout", "ping timeout"]
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


def test_polling_sessions_end_when_their_waiting_poll_is_cut_off() -> None:
    path = DATA / "polling_gone.pcap"
    records = decode(path)
    server_ended = {client: at for client, (at, _) in server_ends(path).items()}
    assert set(server_ended) == {"node-killed", "python-killed", "curl-abort"}
    assert {why for _, why in server_ends(path).values()} == {"transport error"}
    closes = [r for r in records if isinstance(r, EngineIOTransportClose)]
    assert len(closes) == 3
    ended = summaries(records)
    for close in closes:
        assert (close.transport, close.direction, close.code) == ("polling", "c2s", None)
        assert close.message == "a poll left unanswered: the connection closed (FIN)"
        cut = close.parent
        assert isinstance(cut, UnansweredRequest) and cut.http is not None
        assert cut.http.method == "GET" and cut.http.query_value("sid") == close.sid
        # the summary follows at once, at the time the server ended the session
        summary = records[records.index(close) + 1]
        assert summary is ended[close.sid] and summary.end_reason == "transport closed"
        label = cut.http.query_value("client")
        assert label is not None and abs(summary.ts - server_ended[label]) < 0.05


def test_silent_polling_clients_end_when_their_server_timed_them_out() -> None:
    """Frozen clients send nothing more; their server ends each session ``pingInterval +
    pingTimeout`` (0.5 s) after its last sign of life, leaving nothing on the wire. At the
    end of the input (2 s later) the Engine.IO layer ends each with a ``transport-close``
    at the time its server's wait ran out (``ping timeout``), in that order, before the
    sessions the input's end ends; the third client closed its session itself."""
    path = DATA / "polling_silent.pcap"
    records = decode(path)
    timed_out = {
        client: at for client, (at, why) in server_ends(path).items() if why == "ping timeout"
    }
    assert set(timed_out) == {"node-frozen", "python-frozen"}
    closes = [r for r in records if isinstance(r, EngineIOTransportClose)]
    assert len(closes) == 2
    assert [close.ts for close in closes] == sorted(close.ts for close in closes)
    ended = summaries(records)
    for close in closes:
        assert close.parent is None and close.code is None and close.direction is None
        assert close.transport == "polling" and close.raw == b""
        assert close.message is not None and close.message.startswith(CLIENT_SILENT)
        assert "past pingInterval + pingTimeout (0.5 s)" in close.message
        assert close.tag("latency.ping_unanswered") is not None
        summary = records[records.index(close) + 1]
        assert summary is ended[close.sid] and summary.end_reason == PING_TIMEOUT
        assert summary.ts == close.ts and summary.ping_unanswered
        # at the time the server's log says it timed the session out
        handshake = next(r for r in records if r.type == "open" and r.sid == close.sid)
        chunk = find_chunk(handshake)
        assert chunk is not None and chunk.http is not None
        assert abs(close.ts - timed_out[str(chunk.http.query_value("client"))]) < 0.05
    steady = [s for s in ended.values() if s.sid not in {c.sid for c in closes}]
    assert [s.end_reason for s in steady] == ["closed"]
    # the silent ends come after every record of the input
    assert records.index(closes[0]) > max(records.index(ended[s.sid]) for s in steady)


def test_each_input_of_a_run_is_judged_by_its_own_end() -> None:
    """A run of several captures (another day's after this one's) judges a client's silence
    by the end of the capture it was last heard in, not by the next capture's time: the
    HAR's sessions left open end with the input, and the frozen clients still end at their
    server's wait, whatever comes after them."""
    har = DATA / "har" / "chromium-socketio.har"
    silent = DATA / "polling_silent.pcap"
    for inputs in ([har, silent], [silent, har], [silent, CHAT]):
        ended = summaries(decode([str(path) for path in inputs]))  # type: ignore[arg-type]
        alone = {
            sid: summary.end_reason
            for path in inputs
            for sid, summary in summaries(decode(path)).items()
        }
        assert {sid: s.end_reason for sid, s in ended.items()} == alone
        assert list(alone.values()).count(PING_TIMEOUT) == 2


def test_the_figures_count_silent_clients_as_timed_out() -> None:
    path = str(DATA / "polling_silent.pcap")
    figures = json.loads(run_ioproto("stats", "--format", "json", path).stdout)
    by_reason = {item["name"]: item["count"] for item in figures["ends"]["by_reason"]}
    assert by_reason == {"ping timeout": 2, "closed": 1}
    shown = run_ioproto("monitor", "--no-color", path).stdout
    assert shown.count(f'polling closed "{CLIENT_SILENT}') == 2
    assert shown.count(", ping timeout\n") == 2


def test_a_poll_dropped_after_the_close_ends_nothing_more() -> None:
    """python-socketio's server leaves a poll waiting after the client's ``close``; the
    client then drops its connection: an ``http-unanswered`` of the ended session, no
    second end."""
    records = decode(DATA / "python_server.pcap")
    (late,) = [r for r in records if isinstance(r, UnansweredRequest)]
    summary = summaries(records)[late.sid]
    assert summary.end_reason == "closed" and records.index(summary) < records.index(late)
    assert not [r for r in records if isinstance(r, EngineIOTransportClose) and r.sid == late.sid]


def test_sharded_runs_end_polling_sessions_the_same_way() -> None:
    path = DATA / "polling_gone.pcap"
    one = [repr(r) for r in decode(path, jobs=1)]
    options = {"parallel_min_bytes": 0}
    assert [repr(r) for r in decode(path, jobs=3, source_options=options)] == one


def test_the_views_say_which_transport_closed() -> None:
    """The monitor and the dashboard's packet table name a cut-off poll as the polling
    transport closing; ``--hide-control`` hides it, as it hides a WebSocket's closing."""
    gone = str(DATA / "polling_gone.pcap")
    shown = run_ioproto("monitor", "--no-color", gone).stdout
    assert shown.count('polling closed "a poll left unanswered: the connection closed (FIN)"') == 3
    assert "websocket closed" not in shown
    assert "polling closed" not in run_ioproto("monitor", "--hide-control", gone).stdout
    late = run_ioproto("monitor", "--no-color", str(DATA / "python_server.pcap")).stdout
    assert late.count("GET left unanswered: the connection closed (FIN)") == 1
    closes = [
        r for r in decode(DATA / "polling_gone.pcap") if isinstance(r, EngineIOTransportClose)
    ]
    row = packet_row(closes[0], 1, "polling-xhr", 0)
    assert row["reason"] == "polling closed a poll left unanswered: the connection closed (FIN)"


def test_the_monitor_says_what_an_unclaimed_end_is_known_to_be() -> None:
    """A ws-end from the bytes (1006) had no close frame; one a browser reported (code
    unknown) only ended; a request left unanswered names its method."""
    from ioproto_http.records import HttpInfo
    from ioproto_monitor.render import body

    def said(record: Record) -> str:
        return "".join(text for text, _ in body(record))

    reset = WebSocketEnd(ts=1.0, reason="the connection was reset (RST)")
    reported = WebSocketEnd(ts=1.0, reason="the browser reported it closed", code=None)
    post = UnansweredRequest(ts=1.0, reason="the connection closed (FIN)", http=HttpInfo("POST"))
    assert said(reset) == "websocket ended without a close frame: the connection was reset (RST)"
    assert said(reported) == "websocket ended: the browser reported it closed"
    assert said(post) == "POST left unanswered: the connection closed (FIN)"


def test_a_transport_close_of_an_unknown_transport_is_named_so() -> None:
    """A tap that missed a session's handshake reports its end without a transport: the
    views say ``transport closed``, not that a WebSocket closed."""
    from ioproto_monitor.render import body

    close = EngineIOTransportClose(
        ts=1.0,
        sid="abc",
        transport=None,
        connection="tap:1",
        code=None,
        message="the server reported: transport close",
    )
    assert packet_row(close, 1, None, 0)["reason"] == (
        "transport closed the server reported: transport close"
    )
    shown = "".join(text for text, _style in body(close))
    assert shown == 'transport closed "the server reported: transport close"'
