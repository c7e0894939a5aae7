"""The demo's Socket.IO server: a chat room with uploads, and an admin namespace.

A real python-socketio ``AsyncServer`` on aiohttp, so what ioproto shows is what a real
application sends. Namespace ``/``:

* ``chat message`` ``{"text"}`` → acked with ``{"id", "at"}``, broadcast to the others;
* ``typing`` ``true|false`` → broadcast to the others, no ack;
* ``upload`` ``{"name", "type"}, <bytes>`` (a binary attachment) → acked with the size and
  SHA-1, then a ``thumbnail`` with a few bytes back (a binary event to the client);
* ``whoami`` → acked with the session's transport;
* ``ask`` → the server asks the client a ``question`` and waits for its ack.

Namespace ``/admin`` (auth ``{"token": "demo-token"}``, others are refused): ``stats`` →
acked with the server's counts. Every session is greeted with ``welcome``.

Imports python-socketio and aiohttp: load this module only when the demo runs.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import attrs
import socketio
from aiohttp import web

ADMIN_TOKEN = "demo-token"


@attrs.define
class ServerTally:
    """What the server has seen, for the demo's status line."""

    sessions: int = 0
    connected: int = 0
    events: int = 0
    started: float = attrs.field(factory=time.monotonic)


def build_server(tally: ServerTally) -> socketio.AsyncServer:
    """The Socket.IO server with the demo's handlers."""
    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        ping_interval=10,  # heartbeats often enough to show up within a short session
        ping_timeout=10,
        max_http_buffer_size=2_000_000,
    )
    _chat(sio, tally)
    _admin(sio, tally)
    return sio


def _chat(sio: socketio.AsyncServer, tally: ServerTally) -> None:
    messages = 0

    async def connect(sid: str, environ: Any, auth: Any = None) -> None:
        tally.sessions += 1
        tally.connected += 1
        await sio.emit("welcome", {"users": tally.connected, "motd": "hello from ioproto demo"})

    async def disconnect(sid: str, reason: Any = None) -> None:
        tally.connected -= 1

    async def chat_message(sid: str, message: Any) -> dict[str, Any]:
        nonlocal messages
        tally.events += 1
        messages += 1
        text = message.get("text", "") if isinstance(message, dict) else str(message)
        await sio.emit("chat message", {"text": text, "at": time.time()}, skip_sid=sid)
        return {"id": messages, "at": time.time()}

    async def typing(sid: str, active: Any) -> None:
        tally.events += 1
        await sio.emit("typing", bool(active), skip_sid=sid)

    async def upload(sid: str, meta: Any, data: Any) -> dict[str, Any]:
        tally.events += 1
        blob = data if isinstance(data, bytes) else b""
        await sio.emit("thumbnail", ({"of": meta}, blob[:16]), to=sid)
        return {"size": len(blob), "sha1": hashlib.sha1(blob).hexdigest()}

    async def whoami(sid: str) -> dict[str, Any]:
        tally.events += 1
        return {"transport": sio.transport(sid)}

    async def ask(sid: str) -> None:
        tally.events += 1
        try:
            answer = await sio.call("question", {"text": "Enjoying the demo? (1-5)"}, to=sid)
        except socketio.exceptions.TimeoutError:
            return  # the client went away meanwhile
        await sio.emit("answer noted", answer, to=sid)

    handlers = {
        "connect": connect,
        "disconnect": disconnect,
        "chat message": chat_message,
        "typing": typing,
        "upload": upload,
        "whoami": whoami,
        "ask": ask,
    }
    for event, handler in handlers.items():
        sio.on(event, handler)


def _admin(sio: socketio.AsyncServer, tally: ServerTally) -> None:
    async def admin_connect(sid: str, environ: Any, auth: Any = None) -> None:
        if not isinstance(auth, dict) or auth.get("token") != ADMIN_TOKEN:
            raise socketio.exceptions.ConnectionRefusedError("admins only")

    async def stats(sid: str) -> dict[str, Any]:
        tally.events += 1
        return {
            "connected": tally.connected,
            "sessions": tally.sessions,
            "events": tally.events,
            "uptime": round(time.monotonic() - tally.started, 1),
        }

    sio.on("connect", admin_connect, namespace="/admin")
    sio.on("stats", stats, namespace="/admin")


@attrs.define
class Served:
    """The running server: its port, and how to stop it."""

    runner: web.AppRunner
    port: int
    tap: Any = None  # the ioproto_tap.Tap when tapped

    async def close(self) -> None:
        await self.runner.cleanup()
        if self.tap is not None:
            self.tap.close()


async def start_server(host: str, port: int, tally: ServerTally, *, tap: bool = False) -> Served:
    """Serve the demo on ``host:port`` (0: a free port). With ``tap``, the server is
    instrumented with ``ioproto_tap`` (its public one-line API, as an application would be)
    and reports every packet to ``ioproto collect``. Raises :class:`OSError` when it cannot
    listen there."""
    sio = build_server(tally)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, shutdown_timeout=1.0)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    served = Served(runner, int(runner.addresses[0][1]))
    if tap:
        import ioproto_tap

        served.tap = ioproto_tap.instrument(sio, app="ioproto demo")
    return served
