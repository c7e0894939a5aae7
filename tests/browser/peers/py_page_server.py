"""A real python-socketio server serving the browser-test page: `python py_page_server.py PORT`.

The handlers are those of tests/live/peers/py_server.py (imported); this adds the page
(tests/browser/peers/page) and, as /socket.io.js, the socket.io-client 4.8.1 bundle.
Prints `READY <port>`; stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "tests" / "live" / "peers"))

import py_server  # noqa: E402  (the handlers, on py_server.sio)

BUNDLE = ROOT / "tests/node/node_modules/socket.io/client-dist/socket.io.js"


def add_page(app: web.Application) -> None:
    app.router.add_get("/socket.io.js", lambda request: web.FileResponse(BUNDLE))
    app.router.add_get("/", lambda request: web.FileResponse(HERE / "page" / "index.html"))
    app.router.add_static("/", HERE / "page")


if __name__ == "__main__":
    asyncio.run(py_server.main(int(sys.argv[1]) if len(sys.argv) > 1 else 0, add_page))
