"""A real python-socketio server for the live tests: `python py_server.py PORT`.

Same handlers as sio_server.js (echo, binary, ask, drop-me, count/total, /admin with auth).
Prints `READY <port>` once listening; stops on SIGTERM/SIGINT. IOPROTO_PEER_PING=INTERVAL,TIMEOUT
sets pingInterval and pingTimeout (ms), as for sio_server.js.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

import socketio
from aiohttp import web

# IOPROTO_PEER_PARSER=msgpack: python-socketio's msgpack serializer (the tap tests use both).
SERIALIZER = "msgpack" if os.environ.get("IOPROTO_PEER_PARSER") == "msgpack" else "default"
# IOPROTO_PEER_PING=INTERVAL,TIMEOUT: pingInterval and pingTimeout in ms, as sio_server.js takes
# them (a silent client found fast).
PING = [int(ms) / 1000 for ms in os.environ.get("IOPROTO_PEER_PING", "").split(",") if ms]
sio = socketio.AsyncServer(
    async_mode="aiohttp",
    max_http_buffer_size=5_000_000,
    serializer=SERIALIZER,
    **({"ping_interval": PING[0], "ping_timeout": PING[1]} if len(PING) == 2 else {}),
)
counts: dict[str, int] = {}


@sio.on("echo")
async def echo(sid: str, *args: Any) -> list[Any]:
    return list(args)


@sio.on("binary")
async def binary(sid: str, data: bytes) -> bytes:
    return bytes(reversed(data))


@sio.on("ask")
async def ask(sid: str) -> None:
    async def answered(answer: Any) -> None:
        await sio.emit("answer-received", answer, to=sid)

    await sio.emit("question", "6*7?", to=sid, callback=answered)


@sio.on("drop-me")
async def drop_me(sid: str) -> None:
    eio_sid = sio.manager.eio_sid_from_sid(sid, "/")
    asyncio.get_running_loop().call_later(
        0.01, lambda: asyncio.ensure_future(sio.eio.disconnect(eio_sid))
    )


@sio.on("count")
async def count(sid: str, n: int) -> None:
    counts[sid] = counts.get(sid, 0) + 1


@sio.on("total")
async def total(sid: str) -> int:
    return counts.get(sid, 0)


@sio.on("broadcast")
async def broadcast(sid: str, msg: Any) -> None:
    await sio.emit("news", msg)


@sio.on("connect", namespace="/admin")
async def admin_connect(sid: str, environ: Any, auth: Any) -> None:
    if not isinstance(auth, dict) or auth.get("token") != "s3cret":
        raise socketio.exceptions.ConnectionRefusedError("forbidden")


@sio.on("stats", namespace="/admin")
async def stats(sid: str) -> dict[str, Any]:
    return {"users": 1, "uptime": 42.5}


async def main(port: int, extend: Callable[[web.Application], None] | None = None) -> None:
    """Serve on ``port`` until SIGTERM/SIGINT; ``extend`` may add routes (the browser tests'
    page server does)."""
    tap = None
    if os.environ.get("IOPROTO_TAP_COLLECTOR"):  # run with the Python tap (tests/taps)
        import ioproto_tap

        tap = ioproto_tap.instrument(
            sio,
            collector=os.environ["IOPROTO_TAP_COLLECTOR"],
            buffer_bytes=int(os.environ.get("IOPROTO_TAP_BUFFER", 8 << 20)),
        )
    app = web.Application()
    sio.attach(app)
    if extend is not None:
        extend(app)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    print(f"READY {runner.addresses[0][1]}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()
    if tap is not None:
        tap.close()
        stats = {"dropped": tap.dropped, "failures": tap.failures}
        stats["connects"] = getattr(tap.sender.link, "connects", None)
        print("TAP " + json.dumps(stats), flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
