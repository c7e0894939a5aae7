"""The DevTools translator as a pure function: recorded and hand-made conversations in,
chunks out, no browser needed."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cdphelp import (
    EIO,
    SESSION,
    TARGET,
    UA,
    WALL,
    Driver,
    attached,
    chunks,
    event,
    finished,
    fixture,
    frame,
    request,
    response,
    wants,
    websocket,
)
from ioproto_browser.machine import translate
from ioproto_browser.network import (
    BROWSER_CLOSED,
    PAGE_CLOSED,
    PAGE_CRASHED,
    PAGE_NAVIGATED,
    gone,
)
from ioproto_browser.outbox import Outbox
from ioproto_classify.records import SessionSummary
from ioproto_engineio.records import EngineIOTransportClose
from ioproto_http.records import Chunk, ChunkKind, UnansweredRequest, WebSocketEnd
from taphelp import decode

from ioproto.model import ErrorRecord, Record

WS_URL = "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket&sid=abc"


def rules(records: list[Record]) -> list[str]:
    return [r.rule for r in records if isinstance(r, ErrorRecord)]


# -- recorded conversations ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["node4", "node2"])
def test_a_recorded_conversation_decodes_to_the_scenario(name: str) -> None:
    records = translate(fixture(name), wanted=wants())
    assert set(rules(records)) <= {"cdp.target.closed"}
    found = list(chunks(records))
    assert found and all(c.connection.startswith("cdp:") for c in found)
    assert all(c.http is not None and c.http.request_header("user-agent") for c in found)
    assert [c.seq for c in found] == list(range(1, len(found) + 1))
    decoded = decode(records)
    events = {(r.direction, r.type, r.event, r.nsp) for r in decoded if r.layer == "socketio"}
    assert ("c2s", "EVENT", "echo", "/") in events
    assert ("c2s", "EVENT", "stats", "/admin") in events
    assert ("c2s", "EVENT", "binary", "/") in events
    binary_acks = [
        r.args
        for r in decoded
        if r.layer == "socketio" and r.type == "ACK" and r.direction == "s2c" and r.attachments
    ]
    assert [bytes([250, 3, 2, 1])] in binary_acks and [bytes([7, 8, 9])] in binary_acks
    assert not [r for r in decoded if isinstance(r, ErrorRecord) and r.layer != "cdp"]
    # The polling-only session ends at its Engine.IO close; the three on WebSockets (main,
    # refused /admin, the reconnection) when the browser reported their WebSockets closed.
    ends = sorted(r.end_reason for r in decoded if isinstance(r, SessionSummary))
    assert ends == ["closed", "transport closed", "transport closed", "transport closed"]


@pytest.mark.parametrize("name", ["node4", "node2"])
def test_a_recorded_conversation_replays_the_same(name: str) -> None:
    first = translate(fixture(name), wanted=wants())
    second = translate(fixture(name), wanted=wants())
    assert first == second


def test_skipped_requests_cost_no_round_trip() -> None:
    """The page, its script and other assets are not Engine.IO's: no body is fetched."""
    driver = Driver()
    for message in fixture("node4"):
        driver.feed(message)
    fetched = [c for c in driver.sent if c["method"] == "Network.getResponseBody"]
    urls = {
        m["params"]["requestId"]: m["params"]["request"]["url"]
        for m in fixture("node4")
        if m.get("method") == "Network.requestWillBeSent"
    }
    assert fetched
    assert all("/socket.io/?" in urls[c["params"]["requestId"]] for c in fetched)


# -- HTTP ---------------------------------------------------------------------------------------


