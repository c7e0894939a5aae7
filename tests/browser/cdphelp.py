"""Building DevTools messages for the translator tests, and driving a CdpMachine by hand.

The fixtures in data/ are real conversations recorded from Chromium (make_fixtures.py);
the builders here make the small hand-written ones.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ioproto_browser.machine import CdpMachine

from ioproto.model import Record
from ioproto.pipeline import Pipeline

DATA = Path(__file__).resolve().parent / "data"
SESSION = "5E551011AAAABBBBCCCCDDDDEEEEFFFF"
TARGET = "7A26E7110000111122223333444455556"
UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0 Safari/537.36"
)
EIO = "http://127.0.0.1:3000/socket.io/?EIO=4&transport=polling"
WALL = 1_800_000_000.0


def fixture(name: str) -> list[dict[str, Any]]:
    """The messages of a recorded conversation (``node4`` or ``node2``)."""
    lines = (DATA / f"{name}.cdp.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def wants() -> Callable[[Record], bool]:
    """What the registered decoders want (the Engine.IO layer: Engine.IO's requests)."""
    return Pipeline.build(proto="socketio").wants


def attached(session: str = SESSION, kind: str = "page", target: str = TARGET) -> dict[str, Any]:
    info = {"targetId": target, "type": kind, "url": "about:blank", "attached": True}
    return {
        "method": "Target.attachedToTarget",
        "params": {"sessionId": session, "targetInfo": info, "waitingForDebugger": False},
    }


def event(method: str, session: str = SESSION, **params: Any) -> dict[str, Any]:
    return {"method": method, "sessionId": session, "params": params}


def request(
    rid: str,
    url: str = EIO,
    method: str = "GET",
    ts: float = 100.0,
    **fields: Any,
) -> dict[str, Any]:
    """``Network.requestWillBeSent`` at monotonic ``ts`` (wall clock ``WALL + ts``)."""
    body = {"url": url, "method": method, "headers": {"User-Agent": UA, "Accept": "*/*"}}
    body.update(fields)
    return event(
        "Network.requestWillBeSent",
        requestId=rid,
        request=body,
        timestamp=ts,
        wallTime=WALL + ts,
        type="XHR",
    )


def response(rid: str, status: int = 200, ts: float = 100.01) -> dict[str, Any]:
    answer = {
        "url": EIO,
        "status": status,
        "statusText": "OK",
        "headers": {"Content-Type": "text/plain; charset=UTF-8"},
        "mimeType": "text/plain",
        "connectionId": 42,
        "remoteIPAddress": "127.0.0.1",
        "remotePort": 3000,
        "protocol": "http/1.1",
    }
    return event("Network.responseReceived", requestId=rid, timestamp=ts, response=answer)


def finished(rid: str, ts: float = 100.02) -> dict[str, Any]:
    return event("Network.loadingFinished", requestId=rid, timestamp=ts, encodedDataLength=10)


def websocket(rid: str, url: str, ts: float = 100.0) -> list[dict[str, Any]]:
    """Creation, handshake and 101 of a WebSocket."""
    return [
        event("Network.webSocketCreated", requestId=rid, url=url),
        event(
            "Network.webSocketWillSendHandshakeRequest",
            requestId=rid,
            timestamp=ts,
            wallTime=WALL + ts,
            request={"headers": {"User-Agent": UA, "Upgrade": "websocket"}},
        ),
        event(
            "Network.webSocketHandshakeResponseReceived",
            requestId=rid,
            timestamp=ts + 0.001,
            response={"status": 101, "statusText": "Switching Protocols", "headers": {}},
        ),
    ]


def frame(
    rid: str, data: str | bytes, *, sent: bool = False, ts: float = 100.1, opcode: int | None = None
) -> dict[str, Any]:
    if isinstance(data, bytes):
        payload, code = base64.b64encode(data).decode(), 2
    else:
        payload, code = data, 1
    method = "Network.webSocketFrameSent" if sent else "Network.webSocketFrameReceived"
    body = {"opcode": code if opcode is None else opcode, "mask": sent, "payloadData": payload}
    return event(method, requestId=rid, timestamp=ts, response=body)


class Driver:
    """A :class:`CdpMachine` fed by hand (window 0: records leave as soon as they can).
    ``sent`` collects the commands it sent; :meth:`answer` replies to the last one with a
    given method."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("wanted", wants())
        self.machine = CdpMachine(window=0.0, **options)
        self.now = WALL + 200.0  # local time: after the browser's times of the messages
        self.sent: list[dict[str, Any]] = []
        self.records: list[Record] = []
        self.machine.start(self.now)
        self._take()

    def feed(self, *messages: object) -> list[Record]:
        out: list[Record] = []
        for message in messages:
            self.now += 0.001
            out.extend(self.machine.receive(message, self.now))
            self._take()
        self.records.extend(out)
        return out

    def answer(self, method: str, result: dict[str, Any] | None = None, error: str = "") -> int:
        ident = next(c["id"] for c in reversed(self.sent) if c["method"] == method)
        reply: dict[str, Any] = {"id": ident}
        if error:
            reply["error"] = {"code": -32000, "message": error}
        else:
            reply["result"] = result or {}
        self.feed(reply)
        return int(ident)

    def tick(self, seconds: float) -> list[Record]:
        self.now += seconds
        out = self.machine.tick(self.now)
        self.records.extend(out)
        return out

    def close(self, rule: str | None = None, reason: str = "") -> list[Record]:
        out = self.machine.close(self.now, rule, reason)
        self.records.extend(out)
        return out

    def methods(self) -> list[str]:
        return [c["method"] for c in self.sent]

    def _take(self) -> None:
        self.sent.extend(self.machine.outgoing())


def chunks(records: list[Record]) -> Iterator[Any]:
    from ioproto_http.records import Chunk

    return (r for r in records if isinstance(r, Chunk))
