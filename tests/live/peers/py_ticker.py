"""A real python-socketio client that emits at a human pace:
`python py_ticker.py URL websocket|polling COUNT INTERVAL`.

Connects, then emits COUNT ``echo`` events, one every INTERVAL seconds, each carrying
``{"tick": i, "sent": <time.time() just before the emit>}``, and prints ``SENT i <time>`` for
each (flushed) so a test can measure how long each one takes to show up elsewhere.
"""

from __future__ import annotations

import asyncio
import sys
import time

import socketio


async def main(url: str, mode: str, count: int, interval: float) -> None:
    transports = ["websocket"] if mode == "websocket" else ["polling"]
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(url, transports=transports, wait_timeout=5)
    try:
        for i in range(count):
            await asyncio.sleep(interval)
            sent = time.time()
            await sio.emit("echo", {"tick": i, "sent": sent})
            print(f"SENT {i} {sent:.6f}", flush=True)
        await asyncio.sleep(interval)  # the last emit is queued: let it go out first
    finally:
        # Engine.IO close without waiting for the pending long-poll to return (up to a ping
        # interval with python-engineio's polling client).
        await sio.eio.disconnect(abort=True)


if __name__ == "__main__":
    url, mode, count, interval = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    asyncio.run(main(url, mode, count, interval))
