"""Unit tests of the insight classifiers on synthetic records."""

from __future__ import annotations

import pytest
from insighthelp import eio, handshake, http_chunk, run_classifiers, sio, ws_chunk
from ioproto_classify.errors import error_kind
from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_classify.useragent import identify
from ioproto_engineio.records import EngineIOHttpError
from ioproto_http.records import Chunk, ChunkKind
from ioproto_socketio.records import SocketIOUnansweredAck

from ioproto.model import ErrorRecord


def tags(record):  # type: ignore[no-untyped-def]
    return {tag.name: tag.value for tag in record.tags}


def summaries(records):  # type: ignore[no-untyped-def]
    return [record for record in records if isinstance(record, SessionSummary)]


# -- transport ---------------------------------------------------------------------------------


def test_transport_kinds() -> None:
    xhr = eio("message", 1.0, "c2s")
    jsonp_chunk = http_chunk(
        1.0, "s2c", sid="s1", query=(("EIO", "3"), ("transport", "polling"), ("j", "0"))
    )
    jsonp = eio("message", 1.0, "s2c", parent=jsonp_chunk)
    ws = eio("message", 1.0, "c2s", parent=ws_chunk(1.0, "c2s"))
    wt_chunk = Chunk(ts=1.0, kind=ChunkKind.WT_STREAM, data=b"", transport="webtransport")
    wt = eio("message", 1.0, "c2s", parent=wt_chunk)
    line = Chunk(ts=1.0, kind=ChunkKind.LINE, data=b"4x", transport="polling")
    unknown = Chunk(ts=1.0, kind=ChunkKind.LINE, data=b"4x")
    out = run_classifiers([xhr, jsonp, ws, wt, line, unknown], ["transport"])
    assert [r.tag("transport.kind") for r in out] == [
        "polling-xhr",
        "polling-jsonp",
        "websocket",
        "webtransport",
        "polling-xhr",
        None,
    ]


# -- upgrade -----------------------------------------------------------------------------------


def test_upgrade_time_and_summary() -> None:
    ws = ws_chunk(1.2, "c2s")
    records = [
        handshake(1.0),
        eio("ping", 1.1, "c2s", data="probe", parent=ws),
        eio("pong", 1.15, "s2c", data="probe", parent=ws_chunk(1.15, "s2c")),
        eio("upgrade", 1.25, "c2s", parent=ws_chunk(1.25, "c2s")),
    ]
    out = run_classifiers(records)
    assert out[1].tag("upgrade.probe") == "ping"
    assert out[2].tag("upgrade.probe") == "pong"
    assert out[3].tag("upgrade.time") == pytest.approx(0.25)
    (summary,) = summaries(out)
    assert summary.upgraded and not summary.upgrade_failed
    assert summary.upgrade_time == pytest.approx(0.25)
    assert summary.transports == ("polling-xhr", "websocket")


def test_failed_upgrade_tagged_on_close_and_in_summary() -> None:
    records = [
        handshake(1.0),
        eio("ping", 1.1, "c2s", data="probe", parent=ws_chunk(1.1, "c2s")),
        eio("message", 1.5, "c2s", data="hello"),
        eio("close", 2.0, "c2s"),
    ]
    out = run_classifiers(records)
    assert out[3].tag("upgrade.failed") is True
    (summary,) = summaries(out)
    assert summary.upgrade_failed and not summary.upgraded
    assert summary.end_reason == "closed"
    assert summary.transports == ("polling-xhr", "websocket")


def test_session_that_stays_on_polling() -> None:
    out = run_classifiers([handshake(1.0), eio("message", 1.1, "c2s", data="x")])
    (summary,) = summaries(out)
    assert summary.transports == ("polling-xhr",)
    assert not summary.upgraded and not summary.upgrade_failed


