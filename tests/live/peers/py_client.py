"""A real python-socketio client scenario: `python py_client.py URL [websocket|polling|default]`.

Prints one JSON object with what the application saw, the same keys as sio_client.js.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import socketio


async def main(url: str, mode: str) -> dict[str, Any]:
    transports = {"websocket": ["websocket"], "polling": ["polling"]}.get(
        mode, ["polling", "websocket"]
    )
    out: dict[str, Any] = {}
    # IOPROTO_PEER_PARSER=msgpack: talk to a server that uses python-socketio's msgpack serializer
    serializer = "msgpack" if os.environ.get("IOPROTO_PEER_PARSER") == "msgpack" else "default"
    sio = socketio.AsyncClient(
        reconnection_delay=0.05, reconnection_delay_max=0.1, serializer=serializer
    )
    connected = asyncio.Event()
    disconnected = asyncio.Event()
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    @sio.event
    async def connect() -> None:
        connected.set()

    @sio.event
    async def disconnect(reason: Any = None) -> None:
        out["disconnect_reason"] = str(reason)
        disconnected.set()

    @sio.on("question")
    async def question(q: str) -> int:
        out["question"] = q
        return 42

    @sio.on("answer-received")
    async def answer_received(a: Any) -> None:
        answer.set_result(a)

    await sio.connect(url, transports=transports, wait_timeout=5)
    out["initial_transport"] = "polling" if transports[0] == "polling" else "websocket"
    if mode == "default":
        for _ in range(100):
            if sio.transport() == "websocket":
                break
            await asyncio.sleep(0.02)
    out["transport"] = sio.transport()
    out["echo"] = await sio.call("echo", ("hello", {"n": 1, "list": [1, "two", None]}))
    out["unicode"] = await sio.call("echo", "h\u00e9llo \U0001f600 \u2028")
    out["binary"] = list(await sio.call("binary", bytes([1, 2, 3, 250])))
    out["big"] = len((await sio.call("echo", "x" * 60000))[0])
    await sio.emit("ask")
    out["answer"] = await asyncio.wait_for(answer, 5)
    for i in range(10):
        await sio.emit("count", i)
    out["total"] = await sio.call("total")

    admin = socketio.AsyncClient(reconnection=False, serializer=serializer)
    await admin.connect(
        url, namespaces=["/admin"], auth={"token": "s3cret"}, transports=transports, wait_timeout=5
    )
    out["admin"] = await admin.call("stats", namespace="/admin")
    denied = socketio.AsyncClient(reconnection=False, serializer=serializer)
    if mode == "polling":  # python-socketio then waits a whole ping interval to give up
        out["denied"] = "skipped"
    else:
        await _denied(url, transports, out, denied)

    if sio.transport() == "websocket":
        # As if the connection dropped: close the socket under the client; it reconnects.
        connected.clear()
        disconnected.clear()
        await sio.eio.ws.close()
        await asyncio.wait_for(disconnected.wait(), 5)
        await asyncio.wait_for(connected.wait(), 5)
        out["after_reconnect"] = await sio.call("echo", "again")
    await admin.disconnect()
    await sio.disconnect()
    return out


async def _denied(url: str, transports: list[str], out: dict[str, Any], denied: Any) -> None:
    try:
        await denied.connect(
            url,
            namespaces=["/admin"],
            auth={"token": "nope"},
            transports=transports,
            wait_timeout=5,
        )
        out["denied"] = None
    except socketio.exceptions.ConnectionError as exc:
        out["denied"] = str(exc)
    await denied.disconnect()


if __name__ == "__main__":
    result = asyncio.run(
        asyncio.wait_for(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "default"), 20)
    )
    print(json.dumps(result))
