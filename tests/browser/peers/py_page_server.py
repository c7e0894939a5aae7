"""A real python-socketio server serving the browser-test page: `python py_page_server.py PORT`.

The handlers are those of tests/live/peers/py_server.py (imported); this adds the page
(tests/browser/peers/page) and, as /socket.io.js, the socket.io-client 4.8.1 bundle.
Prints `READY <port>`; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from aiohttp import web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "tests" / "live" / "peers"))

import py_server  # noqa: E402  (the handlers, on py_server.sio)

BUNDLE = ROOT / "tests/node/node_modules/socket.io/client-dist/socket.io.js"


async def main(port: int) -> None:
    app = web.Application()
    py_server.sio.attach(app)
    app.router.add_get("/socket.io.js", lambda request: web.FileResponse(BUNDLE))
    app.router.add_get("/", lambda request: web.FileResponse(HERE / "page" / "index.html"))
    app.router.add_static("/", HERE / "page")
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


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
