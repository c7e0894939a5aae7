"""The ``Network`` domain's events of one DevTools connection, turned into chunks.

Sans-IO: :class:`NetworkTranslator` is fed one event at a time (with the local time it
arrived) and puts records into an :class:`~.outbox.Outbox`; where it needs the browser again
(a body) it calls :meth:`Calls.call` and holds the record's place until the reply.

What becomes what (requests and WebSockets that no decoder wants are not followed at all:
``wanted`` is asked with a probe chunk carrying the request's :class:`HttpInfo`, as the HAR
source does):

* ``requestWillBeSent`` → an ``http-request`` chunk (``c2s``) with the body: the exact bytes
  of ``request.postDataEntries`` (base64), else ``postData``, else, when the browser left it
  out (``hasPostData`` but no data: a long or binary body), what
  ``Network.getRequestPostData`` returns.
* ``responseReceived`` + ``loadingFinished`` → an ``http-response`` chunk (``s2c``) at the
  time the page got the body (the last ``dataReceived``, else ``responseReceived``: stamped
  where the page runs, as WebSocket messages are; ``loadingFinished`` is stamped earlier by
  the network service, so mixing them would misorder a poll's answer and a WebSocket
  message), with the body from ``Network.getResponseBody`` (base64 decoded
  when the browser says so: an XHR2 binary payload). ``loadingFailed`` → an error record
  (``cdp.request.aborted`` when the page cancelled it, else ``cdp.request.failed``).
* ``webSocketCreated`` / ``webSocketWillSendHandshakeRequest`` /
  ``webSocketHandshakeResponseReceived`` → nothing yet (a handshake other than 101 gives an
  empty ``http-response`` chunk with its status, so the Engine.IO layer sees the refusal);
  each ``webSocketFrameSent`` / ``webSocketFrameReceived`` → a ``ws-text`` (opcode 1),
  ``ws-binary`` (opcode 2, ``payloadData`` base64) or ``ws-control`` (8, 9, 10) chunk
  carrying the handshake's request and 101 answer. ``webSocketFrameError`` → an error
  record ``cdp.websocket.frame-error``.
* ``webSocketClosed`` ends the WebSocket. Of an open one for which no close frame was
  reported it makes a :class:`~ioproto_http.records.WebSocketEnd` at the browser's time of
  the event, ``code`` ``None`` (not known) and ``reason`` :data:`BROWSER_CLOSED`: the
  Engine.IO layer turns it into the session's ``transport-close``, which ends the session
  then. (A close frame, were one reported, would make that ``transport-close`` itself.)
* The page closed or crashed, or its main frame committed another document (the machine
  sees the target detach, ``Inspector.targetCrashed`` or ``Page.frameNavigated``, and
  calls :meth:`NetworkTranslator.end_document`): the browser reports nothing of the old
  document's WebSockets and requests (below), but they are gone. Each open WebSocket gets
  a ``WebSocketEnd`` (``code`` ``None``, ``reason`` :data:`PAGE_CLOSED`,
  :data:`PAGE_CRASHED` or :data:`PAGE_NAVIGATED`), each waiting request some layer takes
  (a poll naming its session) an :class:`~ioproto_http.records.UnansweredRequest` with the
  same reason, which the Engine.IO layer turns into the session's ``transport-close``.
  Their time: the browser's time of the new document's start (the ``init`` lifecycle
  event, which comes just before ``frameNavigated``), else, as for a closed or crashed
  page, when the event arrived (neither the detach, the crash nor ``frameNavigated``
  carries a time).

What Chromium reports when a WebSocket ends (Chromium 156 headless, socket.io 4.8.1 and
2.5.1, the page's socket upgraded to WebSocket, or polling only for (b1) and (b2); tcpdump
on the server's port showed what was on the wire; tests/browser/test_cdp_ws_close.py keeps
(a), (b1), (b2) and (c) checked):

* No close frame is ever reported, sent or received: no ``webSocketFrameSent/Received``
  with opcode 8. ``webSocketClosed`` carries ``requestId`` and ``timestamp`` only: no close
  code, no reason, not which side closed.
* (a) The page calls ``socket.disconnect()``: the Socket.IO ``DISCONNECT`` (``41``) is
  reported as a frame sent, then ``webSocketClosed`` about 5 ms later. On the wire the
  browser sent a close frame without a status code and the server answered it.
* (b1) The page is closed (``Target.closeTarget``, as closing a tab): no
  ``webSocketClosed``, no ``loadingFailed`` for a waiting poll, no ``Inspector.detached``
  (even with the Inspector domain on); only ``Target.detachedFromTarget`` (and, to a
  client that asked with ``setDiscoverTargets``, ``targetInfoChanged`` ``attached: false``
  and ``targetDestroyed``), none with a time. On the wire the browser sends a close frame
  with 1001 (going away) some 10 ms after the detach arrives; a waiting poll's connection
  is closed (a FIN, unanswered), and the server ends the session ("poll connection closed
  prematurely").
* (b2) The page navigates away (to ``about:blank``, to another page of the same server or
  of another site: the target and its session stay) or reloads: nothing
  at all of the old page's WebSockets or waiting poll in the Network domain, no
  ``loadingFailed``. The ``Page`` domain (which the machine enables for this) reports the
  new document: ``frameStartedNavigating``, ``frameStartedLoading``, then, when it
  commits, ``lifecycleEvent`` ``init`` (with a ``timestamp`` on the Network events' clock)
  and ``frameNavigated`` for the main frame (its ``id`` is the target's id, no
  ``parentId``; a new ``loaderId``, which the new document's own request carries). On the
  wire the old page's close frame (1001) and its poll's FIN go out 4 to 10 ms before that
  ``init`` time: the old document goes as the new one commits. A navigation within the
  document (``location.hash``, ``history.pushState``) gives ``navigatedWithinDocument``,
  no ``frameNavigated``, and the wire shows the WebSocket still open then; one that
  commits nothing (a 204 answer, a download; not checked) gives no ``frameNavigated``
  either, so neither ends anything. A frame inside the page that navigates reports
  ``frameNavigated`` with a ``parentId``; which WebSockets it had, the events do not say
  (``webSocketCreated`` names no frame), so nothing is ended for it.
* (c) The server closes the Engine.IO connection (``socket.conn.close()``: its close frame
  without a status code on the wire): ``webSocketClosed``. The server is killed (SIGKILL)
  or stopped (SIGTERM: its process exits before a close frame goes out): the TCP
  connection ends without a close frame, and ``webSocketClosed`` comes too.
* In (a) and (c) the event's time is a few milliseconds after the first close frame (or
  the FIN) on the wire (0.3 to 3 ms, through the clock's offset): the end of the close
  handshake, or the FIN itself.
* (d) The page crashes (its renderer dies: ``chrome://crash``, ``Page.crash``): only
  ``Inspector.targetCrashed``, without a time; no ``webSocketClosed``, no
  ``loadingFailed``, and the target stays (it can be reloaded). On the wire the browser,
  whose network service outlives the renderer, closes the page's WebSocket as for a closed
  page (a close frame 1001, the server's answer, then a reset) some 10 ms before the event
  arrives, and a waiting poll's connection with a FIN some 40 ms after it. So a crash ends
  the page's document as a close does, with :data:`PAGE_CRASHED`.
* A page detached by someone else lives on: its WebSockets and requests are only counted
  as cut off (``cdp.target.detached``).
* Requests made with ``keepalive`` (``fetch`` with ``keepalive: true``, ``sendBeacon``)
  may outlive their page; the translator does not tell them apart, so one still waiting
  when its page goes is reported unanswered. Engine.IO's requests are never keepalive.

Chunks carry the browser's time (:mod:`.clock`), the request headers as the page sent them
(User-Agent included) and connection names ``cdp:<target>/<request id>-<host>:<port>``:
``<target>`` is the first 8 characters of the DevTools target id of the page (or frame, or
worker) that made the request, ``<request id>`` the browser's id of the request or
WebSocket, host and port those of the URL.

Tracked requests and WebSockets (the ones some decoder wants) are counted in bytes
(:attr:`NetworkTranslator.size`); the source evicts the oldest beyond its budget.
"""