def test_a_polling_request_and_response() -> None:
    driver = Driver()
    driver.feed(attached())
    assert driver.methods()[-5:] == [
        "Network.enable",
        "Page.enable",
        "Page.setLifecycleEventsEnabled",
        "Target.setAutoAttach",
        "Runtime.runIfWaitingForDebugger",
    ]
    body = "4hello"
    entries = [{"bytes": base64.b64encode(body.encode()).decode()}]
    out = driver.feed(
        request("1.1", EIO + "&sid=abc", "POST", postData=body, postDataEntries=entries)
    )
    (sent,) = out
    assert isinstance(sent, Chunk) and sent.kind is ChunkKind.HTTP_REQUEST
    assert sent.data == b"4hello" and sent.direction == "c2s"
    assert sent.ts == WALL + 100.0
    assert (
        sent.connection
        == f"cdp:{attached()['params']['targetInfo']['targetId'][:8]}/1.1-127.0.0.1:3000"
    )
    assert sent.http is not None and sent.http.request_header("user-agent") == UA
    assert sent.http.query_value("sid") == "abc" and sent.http.method == "POST"
    data = event("Network.dataReceived", requestId="1.1", timestamp=100.015, dataLength=2)
    assert driver.feed(response("1.1"), data, finished("1.1")) == []
    driver.answer("Network.getResponseBody", {"body": "ok", "base64Encoded": False})
    (answer,) = driver.records[-1:]
    assert isinstance(answer, Chunk) and answer.kind is ChunkKind.HTTP_RESPONSE
    assert answer.data == b"ok" and answer.http is not None and answer.http.status == 200
    # When the page got the body (dataReceived), not loadingFinished's network-service time.
    assert answer.ts == WALL + 100.015 and answer.http.request_ts == WALL + 100.0


def test_a_binary_body_the_event_leaves_out_is_fetched() -> None:
    """An XHR2 binary POST (Engine.IO 3) comes without postData: getRequestPostData."""
    driver = Driver()
    driver.feed(attached())
    assert driver.feed(request("1.2", method="POST", hasPostData=True)) == []
    payload = bytes([1, 4, 255, 4, 9, 8, 7])
    driver.answer(
        "Network.getRequestPostData",
        {"postData": base64.b64encode(payload).decode(), "base64Encoded": True},
    )
    assert [c.data for c in chunks(driver.records)] == [payload]


def test_an_exchange_that_ends_before_its_request_body_comes_has_the_body() -> None:
    """The HAR's entry of a binary POST whose response is read before the request body's
    reply arrives still holds the body (the exchange waits for it)."""
    from ioproto_browser.exchanges import HttpExchange

    seen: list[object] = []
    driver = Driver(observer=seen.append)
    driver.feed(attached(), request("1.6", method="POST", hasPostData=True))
    driver.feed(response("1.6"), finished("1.6"))
    driver.answer("Network.getResponseBody", {"body": "ok"})
    assert seen == []  # the exchange waits for its request body
    payload = bytes([1, 4, 255, 4, 9, 8, 7])
    driver.answer(
        "Network.getRequestPostData",
        {"postData": base64.b64encode(payload).decode(), "base64Encoded": True},
    )
    (exchange,) = seen
    assert isinstance(exchange, HttpExchange)
    assert exchange.request_body == payload and exchange.response_body == b"ok"


def test_a_record_waiting_for_its_body_keeps_the_browsers_order() -> None:
    driver = Driver()
    driver.feed(attached(), *websocket("9.1", WS_URL))
    driver.feed(request("1.3"), response("1.3"), finished("1.3", ts=100.05))
    later = driver.feed(frame("9.1", "4after", ts=100.06))
    assert later == []  # waits behind the response being fetched
    driver.answer("Network.getResponseBody", {"body": "4before"})
    assert [c.data for c in chunks(driver.records)] == [b"", b"4before", b"4after"]


def test_a_body_that_cannot_be_read_is_an_error_with_its_session() -> None:
    driver = Driver()
    driver.feed(attached(), request("1.4", EIO + "&sid=abc"), response("1.4"), finished("1.4"))
    driver.answer("Network.getResponseBody", error="No resource with given identifier found")
    (error,) = [r for r in driver.records if isinstance(r, ErrorRecord)]
    assert error.rule == "cdp.body.unavailable" and "No resource" in error.reason
    assert isinstance(error.parent, Chunk) and error.parent.http.query_value("sid") == "abc"
    (attributed,) = [r for r in decode(driver.records) if isinstance(r, ErrorRecord)]
    assert attributed.sid == "abc"


def test_a_browser_that_does_not_answer_costs_one_record_not_the_stream() -> None:
    driver = Driver(reply_timeout=2.0)
    driver.feed(attached(), request("1.5"), response("1.5"), finished("1.5"))
    assert driver.tick(1.0) == []
    (error,) = driver.tick(1.5)
    assert isinstance(error, ErrorRecord) and "did not answer in time" in error.reason


