"""Record a real browser's HAR of a Socket.IO session: `python record_har.py OUT.har`.

Starts tests/live/peers/sio_server.js (socket.io 4.8.1) serving har_page/index.html, which
loads the socket.io client from node_modules/socket.io/client-dist, talks over HTTP
long-polling, upgrades to WebSocket and exchanges events, acks and a binary message. Headless
Chromium (/usr/bin/chromium, or $CHROMIUM) is driven over the Chrome DevTools Protocol with
aiohttp; the Network domain's events are written as a HAR in Chrome's own export format,
WebSocket frames included as ``_webSocketMessages`` (type send/receive, time in epoch
seconds, opcode, data — base64 for binary), since headless Chromium has no "Save as HAR".
Everything stays on 127.0.0.1. Exits non-zero if the page did not finish.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

PEERS = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
]


FRAME_EVENTS = ("Network.webSocketFrameSent", "Network.webSocketFrameReceived")


class Cdp:
    """A flat-mode CDP connection: ``call`` sends a command, ``events`` collects events."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self.pending:
                self.pending.pop(data["id"]).set_result(data)
            elif "method" in data:
                self.events.append(data)

    async def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        ident = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[ident] = future
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 10)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})


def iso(wall: float) -> str:
    return (
        datetime.fromtimestamp(wall, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def pairs(headers: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"name": name, "value": value}
        for name, values in headers.items()
        for value in str(values).split("\n")
    ]


def query_pairs(url: str) -> list[dict[str, str]]:
    from urllib.parse import parse_qsl, urlsplit

    return [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, True)]


async def build_har(cdp: Cdp, session: str, version: str) -> dict[str, Any]:
    """Chrome-format HAR entries from the collected Network events."""
    requests: dict[str, dict[str, Any]] = {}
    sockets: dict[str, dict[str, Any]] = {}
    for event in cdp.events:
        method, p = event["method"], event.get("params", {})
        rid = p.get("requestId")
        if method == "Network.requestWillBeSent":
            requests[rid] = {
                "req": p["request"],
                "wall": p["wallTime"],
                "ts": p["timestamp"],
                "type": p.get("type"),
            }
        elif method == "Network.responseReceived" and rid in requests:
            requests[rid]["resp"] = p["response"]
        elif method == "Network.loadingFinished" and rid in requests:
            requests[rid]["end"] = p["timestamp"]
        elif method == "Network.webSocketCreated":
            sockets[rid] = {"url": p["url"], "frames": []}
        elif method == "Network.webSocketWillSendHandshakeRequest" and rid in sockets:
            sockets[rid].update(wall=p["wallTime"], ts=p["timestamp"], req=p["request"])
        elif method == "Network.webSocketHandshakeResponseReceived" and rid in sockets:
            sockets[rid]["resp"] = p["response"]
        elif method in FRAME_EVENTS and rid in sockets:
            kind = "send" if method.endswith("Sent") else "receive"
            sockets[rid]["frames"].append((kind, p["timestamp"], p["response"]))
    entries = []
    for rid, item in requests.items():
        req, resp = item["req"], item.get("resp")
        if resp is None or item.get("type") not in ("XHR", "Fetch", "Document", "Script"):
            continue
        content: dict[str, Any] = {"size": 0, "mimeType": resp.get("mimeType", "")}
        if "end" in item:
            try:
                body = await cdp.call("Network.getResponseBody", session, requestId=rid)
                content["text"] = body["body"]
                content["size"] = len(body["body"])
                if body.get("base64Encoded"):
                    content["encoding"] = "base64"
            except RuntimeError:
                pass
        if item.get("type") == "Script":
            content.pop("text", None)  # the client bundle is large and not the point
        timing = resp.get("timing") or {}
        send = max(0.0, timing.get("sendEnd", 0) - timing.get("sendStart", 0))
        wait = max(0.0, timing.get("receiveHeadersEnd", 0) - timing.get("sendEnd", 0))
        total = ((item.get("end", item["ts"]) - item["ts"]) * 1000.0) if "end" in item else 0
        receive = max(0.0, total - send - wait)
        request: dict[str, Any] = {
            "method": req["method"],
            "url": req["url"],
            "httpVersion": "HTTP/1.1",
            "headers": pairs(req.get("headers", {})),
            "queryString": query_pairs(req["url"]),
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(req.get("postData", "")),
        }
        if "postData" in req:
            request["postData"] = {
                "mimeType": req.get("headers", {}).get("Content-type", "text/plain;charset=UTF-8"),
                "text": req["postData"],
            }
        entries.append(
            {
                "_connectionId": str(resp.get("connectionId", "")),
                "_initiator": {"type": "script"},
                "_priority": "High",
                "_resourceType": (item.get("type") or "other").lower(),
                "cache": {},
                "connection": str(resp.get("connectionId", "")),
                "request": request,
                "response": {
                    "status": resp["status"],
                    "statusText": resp.get("statusText", ""),
                    "httpVersion": "HTTP/1.1",
                    "headers": pairs(resp.get("headers", {})),
                    "cookies": [],
                    "content": content,
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": -1,
                    "_transferSize": content["size"],
                    "_error": None,
                },
                "serverIPAddress": resp.get("remoteIPAddress", ""),
                "startedDateTime": iso(item["wall"]),
                "time": total,
                "timings": {
                    "blocked": -1,
                    "dns": -1,
                    "ssl": -1,
                    "connect": -1,
                    "send": send,
                    "wait": wait,
                    "receive": receive,
                },
            }
        )
    for rid, sock in sockets.items():
        if "wall" not in sock:
            continue
        offset = sock["wall"] - sock["ts"]  # monotonic timestamps → wall clock
        messages = [
            {
                "type": kind,
                "time": ts + offset,
                "opcode": frame["opcode"],
                "data": frame["payloadData"],
            }
            for kind, ts, frame in sock["frames"]
        ]
        resp = sock.get("resp", {})
        entries.append(
            {
                "_resourceType": "websocket",
                "_webSocketMessages": messages,
                "cache": {},
                "connection": f"ws-{rid}",
                "request": {
                    "method": "GET",
                    "url": sock["url"],
                    "httpVersion": "HTTP/1.1",
                    "headers": pairs(sock["req"].get("headers", {})),
                    "queryString": query_pairs(sock["url"]),
                    "cookies": [],
                    "headersSize": -1,
                    "bodySize": 0,
                },
                "response": {
                    "status": resp.get("status", 101),
                    "statusText": resp.get("statusText", ""),
                    "httpVersion": "HTTP/1.1",
                    "headers": pairs(resp.get("headers", {})),
                    "cookies": [],
                    "content": {"size": 0, "mimeType": "x-unknown"},
                    "redirectURL": "",
                    "headersSize": -1,
                    "bodySize": 0,
                    "_transferSize": 0,
                    "_error": None,
                },
                "serverIPAddress": "127.0.0.1",
                "startedDateTime": iso(sock["wall"]),
                "time": 0,
                "timings": {
                    "blocked": -1,
                    "dns": -1,
                    "ssl": -1,
                    "connect": -1,
                    "send": 0,
                    "wait": 0,
                    "receive": 0,
                },
            }
        )
    entries.sort(key=lambda entry: entry["startedDateTime"])
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "browser": {"name": "Chromium", "version": version},
            "pages": [],
            "entries": entries,
        }
    }