from __future__ import annotations

import base64
import binascii
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import SplitResult, parse_qsl, urlsplit

import attrs
from ioproto_http.records import (
    WS_CLOSE,
    Chunk,
    ChunkKind,
    HttpInfo,
    UnansweredRequest,
    WebSocketEnd,
    control_type,
)

from ioproto.model import Direction, ErrorRecord, Record

from .clock import BrowserClock
from .exchanges import (
    Exchange,
    HttpExchange,
    WebSocketEnded,
    WebSocketMessage,
    WebSocketOpened,
)
from .outbox import Outbox
from .values import Headers, headers, headers_size, integer, mapping, number, text

LAYER = "cdp"
_WS_KINDS = {1: ChunkKind.WS_TEXT, 2: ChunkKind.WS_BINARY}
_CONTROL_OPCODES = frozenset({8, 9, 10})
#: The ``reason`` of the ``ws-end`` record of a WebSocket the browser reported closed (and
#: the ``message`` of the ``transport-close`` made of it): who saw the end, and no more.
BROWSER_CLOSED = "the browser reported it closed; the close code is unknown"
#: The ``reason`` of the ``ws-end`` and ``http-unanswered`` records of a page's WebSockets
#: and waiting requests when the page was closed, or loaded another document (a reload
#: too): what the browser reported, which is all it reports of their end.
PAGE_CLOSED = "the page was closed"
PAGE_NAVIGATED = "the page navigated away or reloaded"
#: The same when the page crashed (its renderer died): on the wire the browser closes them
#: as it does a closed page's (a close frame 1001, a poll's connection ended).
PAGE_CRASHED = "the page crashed"
_DEFAULT_PORTS = {"http": 80, "ws": 80, "https": 443, "wss": 443}
#: Response bodies that are empty by nature: a failed getResponseBody is no loss for these.
_EMPTY_STATUSES = frozenset({101, 204, 304})
#: How many request ids of WebSockets nobody wants are remembered (so that their frames
#: are recognised as not ours rather than as frames of a WebSocket opened before attaching).
_MAX_IGNORED = 4096