def test_a_failed_and_an_aborted_request() -> None:
    driver = Driver()
    driver.feed(attached(), request("1.6"), request("1.7"))
    driver.feed(
        event(
            "Network.loadingFailed",
            requestId="1.6",
            timestamp=101.0,
            errorText="net::ERR_CONNECTION_REFUSED",
        ),
        event(
            "Network.loadingFailed",
            requestId="1.7",
            timestamp=101.0,
            errorText="net::ERR_ABORTED",
            canceled=True,
        ),
    )
    assert rules(driver.records) == ["cdp.request.failed", "cdp.request.aborted"]


def test_requests_nobody_wants_are_not_followed() -> None:
    driver = Driver()
    driver.feed(
        attached(), request("1.8", "http://127.0.0.1:3000/app.js"), response("1.8"), finished("1.8")
    )
    assert driver.records == [] and "Network.getResponseBody" not in driver.methods()
    assert driver.machine.network.size == 0


def test_a_redirect_answers_the_first_request() -> None:
    driver = Driver()
    driver.feed(attached(), request("2.1", EIO + "&sid=a"))
    moved = request("2.1", EIO + "&sid=b", ts=100.5)
    moved["params"]["redirectResponse"] = {"status": 307, "statusText": "Moved", "headers": {}}
    driver.feed(moved)
    statuses = [(c.kind, c.http.status, c.http.query_value("sid")) for c in chunks(driver.records)]
    assert statuses == [
        (ChunkKind.HTTP_REQUEST, None, "a"),
        (ChunkKind.HTTP_RESPONSE, 307, "a"),
        (ChunkKind.HTTP_REQUEST, None, "b"),
    ]


# -- WebSockets ---------------------------------------------------------------------------------


def test_websocket_messages() -> None:
    driver = Driver()
    driver.feed(attached(), *websocket("9.2", WS_URL))
    driver.feed(
        frame("9.2", "2probe", sent=True, ts=100.1),
        frame("9.2", bytes([4, 1, 2, 3]), ts=100.2),
        frame("9.2", "", ts=100.3, opcode=9),
    )
    found = list(chunks(driver.records))
    assert [(c.kind, c.direction, c.data) for c in found] == [
        (ChunkKind.WS_TEXT, "c2s", b"2probe"),
        (ChunkKind.WS_BINARY, "s2c", bytes([4, 1, 2, 3])),
        (ChunkKind.WS_CONTROL, "s2c", b""),
    ]
    http = found[0].http
    assert http is not None and http.status == 101 and http.request_header("user-agent") == UA
    assert http.request_ts == WALL + 100.0 and found[0].ts == WALL + 100.1


def test_bad_frames_cost_only_themselves() -> None:
    driver = Driver()
    driver.feed(attached(), *websocket("9.3", WS_URL))
    bad = frame("9.3", "not base64!", ts=100.1, opcode=2)
    odd = frame("9.3", "x", ts=100.2, opcode=3)
    missing = event("Network.webSocketFrameReceived", requestId="9.3", timestamp=100.3, response={})
    driver.feed(bad, odd, missing, frame("9.3", "4fine", ts=100.4))
    assert rules(driver.records) == ["cdp.websocket.bad-frame"] * 3
    assert [c.data for c in chunks(driver.records)] == [b"4fine"]


def test_a_websocket_opened_before_attaching_is_decoded_on_a_guess() -> None:
    driver = Driver()
    driver.feed(attached(), frame("9.4", '42["hi"]', ts=100.1), frame("9.4", "3", ts=100.2))
    assert rules(driver.records) == ["cdp.websocket.unknown"]
    assert [c.http for c in chunks(driver.records)] == [None, None]


def test_websockets_nobody_wants_are_not_followed() -> None:
    driver = Driver()
    driver.feed(attached(), *websocket("9.5", "ws://127.0.0.1:3000/chat"))
    driver.feed(frame("9.5", "hello", ts=100.1))
    assert driver.records == []


def test_a_refused_upgrade_shows_its_status() -> None:
    driver = Driver()
    driver.feed(attached(), *websocket("9.6", WS_URL)[:2])
    driver.feed(
        event(
            "Network.webSocketHandshakeResponseReceived",
            requestId="9.6",
            timestamp=100.01,
            response={"status": 400, "statusText": "Bad Request", "headers": {}},
        )
    )
    (answer,) = chunks(driver.records)
    assert answer.kind is ChunkKind.HTTP_RESPONSE and answer.http.status == 400
    assert [r.type for r in decode(driver.records) if r.layer == "engineio"] == ["http-error"]