async def record(out: Path) -> str:
    server = subprocess.Popen(
        ["node", "sio_server.js", "0", str(PEERS / "har_page")],
        cwd=PEERS,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    port = int(server.stdout.readline().split()[1])
    with tempfile.TemporaryDirectory(prefix="ioproto-chromium-") as profile:
        browser = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert browser.stderr is not None
            endpoint = ""
            for line in browser.stderr:
                match = re.search(r"DevTools listening on (ws://\S+)", line)
                if match:
                    endpoint = match.group(1)
                    break
            if not endpoint:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            async with (
                aiohttp.ClientSession() as http,
                http.ws_connect(endpoint, max_msg_size=0) as ws,
            ):
                cdp = Cdp(ws)
                version = (await cdp.call("Browser.getVersion"))["product"]
                target = (await cdp.call("Target.createTarget", url="about:blank"))["targetId"]
                session = (await cdp.call("Target.attachToTarget", targetId=target, flatten=True))[
                    "sessionId"
                ]
                await cdp.call("Network.enable", session)
                await cdp.call("Page.enable", session)
                await cdp.call("Page.navigate", session, url=f"http://127.0.0.1:{port}/index.html")
                title = ""
                for _ in range(200):
                    result = await cdp.call(
                        "Runtime.evaluate", session, expression="document.title"
                    )
                    title = result["result"].get("value", "")
                    if title.startswith("done"):
                        break
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.2)
                har = await build_har(cdp, session, version.split("/")[-1])
                cdp.reader.cancel()
        finally:
            browser.terminate()
            browser.wait(10)
            server.terminate()
            server.wait(10)
    out.write_text(json.dumps(har, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return title


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else PEERS.parents[1] / "data/har/chromium.har"
    title = asyncio.run(record(out))
    print(title)
    return 0 if title.startswith("done") else 1


if __name__ == "__main__":
    sys.exit(main())