Key = tuple[str, str]


class Calls(Protocol):
    """Sends a command to the browser: ``call(method, session, params)`` returns its id."""

    def call(self, method: str, session: str | None, params: Mapping[str, Any]) -> int: ...


@attrs.define(slots=True, eq=False)
class _Response:
    status: int | None = None
    status_text: str = ""
    headers: Headers = ()
    mime_type: str = ""
    socket_id: str = ""
    server_ip: str = ""
    protocol: str = ""


@attrs.define(slots=True, eq=False)
class _Request:
    session: str
    connection: str
    url: str
    method: str
    info: HttpInfo
    started: float
    resource_type: str
    chunk: Chunk
    size: int
    loader: str = ""  # the browser's id of the document load that made it (``loaderId``)
    body: bytes | None = None
    response: _Response | None = None
    delivered: float | None = None  # browser time the page last got bytes of the response
    # The request body is being fetched (Network.getRequestPostData): an exchange that ends
    # before its reply is observed when the reply comes, so the HAR gets the body.
    body_pending: bool = False
    deferred: Callable[[], None] | None = None


@attrs.define(slots=True, eq=False)
class _Socket:
    session: str
    connection: str
    url: str
    info: HttpInfo | None
    size: int
    upgrade: Chunk
    request_headers: Headers = ()
    started: float | None = None
    opened: bool = False  # a 101 answer, or a frame, came: it is a WebSocket
    close_seen: bool = False  # a close frame was reported: its chunk told its end


@attrs.define(slots=True)
class Cut:
    """What a session's (or the connection's) end cut off: open WebSockets and requests."""

    websockets: int = 0
    requests: int = 0
    traffic: bool = False

    def describe(self) -> str:
        parts = []
        if self.websockets:
            parts.append(f"{self.websockets} open WebSocket{'s' * (self.websockets != 1)}")
        if self.requests:
            parts.append(f"{self.requests} unanswered request{'s' * (self.requests != 1)}")
        return " and ".join(parts)