def test_a_frame_error() -> None:
    driver = Driver()
    driver.feed(attached(), *websocket("9.7", WS_URL))
    driver.feed(
        event(
            "Network.webSocketFrameError",
            requestId="9.7",
            timestamp=100.1,
            errorMessage="Invalid frame header",
        )
    )
    (error,) = driver.records
    assert error.rule == "cdp.websocket.frame-error" and "Invalid frame header" in error.reason


def closed(rid: str, ts: float) -> dict[str, Any]:
    return event("Network.webSocketClosed", requestId=rid, timestamp=ts)


def upgraded(rid: str) -> list[dict[str, Any]]:
    """A WebSocket that became session ``abc``'s transport (probe, then ``upgrade``)."""
    return [
        *websocket(rid, WS_URL),
        frame(rid, "2probe", sent=True, ts=100.1),
        frame(rid, "3probe", ts=100.2),
        frame(rid, "5", sent=True, ts=100.3),
    ]


def test_a_websocket_the_browser_reports_closed_ends_its_session() -> None:
    """Chromium reports no close frames, only webSocketClosed: a ws-end at the browser's
    time with no close code, which the Engine.IO layer makes the session's transport-close."""
    driver = Driver()
    driver.feed(attached(), *upgraded("9.11"), closed("9.11", ts=100.5))
    (end,) = [r for r in driver.records if isinstance(r, WebSocketEnd)]
    assert (end.ts, end.code, end.reason) == (WALL + 100.5, None, BROWSER_CLOSED)
    assert end.connection == next(chunks(driver.records)).connection
    assert end.http is not None and end.http.status == 101
    decoded = decode(driver.records)
    (close,) = [r for r in decoded if isinstance(r, EngineIOTransportClose)]
    assert (close.sid, close.code, close.message) == ("abc", None, BROWSER_CLOSED)
    assert close.ts == WALL + 100.5 and close.parent == end
    (summary,) = [r for r in decoded if isinstance(r, SessionSummary)]
    assert summary.end_reason == "transport closed" and summary.ts == close.ts
    assert driver.machine.network.size == 0


def test_a_reported_close_frame_tells_the_end_itself() -> None:
    driver = Driver()
    close_frame = frame("9.12", "", sent=True, ts=100.4, opcode=8)
    driver.feed(attached(), *upgraded("9.12"), close_frame, closed("9.12", ts=100.5))
    assert not [r for r in driver.records if isinstance(r, WebSocketEnd)]
    (close,) = [r for r in decode(driver.records) if isinstance(r, EngineIOTransportClose)]
    assert close.ts == WALL + 100.4 and close.code is None and close.message is None


def test_a_refused_or_unwanted_websocket_closing_makes_no_record() -> None:
    driver = Driver()
    refused = event(
        "Network.webSocketHandshakeResponseReceived",
        requestId="9.13",
        timestamp=100.01,
        response={"status": 400, "statusText": "Bad Request", "headers": {}},
    )
    driver.feed(attached(), *websocket("9.13", WS_URL)[:2], refused, closed("9.13", 100.1))
    driver.feed(*websocket("9.14", "ws://127.0.0.1:3000/chat"), closed("9.14", 100.2))
    driver.feed(closed("9.15", 100.3))  # never seen
    assert [r.type for r in driver.records] == ["http-response"]


# -- targets and the connection -------------------------------------------------------------------


POLL = EIO + "&sid=p0ll"


def page_with_sessions(driver: Driver) -> None:
    """A page (loader ``L1``) with session ``abc`` upgraded to WebSocket ``9.20`` and
    session ``p0ll`` waiting on its long poll ``1.20``."""
    driver.feed(attached(), *upgraded("9.20"), loaded_by("L1", request("1.20", POLL, ts=100.4)))


def loaded_by(loader: str, message: dict[str, Any]) -> dict[str, Any]:
    """``message``, a ``requestWillBeSent``, made by document load ``loader``."""
    message["params"]["loaderId"] = loader
    return message


