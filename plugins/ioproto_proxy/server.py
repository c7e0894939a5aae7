"""The reverse proxy itself: aiohttp server in front, aiohttp client towards the upstream.

Every HTTP request is forwarded with its method, path, query, body and end-to-end headers
(``Host`` kept as the client sent it; ``X-Forwarded-For`` appended to, ``X-Forwarded-Proto``
and ``X-Forwarded-Host`` set). Bodies are forwarded byte for byte: compressed responses stay
compressed on the wire and are decompressed only for the tap.

A WebSocket upgrade is answered only after the upstream accepted its own upgrade (an upstream
refusal is passed back with its status). Each hop negotiates separately and neither offers
permessage-deflate, so nothing is compressed between the hops and the tap sees plain
messages. Text, binary, ping, pong and close frames are relayed as they come; a close code is
passed on to the other side (an empty close, 1005, becomes 1000 since a close frame sent
with a reason needs a code).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import aiohttp
from aiohttp import WSMsgType, web
from multidict import CIMultiDict
from yarl import URL

from ioproto.model import ChunkKind, Direction, HttpInfo

from .chunks import UndecodableBody, decode_body, request_info, response_info
from .tap import TapWriter

#: Hop-by-hop headers (RFC 9110 7.6.1) that a proxy must not forward.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
#: Headers of the client's upgrade request that belong to its own hop only.
WS_HOP = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-protocol",
        "content-length",
    }
)
#: Headers the client library must not add on its own, so requests stay as the client sent.
SKIP_AUTO = ("User-Agent", "Accept-Encoding", "Accept", "Content-Type")


class ProxyApp:
    """One running reverse proxy towards ``upstream``, tapping into ``tap``.

    ``start(host, port)`` binds and returns the bound ``(host, port)``; ``stop()`` closes
    listeners, open WebSockets and upstream connections. Both must run on the same loop.
    """

    def __init__(
        self,
        upstream: str,
        tap: TapWriter,
        *,
        max_body: int = 16 * 1024 * 1024,
        max_message: int = 64 * 1024 * 1024,
        shutdown_timeout: float = 1.0,
    ) -> None:
        self.upstream = URL(upstream)
        if self.upstream.scheme not in ("http", "https") or not self.upstream.host:
            raise ValueError(f"upstream must be an http:// or https:// URL, not {upstream!r}")
        self.tap = tap
        self.max_body = max_body
        self.max_message = max_message
        self.shutdown_timeout = shutdown_timeout
        self._server_end = f"{self.upstream.host}:{self.upstream.port}"
        self._prefix = self.upstream.raw_path.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, force_close=False),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=SKIP_AUTO,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
        )
        app = web.Application(client_max_size=self.max_body)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=self.shutdown_timeout
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=1024, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await self.stop()
            raise
        bound = self._runner.addresses[0]
        return str(bound[0]), int(bound[1])

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"proxy shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- requests ----------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Forward one request (plain HTTP or WebSocket upgrade)."""
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._forward_ws(request)
        return await self._forward_http(request)

    async def _forward_http(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        ts = time.time()
        body = await request.read()
        connection = self._connection(request)
        info = self._request_info(request, ts)
        self._tap_chunk(ts, connection, "c2s", ChunkKind.HTTP_REQUEST, body, info)
        try:
            async with self._session.request(
                request.method,
                self._upstream_url(request),
                headers=self._upstream_headers(request, exclude=frozenset({"content-length"})),
                data=body if body else None,
                allow_redirects=False,
            ) as upstream:
                payload = await upstream.read()
                status, reason = upstream.status, upstream.reason
                headers = list(upstream.headers.items())
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._tap_error(ts, connection, info, "proxy.upstream.unreachable", str(exc))
            return web.Response(status=502, text=f"ioproto proxy: upstream failed: {exc}\n")
        response_ts = time.time()
        reply_headers: CIMultiDict[str] = CIMultiDict(
            (name, value)
            for name, value in headers
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
        )
        reply = web.Response(status=status, reason=reason, body=payload, headers=reply_headers)
        answer = response_info(info, status=status, reason=reason, headers=headers)
        try:
            decoded = decode_body(payload, _lower_map(headers), self.max_body)
        except UndecodableBody as exc:
            self._tap_error(response_ts, connection, answer, "proxy.body.undecodable", str(exc))
        else:
            if request.method != "HEAD":
                self._tap_chunk(
                    response_ts, connection, "s2c", ChunkKind.HTTP_RESPONSE, decoded, answer
                )
        return reply

    async def _forward_ws(self, request: web.Request) -> web.StreamResponse:
        assert self._session is not None
        ts = time.time()
        connection = self._connection(request)
        # Like the pcap source: the upgrade request itself gives no chunk, only the messages.
        info = self._request_info(request, ts)
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        protocols = [item.strip() for item in offered.split(",") if item.strip()]
        try:
            upstream = await self._session.ws_connect(
                self._upstream_url(request),
                headers=self._upstream_headers(request, exclude=WS_HOP),
                protocols=protocols,
                autoclose=False,
                autoping=False,
                compress=0,
                max_msg_size=self.max_message,
                decode_text=False,
            )
        except aiohttp.WSServerHandshakeError as exc:
            self._tap_error(ts, connection, info, "proxy.upstream.ws-refused", str(exc))
            return web.Response(status=exc.status or 502, text=f"{exc.message}\n")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._tap_error(ts, connection, info, "proxy.upstream.unreachable", str(exc))
            return web.Response(status=502, text=f"ioproto proxy: upstream failed: {exc}\n")
        client = web.WebSocketResponse(
            protocols=(upstream.protocol,) if upstream.protocol else (),
            autoclose=False,
            autoping=False,
            compress=False,
            max_msg_size=self.max_message,
            decode_text=False,
        )
        self._sockets.add(client)
        try:
            await client.prepare(request)
            await self._relay(client, upstream, connection, info)
        finally:
            self._sockets.discard(client)
            if not upstream.closed:
                await upstream.close()
        return client

    async def _relay(
        self,
        client: web.WebSocketResponse,
        upstream: aiohttp.ClientWebSocketResponse[bool],
        connection: str,
        info: HttpInfo,
    ) -> None:
        to_server = asyncio.ensure_future(self._pump(client, upstream, "c2s", connection, info))
        to_client = asyncio.ensure_future(self._pump(upstream, client, "s2c", connection, info))
        try:
            await asyncio.wait((to_server, to_client), return_when=asyncio.FIRST_COMPLETED)
            # The other direction still carries the closing handshake's answer; give it a
            # moment, then stop it.
            await asyncio.wait((to_server, to_client), timeout=self.shutdown_timeout)
        finally:
            for task in (to_server, to_client):
                task.cancel()
            await asyncio.gather(to_server, to_client, return_exceptions=True)

    async def _pump(
        self, source: Any, target: Any, direction: Direction, connection: str, info: HttpInfo
    ) -> None:
        while True:
            message = await source.receive()
            kind = message.type
            now = time.time()
            if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
                data = message.data
                if isinstance(data, str):
                    data = data.encode("utf-8")
                await target.send_frame(data, kind)
                chunk_kind = ChunkKind.WS_TEXT if kind is WSMsgType.TEXT else ChunkKind.WS_BINARY
                self._tap_chunk(now, connection, direction, chunk_kind, data, info)
            elif kind is WSMsgType.PING or kind is WSMsgType.PONG:
                data = bytes(message.data or b"")
                if kind is WSMsgType.PING:
                    await target.ping(data)
                else:
                    await target.pong(data)
                self._tap_chunk(now, connection, direction, ChunkKind.WS_CONTROL, data, info)
            elif kind is WSMsgType.CLOSE:
                code = int(message.data or 1000)
                if code == 1005 or code < 1000:
                    code = 1000
                reason = (message.extra or "").encode("utf-8")
                payload = code.to_bytes(2, "big") + reason
                self._tap_chunk(now, connection, direction, ChunkKind.WS_CONTROL, payload, info)
                await target.close(code=code, message=reason)
                await source.close(code=code, message=reason)
                return
            elif kind is WSMsgType.CLOSING:
                # The other pump is closing this socket on behalf of the other side.
                return
            else:  # CLOSED or ERROR: this side went away without a closing handshake.
                if not target.closed:
                    await target.close(code=aiohttp.WSCloseCode.GOING_AWAY)
                return

    # -- helpers -----------------------------------------------------------------------------

    def _upstream_url(self, request: web.Request) -> URL:
        return self.upstream.with_path(
            self._prefix + request.raw_path.split("?", 1)[0], encoded=True
        ).with_query(request.query_string)

    def _upstream_headers(self, request: web.Request, exclude: frozenset[str]) -> CIMultiDict[str]:
        connection_tokens = {
            token.strip().lower() for token in request.headers.get("Connection", "").split(",")
        }
        headers: CIMultiDict[str] = CIMultiDict()
        for name, value in request.headers.items():
            lowered = name.lower()
            if lowered in HOP_BY_HOP or lowered in exclude or lowered in connection_tokens:
                continue
            if lowered.startswith("x-forwarded-"):
                continue
            headers.add(name, value)
        peer = _peer(request)[0]
        previous = request.headers.getall("X-Forwarded-For", [])
        headers["X-Forwarded-For"] = ", ".join([*previous, peer]) if previous else peer
        headers["X-Forwarded-Proto"] = request.scheme
        if request.host:
            headers["X-Forwarded-Host"] = request.host
        return headers

    def _connection(self, request: web.Request) -> str:
        host, port = _peer(request)
        return f"{host}:{port}-{self._server_end}"

    def _request_info(self, request: web.Request, ts: float) -> HttpInfo:
        return request_info(
            method=request.method,
            target=request.raw_path,
            path=request.path,
            query=tuple(request.query.items()),
            headers=request.headers.items(),
            ts=ts,
        )

    def _tap_chunk(
        self,
        ts: float,
        connection: str,
        direction: Direction,
        kind: ChunkKind,
        data: bytes,
        info: HttpInfo,
    ) -> None:
        self.tap.put_chunk(ts, connection, direction, kind, data, info)

    def _tap_error(
        self, ts: float, connection: str, info: HttpInfo, rule: str, reason: str
    ) -> None:
        self.tap.put_error(ts, connection, info, rule, reason)


def _peer(request: web.Request) -> tuple[str, int]:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2:
        return str(peer[0]), int(peer[1])
    return str(request.remote or "unknown"), 0


def _lower_map(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}
