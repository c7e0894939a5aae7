"""The dashboard's web server: aiohttp on its own event loop, in its own thread.

aiohttp is imported here only, when a dashboard is served (``ioproto`` itself starts
without it). Routes (docs/dashboard.md):

* ``GET /`` the page; ``GET /static/NAME`` its scripts, styles and the vendored chart
  library (a fixed list: no path from the request reaches the file system);
* ``GET /api/summary`` the ``ioproto stats --format json`` document so far;
* ``GET /api/snapshot`` what the page draws; ``GET /api/stream`` the same as Server-Sent
  Events, one ``snapshot`` event per publication (a slow reader skips to the newest);
* ``GET /api/packets?after=SEQ&limit=N`` rows of the sampled packet table;
* ``GET /api/sessions?limit=N`` recent sessions; ``GET /api/session/SID`` one session's
  milestones and timeline.

Security: bound to loopback, requests must name a loopback host (``Host`` header), which
stops DNS-rebinding pages from reading the API. Bound elsewhere, every request must carry
the random access token (``?token=`` once; the page then keeps it in a same-site,
HTTP-only cookie). Every response forbids framing and sniffing; the page's
Content-Security-Policy allows only its own scripts, so even a slip in escaping could not run
code from the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ioproto_stats.report import render_json

from .hub import Hub, dump_json
from .page import STATIC_FILES, index_html, static_bytes

if TYPE_CHECKING:
    from aiohttp import web

TOKEN_COOKIE = "ioproto_dashboard_token"
MAX_STREAMS = 32
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is this machine's loopback."""
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one); OSError if it cannot."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(64)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class DashboardServer:
    """Serves ``hub`` on ``sock`` from a daemon thread; :meth:`stop` ends it."""

    def __init__(self, hub: Hub, sock: socket.socket, *, token: str | None) -> None:
        self.hub = hub
        self.sock = sock
        self.token = token
        self.loopback = is_loopback(sock.getsockname()[0])
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._changed: asyncio.Condition | None = None
        self._streams = 0
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ioproto-dashboard", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"the dashboard server did not start: {self._error}")

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)

    # -- the server thread --------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start()
            self._error = exc
        finally:
            self._ready.set()
            loop.close()

    async def _serve(self) -> None:
        from aiohttp import web

        self._stop = asyncio.Event()
        self._changed = asyncio.Condition()
        loop = asyncio.get_running_loop()

        def published() -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self._notify()))

        @web.middleware
        async def guard(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            return await self._guard(request, handler)

        app = web.Application(middlewares=[guard])
        app.router.add_get("/", self._page)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/summary", self._summary)
        app.router.add_get("/api/snapshot", self._snapshot)
        app.router.add_get("/api/stream", self._stream)
        app.router.add_get("/api/packets", self._packets)
        app.router.add_get("/api/sessions", self._sessions)
        app.router.add_get("/api/session/{sid}", self._session)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.SockSite(runner, self.sock)
        await site.start()
        self.hub.on_publish = published
        refresher = asyncio.ensure_future(self._refresh_loop())
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            self.hub.on_publish = None
            refresher.cancel()
            await runner.cleanup()

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            if self.hub.needs_refresh():
                # Publishing takes milliseconds: off the loop, so pages are served meanwhile.
                await asyncio.to_thread(self.hub.refresh)

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    # -- middleware ---------------------------------------------------------------------------

    @staticmethod
    def _headers(response: web.StreamResponse) -> None:
        for name, value in _COMMON_HEADERS.items():
            response.headers.setdefault(name, value)

    async def _guard_check(self, request: web.Request) -> str | None:
        """Why ``request`` is refused, or ``None``."""
        if self.loopback:
            host = request.host.rsplit(":", 1)[0] if request.host else ""
            if not is_loopback(host):
                return "this dashboard only answers requests for localhost"
        if self.token is not None:
            given = request.query.get("token") or request.cookies.get(TOKEN_COOKIE) or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return "an access token is needed: open the URL ioproto printed"
        return None

    async def _guard(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        from aiohttp import web

        refused = await self._guard_check(request)
        if refused is not None:
            response: web.StreamResponse = web.Response(status=403, text=refused + "\n")
        else:
            response = await handler(request)
            if self.token is not None and request.query.get("token") == self.token:
                response.set_cookie(
                    TOKEN_COOKIE, self.token, httponly=True, samesite="Strict", path="/"
                )
        self._headers(response)
        return response

    # -- handlers -----------------------------------------------------------------------------

    async def _page(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        response = web.Response(body=index_html(), content_type="text/html", charset="utf-8")
        response.headers["Content-Security-Policy"] = PAGE_CSP
        return response

    async def _static(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.Response(body=static_bytes(name), content_type=STATIC_FILES[name])

    @staticmethod
    def _json(body: bytes) -> web.Response:
        from aiohttp import web

        return web.Response(body=body, content_type="application/json")

    async def _summary(self, request: web.Request) -> web.StreamResponse:
        figures = self.hub.published.figures
        text = await asyncio.to_thread(render_json, figures)
        return self._json(text.encode())

    async def _snapshot(self, request: web.Request) -> web.StreamResponse:
        return self._json(self.hub.published.snapshot)

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        if self._streams >= MAX_STREAMS:
            raise web.HTTPServiceUnavailable(text="too many dashboard pages are open\n")
        assert self._changed is not None and self._stop is not None
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
        )
        self._headers(response)
        await response.prepare(request)
        self._streams += 1
        sent = -1
        try:
            while not self._stop.is_set():
                published = self.hub.published
                if published.version != sent:
                    sent = published.version
                    await response.write(b"event: snapshot\ndata: " + published.snapshot + b"\n\n")
                    continue
                async with self._changed:
                    try:
                        await asyncio.wait_for(self._changed.wait(), 15)
                    except TimeoutError:
                        await response.write(b": keep-alive\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._streams -= 1
        return response

    async def _packets(self, request: web.Request) -> web.StreamResponse:
        rows = self.hub.published.rows
        after = _int(request.query.get("after"), 0)
        limit = min(max(_int(request.query.get("limit"), 500), 1), 5000)
        if rows:
            first = rows[0]["seq"]
            start = max(0, after + 1 - first)
            chosen = rows[start:]
            chosen = chosen[-limit:]
        else:
            chosen = ()
        body: dict[str, Any] = {
            "rows": list(chosen),
            "first_seq": rows[0]["seq"] if rows else None,
            "last_seq": rows[-1]["seq"] if rows else None,
        }
        return self._json(dump_json(body))

    async def _sessions(self, request: web.Request) -> web.StreamResponse:
        limit = min(max(_int(request.query.get("limit"), 200), 1), 5000)
        sessions = await asyncio.to_thread(self.hub.sessions, limit)
        return self._json(dump_json({"sessions": sessions}))

    async def _session(self, request: web.Request) -> web.StreamResponse:
        from aiohttp import web

        sid = request.match_info["sid"]
        view = await asyncio.to_thread(self.hub.session, sid)
        if view is None:
            raise web.HTTPNotFound(text="no such session (or it was forgotten)\n")
        return self._json(dump_json(view))


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default