def ends(records: list[Record]) -> list[tuple[str, float, str]]:
    """``(type, ts, reason)`` of the ws-end and http-unanswered records."""
    return [
        (r.type, r.ts, r.reason) for r in records if isinstance(r, WebSocketEnd | UnansweredRequest)
    ]


def closes(records: list[Record]) -> dict[str, tuple[str, str | None]]:
    """``{sid: (transport, message)}`` of the decoded transport-close records, and every
    session's summary says ``transport closed`` at that time."""
    decoded = decode(records)
    found = {
        r.sid: (r.transport, r.message)
        for r in decoded
        if isinstance(r, EngineIOTransportClose) and r.sid
    }
    summaries = {r.sid: r for r in decoded if isinstance(r, SessionSummary)}
    for sid in found:
        assert summaries[sid].end_reason == "transport closed"
    return found


def navigated(loader: str, *, frame: str = TARGET, parent: str | None = None) -> dict[str, Any]:
    body = {"id": frame, "loaderId": loader, "url": "http://127.0.0.1:3000/other"}
    if parent is not None:
        body["parentId"] = parent
    return event("Page.frameNavigated", frame=body, type="Navigation")


def commit(loader: str, ts: float, *, frame: str = TARGET) -> dict[str, Any]:
    """The ``init`` lifecycle event that comes as a new document begins."""
    return event("Page.lifecycleEvent", frameId=frame, loaderId=loader, name="init", timestamp=ts)


def detached() -> dict[str, Any]:
    return event("Target.detachedFromTarget", session="", sessionId=SESSION, targetId=TARGET)


def test_a_closed_tab_ends_its_websockets_and_waiting_polls() -> None:
    """Chromium reports nothing of a closed page's WebSockets and requests, only that the
    target detached: each open one ends then (the browser's close frame 1001 and the poll's
    FIN are on the wire), and their sessions with them."""
    driver = Driver()
    page_with_sessions(driver)
    driver.feed(*websocket("9.21", WS_URL)[:2])  # a handshake still under way: no ws-end
    driver.feed(detached())
    when = round(driver.now, 6)  # the detach gives no time: when it arrived
    assert ends(driver.records) == [
        ("http-unanswered", when, PAGE_CLOSED),
        ("ws-end", when, PAGE_CLOSED),
    ]
    (end,) = [r for r in driver.records if isinstance(r, WebSocketEnd)]
    assert end.code is None and end.http is not None and end.http.status == 101
    (cut,) = [r for r in driver.records if isinstance(r, UnansweredRequest)]
    assert cut.http is not None and cut.request_ts == WALL + 100.4
    assert closes(driver.records) == {
        "abc": ("websocket", PAGE_CLOSED),
        "p0ll": ("polling", f"a poll left unanswered: {PAGE_CLOSED}"),
    }
    # The tab's record says it closed; what it had open ended with records of their own.
    (closed,) = [r for r in driver.records if isinstance(r, ErrorRecord)]
    assert closed.rule == "cdp.target.closed" and "cut off" not in closed.reason
    assert driver.machine.network.size == 0


def test_a_websocket_closed_before_its_tab_is_not_ended_twice() -> None:
    driver = Driver()
    page_with_sessions(driver)
    driver.feed(closed("9.20", ts=100.5), detached())
    assert [(kind, reason) for kind, _, reason in ends(driver.records)] == [
        ("ws-end", BROWSER_CLOSED),
        ("http-unanswered", PAGE_CLOSED),
    ]


def test_a_page_that_navigates_away_ends_what_its_old_document_had_open() -> None:
    """A new document in the page's main frame: the old one's WebSockets and requests ended
    at the browser's time of the new one's start (its ``init`` lifecycle event); the new
    document's own request (its loader) goes on."""
    driver = Driver(take_all=True)
    page_with_sessions(driver)
    document = loaded_by("L2", request("L2", "http://127.0.0.1:3000/other", ts=100.6))
    driver.feed(document, commit("L2", ts=100.7), navigated("L2"))
    assert ends(driver.records) == [
        ("http-unanswered", WALL + 100.7, PAGE_NAVIGATED),
        ("ws-end", WALL + 100.7, PAGE_NAVIGATED),
    ]
    assert closes(driver.records) == {
        "abc": ("websocket", PAGE_NAVIGATED),
        "p0ll": ("polling", f"a poll left unanswered: {PAGE_NAVIGATED}"),
    }
    # Late events of the old WebSocket end nothing more and are no WebSocket of their own.
    driver.feed(frame("9.20", "4late", ts=100.8), closed("9.20", ts=100.9))
    assert len(ends(driver.records)) == 2 and rules(driver.records) == []
    # The new document's request is still followed, to its answer.
    driver.feed(response("L2"), finished("L2"))
    fetched = [c["params"] for c in driver.sent if c["method"] == "Network.getResponseBody"]
    assert fetched == [{"requestId": "L2"}]