class NetworkTranslator:
    """Network events → chunks, for one DevTools connection; see the module docstring.

    ``prefix(session)`` names a session's target in connection names (``cdp:1A2B3C4D``);
    ``wanted`` is :attr:`~ioproto.components.SourceContext.wanted` (``None``: everything);
    ``take_all`` follows every request; ``observer`` receives :mod:`.exchanges` records;
    ``reply_timeout`` bounds how long a record waits for a body.
    """

    def __init__(
        self,
        *,
        calls: Calls,
        outbox: Outbox,
        prefix: Callable[[str], str],
        wanted: Callable[[Record], bool] | None = None,
        take_all: bool = False,
        observer: Callable[[Exchange], None] | None = None,
        reply_timeout: float = 10.0,
    ) -> None:
        self.clock = BrowserClock()
        self._calls = calls
        self._outbox = outbox
        self._prefix = prefix
        self._wanted = None if take_all else wanted
        self._observer = observer
        self._reply_timeout = reply_timeout
        self._requests: dict[Key, _Request] = {}
        self._sockets: dict[Key, _Socket] = {}
        self._ignored: OrderedDict[Key, None] = OrderedDict()
        self._traffic: set[str] = set()  # sessions that had wanted traffic
        self.size = 0
        self._handlers: dict[str, Callable[[str, Mapping[str, Any], float], None]] = {
            "Network.requestWillBeSent": self._request,
            "Network.responseReceived": self._response,
            "Network.dataReceived": self._data,
            "Network.loadingFinished": self._finished,
            "Network.loadingFailed": self._failed,
            "Network.webSocketCreated": self._ws_created,
            "Network.webSocketWillSendHandshakeRequest": self._ws_handshake,
            "Network.webSocketHandshakeResponseReceived": self._ws_answer,
            "Network.webSocketFrameSent": self._ws_sent,
            "Network.webSocketFrameReceived": self._ws_received,
            "Network.webSocketFrameError": self._ws_error,
            "Network.webSocketClosed": self._ws_closed,
        }

    # -- the translator's interface ----------------------------------------------------------

    def handle(self, method: str, session: str, params: Mapping[str, Any], now: float) -> None:
        """Translate one event of ``session`` that arrived at local epoch time ``now``."""
        handler = self._handlers.get(method)
        if handler is not None:
            handler(session, params, now)

    def end_session(self, session: str | None) -> Cut:
        """Forget what ``session`` (every session if ``None``) still had open; say what."""
        cut = Cut(traffic=session is None or session in self._traffic)
        for key, request in list(self._requests.items()):
            if session is None or request.session == session:
                self._forget_request(key)
                self._observe_exchange(request, error="the page or browser went away")
                cut.requests += 1
        for key, socket in list(self._sockets.items()):
            if session is None or socket.session == session:
                self._forget_socket(key)
                cut.websockets += 1
        if session is not None:
            self._traffic.discard(session)
        return cut

    def end_document(
        self, session: str, reason: str, ts: float, now: float, *, keep_loader: str = ""
    ) -> None:
        """The document of ``session`` went away at ``ts`` (its page was closed, or loaded
        another document), and its WebSockets and waiting requests with it, which the browser
        does not report (see the module docstring).

        Each open WebSocket (a 101 or a message came, no close frame) gets a
        :class:`WebSocketEnd`, ``code`` ``None``; each waiting request some layer takes an
        :class:`UnansweredRequest`; both with ``reason``. Requests of the document load
        ``keep_loader`` (the new document's own request) stay. What ended here is
        forgotten, and a WebSocket's late events are ignored: it cannot end twice.
        """
        for key, request in list(self._requests.items()):
            if request.session != session or (keep_loader and request.loader == keep_loader):
                continue
            self._forget_request(key)
            self._observe_exchange(request, error=reason)
            cut = UnansweredRequest(
                ts=ts,
                connection=request.connection,
                direction="c2s",
                reason=reason,
                http=request.info,
                request_ts=request.started,
            )
            if self._wanted is None or self._wanted(cut):
                self._outbox.put(now, cut)
        for key, socket in list(self._sockets.items()):
            if socket.session == session:
                self._forget_socket(key)
                self._ignore(key)
                self._socket_ended(socket, ts, reason, now)

    def evict_oldest(self, now: float, budget: int) -> bool:
        """Forget the oldest tracked request (else WebSocket) to stay within ``budget``
        bytes; an error record says so. False if nothing is tracked."""
        if self._requests:
            key = next(iter(self._requests))
            request = self._requests[key]
            self._forget_request(key)
            self._observe_exchange(request, error="forgotten: byte budget")
            what = f"{request.method} {request.info.target}"
            self._evicted(now, request.chunk, f"request {what}", budget)
            return True
        if self._sockets:
            key = next(iter(self._sockets))
            socket = self._sockets[key]
            self._forget_socket(key)
            self._ignore(key)
            self._evicted(now, socket.upgrade, f"WebSocket {socket.url}", budget)
            return True
        return False

    # -- HTTP -----------------------------------------------------------------------------------

    def _request(self, session: str, params: Mapping[str, Any], now: float) -> None:
        rid = text(params.get("requestId"))
        request = mapping(params.get("request"))
        url = text(request.get("url"))
        if rid is None or url is None:
            return
        key = (session, rid)
        stamp = number(params.get("timestamp"))
        self.clock.learn(stamp, number(params.get("wallTime")))
        ts = self.clock.epoch(stamp, now)
        redirect = mapping(params.get("redirectResponse"))
        if key in self._requests and redirect:
            # The same id goes on to the new URL: the 3xx was the old request's answer.
            self._response(session, {"requestId": rid, "response": redirect}, now)
            self._respond(key, ts, b"", now)
        elif key in self._requests:
            self._forget_request(key)
        parts = _split(url)
        method = text(request.get("method")) or "GET"
        pairs = headers(request.get("headers"))
        info = _request_info(parts, method, pairs, ts)
        if not self._wants(ChunkKind.HTTP_REQUEST, info):
            return
        self._traffic.add(session)
        connection = self._connection(session, rid, parts)
        chunk = _bodiless_request(ts, connection, info)
        size = 300 + len(url) + headers_size(pairs)
        tracked = _Request(
            session=session,
            connection=connection,
            url=url,
            method=method,
            info=info,
            started=ts,
            resource_type=text(params.get("type")) or "Other",
            chunk=chunk,
            size=size,
            loader=text(params.get("loaderId")) or "",
        )
        self._requests[key] = tracked
        self.size += size
        body = _post_body(request)
        if body is not None:
            tracked.body = body
            self._outbox.put(now, attrs.evolve(chunk, data=body))
            return

        def finish(result: Mapping[str, Any] | None, error: str | None) -> list[Record]:
            data = _reply_bytes(result, "postData") if result is not None else None
            tracked.body = data
            tracked.body_pending = False
            if tracked.deferred is not None:
                tracked.deferred()
                tracked.deferred = None
            if data is None:
                why = error or "the reply held no postData"
                return [_error(chunk, "cdp.body.unavailable", f"request body not read: {why}")]
            return [attrs.evolve(chunk, data=data)]

        tracked.body_pending = True
        ident = self._calls.call("Network.getRequestPostData", session, {"requestId": rid})
        self._hold(ident, finish, now, ts, session)

    def _response(self, session: str, params: Mapping[str, Any], now: float) -> None:
        tracked = self._requests.get((session, text(params.get("requestId")) or ""))
        if tracked is None:
            return
        tracked.delivered = self.clock.epoch(number(params.get("timestamp")), now)
        response = mapping(params.get("response"))
        status = integer(response.get("status"))
        tracked.response = _Response(
            status=status if status is not None and 0 <= status < 1000 else None,
            status_text=text(response.get("statusText")) or "",
            headers=headers(response.get("headers")),
            mime_type=text(response.get("mimeType")) or "",
            socket_id=_as_id(response.get("connectionId")),
            server_ip=text(response.get("remoteIPAddress")) or "",
            protocol=text(response.get("protocol")) or "",
        )

    def _data(self, session: str, params: Mapping[str, Any], now: float) -> None:
        tracked = self._requests.get((session, text(params.get("requestId")) or ""))
        if tracked is not None:
            tracked.delivered = self.clock.epoch(number(params.get("timestamp")), now)

    def _finished(self, session: str, params: Mapping[str, Any], now: float) -> None:
        rid = text(params.get("requestId")) or ""
        key = (session, rid)
        tracked = self._requests.get(key)
        if tracked is None:
            return
        # The page's time of the body (responseReceived, dataReceived: stamped where the page
        # runs, like WebSocket messages), not loadingFinished's (stamped by the network
        # service, earlier): one clock for all, so a capture's order is kept.
        ts = tracked.delivered
        if ts is None:
            ts = self.clock.epoch(number(params.get("timestamp")), now)
        response = tracked.response or _Response()
        if tracked.resource_type == "Preflight" or response.status in _EMPTY_STATUSES:
            self._respond(key, ts, b"", now)
            return
        self._forget_request(key)
        info = _response_info(tracked, response)

        def finish(result: Mapping[str, Any] | None, error: str | None) -> list[Record]:
            data = _reply_bytes(result, "body") if result is not None else None
            if data is None:
                self._observe_exchange(tracked, ts, b"" if error is None else None)
                why = error or "the reply held no body"
                probe = _response_chunk(tracked, info, ts, b"")
                return [_error(probe, "cdp.body.unavailable", f"response body not read: {why}")]
            self._observe_exchange(tracked, ts, data)
            return [_response_chunk(tracked, info, ts, data)]

        ident = self._calls.call("Network.getResponseBody", session, {"requestId": rid})
        self._hold(ident, finish, now, ts, session)

    def _hold(
        self,
        ident: int,
        finish: Callable[[Mapping[str, Any] | None, str | None], list[Record]],
        now: float,
        ts: float,
        session: str,
    ) -> None:
        deadline = now + self._reply_timeout
        self._outbox.hold(ident, finish, now=now, ts=ts, deadline=deadline, owner=session)

    def _respond(self, key: Key, ts: float, data: bytes, now: float) -> None:
        """The response chunk of ``key`` with ``data``, at once (no body to fetch)."""
        tracked = self._requests.get(key)
        if tracked is None:
            return
        self._forget_request(key)
        info = _response_info(tracked, tracked.response or _Response())
        self._observe_exchange(tracked, ts, data)
        self._outbox.put(now, _response_chunk(tracked, info, ts, data))

    def _failed(self, session: str, params: Mapping[str, Any], now: float) -> None:
        key = (session, text(params.get("requestId")) or "")
        tracked = self._requests.get(key)
        if tracked is None:
            return
        self._forget_request(key)
        ts = self.clock.epoch(number(params.get("timestamp")), now)
        reason = text(params.get("errorText")) or "failed"
        cancelled = params.get("canceled") is True
        self._observe_exchange(tracked, error=reason)
        rule = "cdp.request.aborted" if cancelled else "cdp.request.failed"
        what = "cancelled by the page" if cancelled else "failed"
        message = f"{tracked.method} {tracked.info.target} {what}: {reason}"
        self._outbox.put(now, _error(tracked.chunk, rule, message, ts=ts))

    # -- WebSockets ---------------------------------------------------------------------------

    def _ws_created(self, session: str, params: Mapping[str, Any], now: float) -> None:
        rid = text(params.get("requestId"))
        url = text(params.get("url"))
        if rid is None or url is None:
            return
        key = (session, rid)
        if key in self._sockets:
            self._forget_socket(key)
        parts = _split(url)
        info = _request_info(parts, "GET", (), None)
        if not self._wants(ChunkKind.WS_TEXT, info):
            self._ignore(key)
            return
        self._traffic.add(session)
        self._track_socket(key, session, url, parts, info, self.clock.epoch(None, now))

    def _ws_handshake(self, session: str, params: Mapping[str, Any], now: float) -> None:
        socket = self._sockets.get((session, text(params.get("requestId")) or ""))
        if socket is None:
            return
        stamp = number(params.get("timestamp"))
        self.clock.learn(stamp, number(params.get("wallTime")))
        socket.started = self.clock.epoch(stamp, now)
        socket.request_headers = headers(mapping(params.get("request")).get("headers"))
        info = _request_info(_split(socket.url), "GET", socket.request_headers, socket.started)
        socket.info = info
        socket.upgrade = attrs.evolve(socket.upgrade, ts=socket.started, http=info)

    def _ws_answer(self, session: str, params: Mapping[str, Any], now: float) -> None:
        key = (session, text(params.get("requestId")) or "")
        socket = self._sockets.get(key)
        if socket is None:
            return
        ts = self.clock.epoch(number(params.get("timestamp")), now)
        response = mapping(params.get("response"))
        status = integer(response.get("status"))
        reason = text(response.get("statusText")) or ""
        answer = headers(response.get("headers"))
        sent = socket.request_headers or headers(response.get("requestHeaders"))
        started = socket.started if socket.started is not None else ts
        base = _request_info(_split(socket.url), "GET", sent, started)
        info = attrs.evolve(
            base, status=status, reason=reason or None, headers=answer, request_headers=sent
        )
        socket.info = info
        socket.opened = status == 101
        if self._observer is not None:
            self._observer(
                WebSocketOpened(
                    key=key,
                    connection=socket.connection,
                    url=socket.url,
                    request_headers=sent,
                    started=started,
                    status=status or 0,
                    status_text=reason,
                    response_headers=answer,
                )
            )
        if status != 101:
            # Refused: what a capture shows is the HTTP answer (its body CDP does not give).
            self._outbox.put(
                now,
                Chunk(
                    ts=ts,
                    connection=socket.connection,
                    direction="s2c",
                    kind=ChunkKind.HTTP_RESPONSE,
                    data=b"",
                    http=info,
                ),
            )

    def _ws_sent(self, session: str, params: Mapping[str, Any], now: float) -> None:
        self._ws_frame(session, params, now, "c2s")

    def _ws_received(self, session: str, params: Mapping[str, Any], now: float) -> None:
        self._ws_frame(session, params, now, "s2c")

    def _ws_frame(
        self, session: str, params: Mapping[str, Any], now: float, direction: Direction
    ) -> None:
        rid = text(params.get("requestId"))
        if rid is None:
            return
        key = (session, rid)
        socket = self._sockets.get(key)
        if socket is None:
            if key in self._ignored:
                return
            socket = self._adopt(key, session, now)
        ts = self.clock.epoch(number(params.get("timestamp")), now)
        frame = mapping(params.get("response"))
        opcode = integer(frame.get("opcode"))
        payload = text(frame.get("payloadData"))
        problem = None
        data = b""
        if payload is None:
            problem = "the frame has no payloadData string"
        elif opcode == 2:
            try:
                data = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                problem = "binary payloadData is not base64"
        elif opcode == 1 or opcode in _CONTROL_OPCODES:
            data = _utf8(payload)
        else:
            problem = f"opcode {opcode!r} is not 1 (text), 2 (binary) or 8-10 (control)"
        if problem is not None:
            raw = _utf8(payload or "")
            self._outbox.put(
                now, _error(socket.upgrade, "cdp.websocket.bad-frame", problem, ts=ts, raw=raw)
            )
            return
        assert opcode is not None and payload is not None
        kind = _WS_KINDS.get(opcode, ChunkKind.WS_CONTROL)
        kind_name = control_type(opcode) if kind is ChunkKind.WS_CONTROL else str(kind)
        socket.opened = True
        socket.close_seen = socket.close_seen or kind_name == WS_CLOSE
        self._outbox.put(
            now,
            Chunk(
                ts=ts,
                connection=socket.connection,
                direction=direction,
                kind=kind,
                data=data,
                http=socket.info,
                type=kind_name,
            ),
        )
        if self._observer is not None:
            self._observer(
                WebSocketMessage(
                    key=key, sent=direction == "c2s", ts=ts, opcode=opcode, data=payload
                )
            )

    def _ws_error(self, session: str, params: Mapping[str, Any], now: float) -> None:
        socket = self._sockets.get((session, text(params.get("requestId")) or ""))
        if socket is None:
            return
        ts = self.clock.epoch(number(params.get("timestamp")), now)
        message = text(params.get("errorMessage")) or "unknown error"
        reason = f"WebSocket {socket.url}: {message}"
        self._outbox.put(now, _error(socket.upgrade, "cdp.websocket.frame-error", reason, ts=ts))

    def _ws_closed(self, session: str, params: Mapping[str, Any], now: float) -> None:
        key = (session, text(params.get("requestId")) or "")
        self._ignored.pop(key, None)
        socket = self._sockets.get(key)
        if socket is None:
            return
        self._forget_socket(key)
        ts = self.clock.epoch(number(params.get("timestamp")), now)
        self._socket_ended(socket, ts, BROWSER_CLOSED, now)

    def _socket_ended(self, socket: _Socket, ts: float, reason: str, now: float) -> None:
        """A ``ws-end`` for ``socket``, which ended at ``ts``, if it had opened and no close
        frame told its end."""
        if socket.opened and not socket.close_seen:
            # Chromium reports no close frames (see the module docstring): the event that
            # told the end is all there is of it, so the record says what was reported and
            # no close code.
            end = WebSocketEnd(
                ts=ts, connection=socket.connection, reason=reason, http=socket.info, code=None
            )
            self._outbox.put(now, end)

    def _adopt(self, key: Key, session: str, now: float) -> _Socket:
        """A WebSocket first seen by a frame: opened before we attached, URL unknown. Its
        messages are passed on without HTTP facts (the Engine.IO layer takes such chunks,
        as it takes lines), after a record that says so."""
        self._traffic.add(session)
        ts = self.clock.epoch(None, now)
        socket = self._track_socket(key, session, "", None, None, ts)
        reason = (
            f"WebSocket {key[1]} was opened before ioproto attached: its URL is unknown, so "
            "its messages are decoded as Engine.IO without a session id (reload the page "
            "to see the session whole)"
        )
        self._outbox.put(now, _error(socket.upgrade, "cdp.websocket.unknown", reason, ts=ts))
        return socket

    def _track_socket(
        self,
        key: Key,
        session: str,
        url: str,
        parts: SplitResult | None,
        info: HttpInfo | None,
        ts: float,
    ) -> _Socket:
        connection = self._connection(session, key[1], parts)
        upgrade = _bodiless_request(ts, connection, info)
        size = 300 + len(url)
        socket = _Socket(
            session=session, connection=connection, url=url, info=info, size=size, upgrade=upgrade
        )
        self._sockets[key] = socket
        self.size += size
        return socket

    # -- bookkeeping ----------------------------------------------------------------------------

    def _forget_request(self, key: Key) -> None:
        request = self._requests.pop(key, None)
        if request is not None:
            self.size -= request.size

    def _forget_socket(self, key: Key) -> None:
        socket = self._sockets.pop(key, None)
        if socket is not None:
            self.size -= socket.size
            if self._observer is not None:
                self._observer(WebSocketEnded(key=key))

    def _ignore(self, key: Key) -> None:
        self._ignored[key] = None
        if len(self._ignored) > _MAX_IGNORED:
            self._ignored.popitem(last=False)

    def _evicted(self, now: float, parent: Chunk, what: str, budget: int) -> None:
        reason = (
            f"forgot {what}: more than {budget} bytes of requests and WebSockets were "
            "waiting for answers (source option pending_bytes)"
        )
        self._outbox.put(now, _error(parent, "cdp.budget.evicted", reason, ts=round(now, 6)))

    def _observe_exchange(
        self,
        request: _Request,
        finished: float | None = None,
        body: bytes | None = None,
        error: str = "",
    ) -> None:
        if self._observer is None:
            return
        if request.body_pending:
            request.deferred = lambda: self._observe_exchange(request, finished, body, error)
            return
        response = request.response or _Response()
        self._observer(
            HttpExchange(
                connection=request.connection,
                url=request.url,
                method=request.method,
                request_headers=request.info.headers,
                request_body=request.body,
                started=request.started,
                resource_type=request.resource_type,
                status=(response.status or 0) if not error else 0,
                status_text=response.status_text,
                response_headers=response.headers,
                mime_type=response.mime_type,
                response_body=body,
                finished=finished,
                socket_id=response.socket_id,
                server_ip=response.server_ip,
                protocol=response.protocol,
                error=error,
            )
        )

    def _wants(self, kind: ChunkKind, info: HttpInfo) -> bool:
        """Whether some decoder wants the chunks of a request (or WebSocket) like ``info``."""
        probe = Chunk(ts=0.0, kind=kind, data=b"", http=info)
        return self._wanted is None or self._wanted(probe)

    def _connection(self, session: str, rid: str, parts: SplitResult | None) -> str:
        return f"{self._prefix(session)}/{rid}-{_server(parts)}"


