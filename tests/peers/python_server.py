"""python-socketio 5.x server (aiohttp) for the `python_server` scenario.

`python tests/peers/python_server.py --port P --log FILE`: serves namespaces "/" and "/py"
(the latter requires auth {"token": "py"}), answers "chat" and "bin" with acks (binary too),
and on "call-me" calls the client back with an ack-requesting event. Prints READY once
listening; stops on SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import socketio
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pylog import JsonLog


def build(log: JsonLog, ping_interval: float) -> tuple[socketio.AsyncServer, web.Application]:
    """Create the server and its aiohttp app with all handlers registered."""
    sio = socketio.AsyncServer(async_mode="aiohttp", ping_interval=ping_interval)
    app = web.Application()
    sio.attach(app)
    labels: dict[str, str] = {}

    def rec(action: str, sid: str, nsp: str, **kw: Any) -> None:
        try:
            transport = sio.transport(sid, namespace=nsp)
        except Exception:  # the session may already be gone (disconnect)
            transport = None
        log.add("server", labels.get(sid, sid), action, nsp=nsp, transport=transport, **kw)

    def register(nsp: str) -> None:
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            query = parse_qs(environ.get("QUERY_STRING", ""))
            labels[sid] = query.get("client", [sid])[0]
            if nsp == "/py" and (not isinstance(auth, dict) or auth.get("token") != "py"):
                raise socketio.exceptions.ConnectionRefusedError("bad token", {"need": "token"})
            rec("connect", sid, nsp)
            return True

        async def disconnect(sid: str, reason: Any = None) -> None:
            rec("disconnect", sid, nsp, args=[str(reason)] if reason is not None else [])

        async def chat(sid: str, *args: Any) -> Any:
            rec("recv", sid, nsp, event="chat", args=args)
            reply = ("ok", {"nsp": nsp, "echo": args[0] if args else None})
            rec("ack-sent", sid, nsp, event="chat", args=reply)
            return reply

        async def note(sid: str, *args: Any) -> None:
            rec("recv", sid, nsp, event="note", args=args)

        async def binary(sid: str, *args: Any) -> Any:
            rec("recv", sid, nsp, event="bin", args=args)
            data = args[0] if args and isinstance(args[0], bytes) else b""
            reply = ({"len": len(data)}, data[::-1], [b"\x00\x01", {"deep": b"\xff"}])
            rec("ack-sent", sid, nsp, event="bin", args=reply)
            return reply

        async def call_me(sid: str, *args: Any) -> None:
            rec("recv", sid, nsp, event="call-me", args=args)
            payload = ("value?", b"\x10\x20\x30")
            rec("emit", sid, nsp, event="server-req", args=payload)
            answer = await sio.call("server-req", payload, to=sid, namespace=nsp, timeout=5)
            answer_args = list(answer) if isinstance(answer, tuple) else [answer]
            rec("ack-recv", sid, nsp, event="server-req", args=answer_args)
            rec("emit", sid, nsp, event="server-done", args=answer_args)
            await sio.emit("server-done", tuple(answer_args), to=sid, namespace=nsp)

        sio.on("connect", connect, namespace=nsp)
        sio.on("disconnect", disconnect, namespace=nsp)
        sio.on("chat", chat, namespace=nsp)
        sio.on("note", note, namespace=nsp)
        sio.on("bin", binary, namespace=nsp)
        sio.on("call-me", call_me, namespace=nsp)

    register("/")
    register("/py")
    return sio, app


async def serve(port: int, log: JsonLog, ping_interval: float) -> None:
    """Run until SIGINT/SIGTERM."""
    _, app = build(log, ping_interval)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("READY", flush=True)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--ping-interval", type=float, default=25.0)
    args = parser.parse_args()
    asyncio.run(serve(args.port, JsonLog(args.log), args.ping_interval))


if __name__ == "__main__":
    main()