def test_without_a_lifecycle_event_the_end_is_when_the_navigation_was_reported() -> None:
    driver = Driver()
    page_with_sessions(driver)
    driver.feed(commit("L9", ts=100.7), navigated("L2"))  # another load's event
    assert {ts for _, ts, _ in ends(driver.records)} == {round(driver.now, 6)}


def test_a_frame_inside_the_page_navigating_ends_nothing() -> None:
    """Which of the page's WebSockets a frame inside it opened, the browser does not say."""
    driver = Driver()
    page_with_sessions(driver)
    driver.feed(navigated("L3", frame="F1", parent=TARGET))
    assert ends(driver.records) == []


def test_a_tab_detached_by_someone_else_only_cuts_off() -> None:
    """Detached, the page may live on: the record says what was cut off, nothing ends."""
    driver = Driver()
    page_with_sessions(driver)
    driver.feed(event("Inspector.detached", reason="canceled_by_user"), detached())
    (record,) = driver.records[-1:]
    assert isinstance(record, ErrorRecord) and record.rule == "cdp.target.detached"
    assert "1 open WebSocket and 1 unanswered request cut off" in record.reason
    assert ends(driver.records) == []


def test_what_ends_with_a_frame_or_worker() -> None:
    assert gone("page", "closed") == PAGE_CLOSED
    assert gone("page", "navigated") == PAGE_NAVIGATED
    assert gone("page", "crashed") == PAGE_CRASHED
    assert gone("iframe", "navigated") == "the frame navigated away or reloaded"
    assert gone("iframe", "crashed") == "the frame crashed"
    assert gone("shared_worker", "closed") == "the shared worker was closed"
    assert gone("", "closed") == "the target was closed"


def test_a_crashed_tab_ends_its_websockets_and_waiting_polls() -> None:
    """Chromium reports only ``Inspector.targetCrashed``; on the wire the browser closes the
    crashed page's WebSocket (1001) and its poll's connection as for a closed tab: each
    open one ends when the event arrived, and their sessions with them. The target stays
    (a crashed tab can be reloaded); its detach later ends nothing more."""
    driver = Driver()
    page_with_sessions(driver)
    driver.feed(event("Inspector.targetCrashed"))
    when = round(driver.now, 6)  # the event gives no time: when it arrived
    assert ends(driver.records) == [
        ("http-unanswered", when, PAGE_CRASHED),
        ("ws-end", when, PAGE_CRASHED),
    ]
    assert closes(driver.records) == {
        "abc": ("websocket", PAGE_CRASHED),
        "p0ll": ("polling", f"a poll left unanswered: {PAGE_CRASHED}"),
    }
    # The tab's record says it crashed; what it had open ended with records of their own.
    (crashed,) = [r for r in driver.records if isinstance(r, ErrorRecord)]
    assert crashed.rule == "cdp.target.crashed" and "cut off" not in crashed.reason
    assert driver.machine.network.size == 0
    driver.feed(detached())
    assert rules(driver.records) == ["cdp.target.crashed"]
    assert len(ends(driver.records)) == 2


def test_a_crashed_tab_reloaded_goes_on() -> None:
    """``Inspector.targetReloadedAfterCrash``: the tab lives again, and its new document's
    traffic is followed; its close then ends what the new document opened."""
    driver = Driver()
    driver.feed(attached(), *websocket("9.9", WS_URL))
    driver.feed(event("Inspector.targetCrashed"), event("Inspector.targetReloadedAfterCrash"))
    driver.feed(*websocket("9.10", WS_URL), detached())
    assert [(kind, reason) for kind, _, reason in ends(driver.records)] == [
        ("ws-end", PAGE_CRASHED),
        ("ws-end", PAGE_CLOSED),
    ]