# -- client ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ua", "kind", "name"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "browser",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "browser",
            "Mobile Safari",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "browser",
            "Firefox",
        ),
        ("node-XMLHttpRequest", "library", "Node.js engine.io-client"),
        ("python-requests/2.31.0", "library", "python-requests"),
        ("Python/3.11 aiohttp/3.9.1", "library", "aiohttp"),
        ("curl/8.4.0", "tool", "curl"),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "bot",
            "Googlebot",
        ),
        (
            "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)",
            "library",
            "Android Dalvik",
        ),
        ("", "unknown", "no User-Agent"),
        ("\x1b[2J weird thing", "unknown", "other"),
    ],
)
def test_identify(ua: str, kind: str, name: str) -> None:
    info = identify(ua)
    assert (info.kind, info.name) == (kind, name)


def test_browser_details() -> None:
    info = identify(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
    )
    assert info.version == "17.1" and info.os == "iOS 17" and info.device == "iPhone"
    desktop = identify(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )
    assert (desktop.version, desktop.os, desktop.device) == ("120", "Windows 10", "Desktop")


def test_client_tags_on_handshake_and_once_per_session() -> None:
    out = run_classifiers(
        [handshake(1.0), eio("message", 1.1, "c2s", data="x"), eio("ping", 1.2, "s2c")],
        ["client"],
    )
    assert tags(out[0])["client.name"] == "Chrome"
    assert tags(out[0])["client.kind"] == "browser"
    assert out[1].tag("client.name") is None and out[2].tag("client.name") is None


def test_client_without_handshake_tags_first_record_with_headers() -> None:
    record = eio("message", 1.0, "c2s", sid="late", parent=ws_chunk(1.0, "c2s", ua="curl/8.0"))
    out = run_classifiers([record, eio("message", 1.1, "c2s", sid="late")], ["client"])
    assert out[0].tag("client.name") == "curl"
    assert out[1].tag("client.name") is None


# -- latency -----------------------------------------------------------------------------------


def test_handshake_time() -> None:
    (out,) = run_classifiers([handshake(1.0)], ["latency"])
    assert out.tag("latency.handshake") == pytest.approx(0.002)


def test_heartbeat_revision4_server_pings() -> None:
    out = run_classifiers(
        [eio("ping", 1.0, "s2c"), eio("pong", 1.004, "c2s")], ["latency", "error"]
    )
    assert out[1].tag("latency.heartbeat") == pytest.approx(0.004)
    assert out[0].tag("error.kind") is None


def test_heartbeat_revision3_client_pings() -> None:
    out = run_classifiers(
        [eio("ping", 1.0, "c2s", revision=3), eio("pong", 1.01, "s2c", revision=3)],
        ["latency", "error"],
    )
    assert out[1].tag("latency.heartbeat") == pytest.approx(0.01)
    assert out[0].tag("error.kind") is None


def test_wrong_heartbeat_direction_is_a_protocol_error() -> None:
    out = run_classifiers([eio("ping", 1.0, "c2s", revision=4)], ["error"])
    assert out[0].tag("error.kind") == "protocol"


def test_probe_is_not_a_heartbeat() -> None:
    out = run_classifiers(
        [
            eio("ping", 1.0, "c2s", data="probe", parent=ws_chunk(1.0, "c2s")),
            eio("pong", 1.01, "s2c", data="probe", parent=ws_chunk(1.01, "s2c")),
        ],
        ["latency"],
    )
    assert out[1].tag("latency.heartbeat") is None
    assert not [r for r in out if isinstance(r, HeartbeatTimeout)]


def test_polling_heartbeat_spans_requests_paired_by_session() -> None:
    # v4 polling: the ping comes in a GET response, the pong in a later POST on another
    # connection; another session's pong in between must not be paired.
    get = http_chunk(1.0, "s2c", sid="a")
    post = http_chunk(1.3, "c2s", sid="a")
    object.__setattr__(post, "connection", "c2")
    out = run_classifiers(
        [
            eio("ping", 1.0, "s2c", sid="a", parent=get),
            eio("pong", 1.1, "c2s", sid="b"),
            eio("pong", 1.3, "c2s", sid="a", parent=post),
        ],
        ["latency"],
    )
    assert out[1].tag("latency.heartbeat") is None
    assert out[2].tag("latency.heartbeat") == pytest.approx(0.3)