# -- helpers ------------------------------------------------------------------------------------


def gone(kind: str, how: str) -> str:
    """The ``reason`` of the records ending what a target of type ``kind`` had open when it
    was ``how`` ``"closed"``, ``"navigated"`` (loaded another document) or ``"crashed"``:
    :data:`PAGE_CLOSED`, :data:`PAGE_NAVIGATED`, :data:`PAGE_CRASHED`, or the same of a
    frame (``iframe``) or worker."""
    what = "page" if kind == "page" else "frame" if kind == "iframe" else kind.replace("_", " ")
    what = what or "target"
    if how == "navigated":
        return f"the {what} navigated away or reloaded"
    return f"the {what} crashed" if how == "crashed" else f"the {what} was closed"


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return SplitResult("", "", url, "", "")


def _server(parts: SplitResult | None) -> str:
    """``host:port`` of a URL (IPv6 hosts in brackets), ``unknown`` when it has none."""
    if parts is None:
        return "unknown"
    try:
        host = parts.hostname
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        host, port = None, None
    if not host:
        return "unknown"
    if port is None:
        port = _DEFAULT_PORTS.get(parts.scheme)
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def _request_info(
    parts: SplitResult, method: str, pairs: Headers, started: float | None
) -> HttpInfo:
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return HttpInfo(
        method=method,
        target=target,
        path=parts.path,
        query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
        headers=pairs,
        request_headers=pairs,
        request_ts=started,
    )