def test_a_quiet_tab_closes_without_a_record() -> None:
    driver = Driver()
    driver.feed(attached(), event("Target.detachedFromTarget", session="", sessionId=SESSION))
    assert driver.records == []


def test_other_targets_are_let_go() -> None:
    driver = Driver()
    driver.feed(attached("UI", kind="browser_ui"))
    assert driver.methods()[-2:] == ["Runtime.runIfWaitingForDebugger", "Target.detachFromTarget"]
    assert "Network.enable" not in driver.methods()


def test_opening_a_page_waits_for_the_network_domain() -> None:
    driver = Driver(open_url="http://127.0.0.1:3000/")
    driver.feed(attached())
    assert driver.methods()[-6:] == [
        "Network.enable",
        "Page.enable",
        "Page.setLifecycleEventsEnabled",
        "Target.setAutoAttach",
        "Runtime.runIfWaitingForDebugger",
        "Page.navigate",
    ]
    driver.answer("Page.navigate", {"frameId": "F", "errorText": "net::ERR_CONNECTION_REFUSED"})
    assert rules(driver.records) == ["cdp.navigate.failed"]


def test_a_browser_without_tabs_gets_one_to_open_the_page_in() -> None:
    driver = Driver(open_url="http://127.0.0.1:3000/")
    driver.answer("Target.setAutoAttach", {})
    assert driver.methods()[-1] == "Target.createTarget"


def test_the_end_of_the_connection_finishes_what_is_open() -> None:
    driver = Driver()
    driver.feed(
        attached(), *websocket("9.10", WS_URL), request("1.11"), response("1.11"), finished("1.11")
    )
    driver.feed(frame("9.10", "4late", ts=100.5))
    out = driver.close("cdp.connection.lost", "the connection to the browser was lost")
    assert rules(out) == ["cdp.body.unavailable", "cdp.connection.lost"]
    assert b"4late" in [c.data for c in chunks(out)]
    assert "1 open WebSocket cut off" in out[-1].reason


def test_messages_that_are_not_objects() -> None:
    driver = Driver()
    driver.feed([1, 2], "text", {"params": {}}, None)
    assert rules(driver.records) == ["cdp.message.invalid"] * 4


# -- budgets and clocks ---------------------------------------------------------------------------


def test_pending_requests_stay_within_the_byte_budget() -> None:
    driver = Driver(pending_bytes=20_000)
    driver.feed(attached())
    for index in range(200):
        driver.feed(request(f"3.{index}", EIO + f"&sid=s{index}&pad={'x' * 200}"))
        assert driver.machine.network.size + driver.machine.outbox.size <= 20_000
    evicted = rules(driver.records)
    assert evicted and set(evicted) == {"cdp.budget.evicted"}


def test_frames_held_behind_a_body_stay_within_the_byte_budget() -> None:
    driver = Driver(pending_bytes=50_000)
    driver.feed(
        attached(), *websocket("9.11", WS_URL), request("1.12"), response("1.12"), finished("1.12")
    )
    for index in range(100):
        driver.feed(frame("9.11", "4" + "y" * 1000, ts=100.5 + index / 1000))
        assert driver.machine.outbox.size <= 50_000 + 2000
    assert "cdp.body.unavailable" in rules(driver.records)
    assert len(list(chunks(driver.records))) == 101  # the poll request, and every frame


def test_one_clock_offset_for_the_whole_connection() -> None:
    driver = Driver()
    driver.feed(attached(), request("1.13", ts=50.0))
    late = request("1.14", ts=60.0)
    late["params"]["wallTime"] = WALL + 61.0  # a wall clock that jumped: durations stay exact
    driver.feed(late)
    assert [c.ts for c in chunks(driver.records)] == [WALL + 50.0, WALL + 60.0]


def test_outbox_sorts_by_time_within_its_window() -> None:
    from ioproto_http.records import Chunk as C

    outbox = Outbox(window=0.2)
    outbox.put(10.0, C(ts=5.0, kind=ChunkKind.WS_TEXT, data=b"b"))
    outbox.put(10.05, C(ts=4.0, kind=ChunkKind.WS_TEXT, data=b"a"))
    assert outbox.ready(10.1) == []
    assert [c.data for c in outbox.ready(10.26)] == [b"a", b"b"]
    assert outbox.size == 0
