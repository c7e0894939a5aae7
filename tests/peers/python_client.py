"""python-socketio 5.x AsyncClient (aiohttp) used by the `clients_mixed` scenario.

`python tests/peers/python_client.py --port P --log FILE`: connects with the default transports
(polling, then upgrade to websocket), emits "hello" with an ack, waits for "welcome", sends a
binary "bin" with an ack and disconnects. The client label is "python".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pylog import JsonLog

LABEL = "python"


async def run(port: int, log: JsonLog) -> None:
    """Run the exchange once."""
    sio = socketio.AsyncClient(reconnection=False)
    welcome = asyncio.Event()

    def rec(action: str, **kw: Any) -> None:
        log.add("client", LABEL, action, transport=sio.transport(), **kw)

    async def on_connect() -> None:
        rec("connect")

    async def on_disconnect(reason: Any = None) -> None:
        rec("disconnect", args=[str(reason)] if reason is not None else [])

    async def on_welcome(*args: Any) -> None:
        rec("recv", event="welcome", args=args)
        welcome.set()

    sio.on("connect", on_connect)
    sio.on("disconnect", on_disconnect)
    sio.on("welcome", on_welcome)

    await sio.connect(f"http://127.0.0.1:{port}?client={LABEL}", wait_timeout=5)
    await asyncio.wait_for(welcome.wait(), 5)
    for event, payload in (("hello", ("from python", {"v": 5})), ("bin", (b"\x00py\xff",))):
        rec("emit", event=event, args=payload)
        answer = await sio.call(event, payload, timeout=5)
        answer_args = list(answer) if isinstance(answer, tuple) else [answer]
        rec("ack-recv", event=event, args=answer_args)
    # give the polling -> websocket upgrade a chance to complete before leaving
    for _ in range(20):
        if sio.transport() == "websocket":
            break
        await asyncio.sleep(0.05)
    rec("emit", event="hello", args=("over " + sio.transport(),))
    await sio.emit("hello", "over " + sio.transport())
    await asyncio.sleep(0.05)
    await sio.disconnect()


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    asyncio.run(run(args.port, JsonLog(args.log)))


if __name__ == "__main__":
    main()