def _response_info(request: _Request, response: _Response) -> HttpInfo:
    return attrs.evolve(
        request.info,
        status=response.status,
        reason=response.status_text or None,
        headers=response.headers,
    )


def _bodiless_request(ts: float, connection: str, info: HttpInfo | None) -> Chunk:
    """A request without its body: what errors about a request or WebSocket hang from."""
    return Chunk(
        ts=ts,
        connection=connection,
        direction="c2s",
        kind=ChunkKind.HTTP_REQUEST,
        data=b"",
        http=info,
    )


def _response_chunk(request: _Request, info: HttpInfo, ts: float, data: bytes) -> Chunk:
    return Chunk(
        ts=ts,
        connection=request.connection,
        direction="s2c",
        kind=ChunkKind.HTTP_RESPONSE,
        data=data,
        http=info,
    )


def _post_body(request: Mapping[str, Any]) -> bytes | None:
    """The request body when the event holds all of it; ``None`` when it must be fetched."""
    entries = request.get("postDataEntries")
    if isinstance(entries, list) and entries:
        pieces = []
        for entry in entries:
            encoded = text(mapping(entry).get("bytes"))
            if encoded is None:
                return None  # a part the event does not carry (a blob, a file)
            try:
                pieces.append(base64.b64decode(encoded, validate=True))
            except (binascii.Error, ValueError):
                return None
        return b"".join(pieces)
    post = text(request.get("postData"))
    if post is not None:
        return _utf8(post)
    return None if request.get("hasPostData") is True else b""


def _reply_bytes(result: Mapping[str, Any], field: str) -> bytes | None:
    """``result[field]``, base64-decoded when ``result["base64Encoded"]`` says so."""
    value = text(result.get(field))
    if value is None:
        return None
    if result.get("base64Encoded") is True:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
    return _utf8(value)


def _utf8(value: str) -> bytes:
    # Lone surrogates (a JSON escape can make one) are kept as their bytes, never raised on.
    return value.encode("utf-8", "surrogatepass")


def _as_id(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return ""


def _error(
    parent: Chunk, rule: str, reason: str, *, ts: float | None = None, raw: bytes = b""
) -> ErrorRecord:
    """An error about a request or WebSocket: ``parent`` (its request) lets the Engine.IO
    layer attribute it to its session."""
    return ErrorRecord(
        ts=parent.ts if ts is None else ts,
        connection=parent.connection,
        parent=parent,
        layer=LAYER,
        rule=rule,
        reason=reason,
        raw=raw[:4096],
    )