def test_ping_without_pong_at_close_and_at_end() -> None:
    out = run_classifiers(
        [
            handshake(0.5, sid="a", ping_timeout=200),
            eio("ping", 1.0, "s2c", sid="a"),
            eio("close", 1.5, "s2c", sid="a"),
            eio("ping", 2.0, "s2c", sid="b"),
            eio("message", 2.1, "s2c", sid="b", data="x"),
        ]
    )
    assert out[2].tag("latency.ping_unanswered") == pytest.approx(0.5)
    timeouts = {r.sid: r for r in out if isinstance(r, HeartbeatTimeout)}
    assert timeouts["a"].timed_out and timeouts["a"].reason == "session closed"
    assert timeouts["b"].reason == "input ended" and not timeouts["b"].timed_out
    assert timeouts["b"].waited == pytest.approx(0.1)
    by_sid = {s.sid: s for s in summaries(out)}
    assert by_sid["a"].ping_unanswered and by_sid["b"].ping_unanswered


def test_ack_round_trip() -> None:
    event = sio("EVENT", 1.0, "c2s", event="chat", args=["hi"], id=3)
    ack = sio("ACK", 1.0123, "s2c", id=3, answers=event, data=[True])
    out = run_classifiers([event, ack])
    assert out[1].tag("latency.ack") == pytest.approx(0.0123)
    assert out[0].tag("event.bytes") == 12  # the Engine.IO packet: "4" + "2xxxxxxxxxx"
    (summary,) = summaries(out)
    assert summary.acks == 1 and summary.events_c2s == 1
    assert summary.ack_rtt_mean == pytest.approx(0.0123)


def test_unanswered_ack_counted_in_summary() -> None:
    unanswered = SocketIOUnansweredAck(ts=2.0, sid="s1", direction="c2s", id=1, event="x")
    out = run_classifiers([sio("EVENT", 1.0, "c2s", event="x", id=1), unanswered])
    (summary,) = summaries(out)
    assert summary.unanswered_acks == 1


# -- errors ------------------------------------------------------------------------------------


def test_error_kinds() -> None:
    assert error_kind("plugin.crash", "socketio") == "plugin"
    assert error_kind("capture.tcp.gap", "capture") == "capture"
    assert error_kind("engineio.payload.too-large", "engineio") == "limit"
    assert error_kind("socketio.binary.unexpected", "socketio") == "protocol"
    assert error_kind("engineio.payload.bad-length", "engineio") == "decode"
    error = ErrorRecord(
        ts=1.0, sid="s1", layer="engineio", rule="engineio.packet.empty", reason="r"
    )
    http = EngineIOHttpError(ts=1.0, sid="s1", status=400, code=1, message="Session ID unknown")
    refused = sio("CONNECT_ERROR", 1.0, "s2c", nsp="/admin", data={"message": "forbidden"})
    out = run_classifiers([error, http, refused])
    assert [r.tag("error.kind") for r in out[:3]] == ["decode", "http", "connect-error"]
    assert out[1].tag("error.reason") == "HTTP 400: Session ID unknown"
    assert out[2].tag("error.reason") == "forbidden"
    (summary,) = summaries(out)
    assert summary.errors == 3


def test_sessions_are_bounded() -> None:
    records = [eio("message", float(i), "c2s", sid=f"s{i}", data="x") for i in range(10)]
    out = run_classifiers(records, ["session"], max_sessions=3)
    closed = summaries(out)
    # each evicted session's summary comes as it is evicted, not held until the end
    assert [s.end_reason for s in closed] == ["evicted"] * 7 + ["input ended"] * 3
    assert [s.sid for s in closed] == [f"s{i}" for i in range(10)]
    first = out.index(closed[0])
    assert out[first - 1].sid == "s3"  # right after the record that evicted s0
