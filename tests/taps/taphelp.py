"""Helpers of the tap tests: a collector in a thread, tapped servers, the pipeline over records."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Iterable, Sequence

import socketio
from aiohttp import web
from ioproto_tap.collector import Address, CollectLimits, Collector
from livehelp import Server

from ioproto.model import Record
from ioproto.pipeline import Pipeline


class CollectorThread:
    """A :class:`Collector` polled by a thread; what it made accumulates in ``records``."""

    def __init__(self, address: Address | None = None, limits: CollectLimits | None = None) -> None:
        self.collector = Collector([address or Address(port=0)], limits)
        self.address = self.collector.start()[0]
        self.records: list[Record] = []
        self.events: list[str] = []
        self.collector.on_event = self.events.append
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def spec(self) -> str:
        return str(self.address)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.records.extend(self.collector.poll(0.05))

    def settle(self, quiet: float = 0.5, timeout: float = 15) -> list[Record]:
        """Wait until nothing arrived for ``quiet`` seconds; returns the records so far."""
        deadline = time.monotonic() + timeout
        seen, since = len(self.records), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if len(self.records) != seen:
                seen, since = len(self.records), time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return list(self.records)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.collector.close()


def echo_server() -> socketio.AsyncServer:
    """A python-socketio server (aiohttp) whose ``echo`` answers with its arguments."""
    sio = socketio.AsyncServer(async_mode="aiohttp")

    @sio.on("echo")
    async def echo(sid: str, *args: object) -> list[object]:
        return list(args)

    return sio


def run_echo_session(sio: socketio.AsyncServer, *args: object) -> object:
    """A real python-socketio client connects to ``sio`` served on 127.0.0.1, calls
    ``echo`` with ``args`` and leaves; the answer."""

    async def scenario() -> object:
        app = web.Application()
        sio.attach(app)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        client = socketio.AsyncClient()
        await client.connect(f"http://127.0.0.1:{port}", wait_timeout=5)
        answer = await client.call("echo", args)
        await client.disconnect()
        await asyncio.sleep(0.2)
        await runner.cleanup()
        return answer

    return asyncio.run(scenario())


def tapped_server(kind: str, collector: str, **env: str) -> Server:
    """A peer server (``py`` or ``node``) running its language's tap towards ``collector``."""
    env = {"IOPROTO_TAP_COLLECTOR": collector, **env}
    if kind == "py":
        return Server([sys.executable, "py_server.py", "0"], env=env)
    return Server(["node", "sio_server.js", "0"], env=env)


def stop_tapped(server: Server) -> dict[str, object]:
    """Stop a tapped Python server; the tap's counts it printed on the way out."""
    server.proc.terminate()
    out, _ = server.proc.communicate(timeout=15)
    for line in out.splitlines():
        if line.startswith("TAP "):
            result: dict[str, object] = json.loads(line[4:])
            return result
    raise AssertionError(f"no TAP line in {out!r}")


def decode(records: Iterable[Record], proto: str = "socketio") -> list[Record]:
    """Everything a default pipeline emits for ``records`` (chunks from any source)."""
    pipeline = Pipeline.build(proto=proto)
    out: list[Record] = []
    for record in records:
        out.extend(pipeline.feed(record))
    out.extend(pipeline.close())
    return out


Groups = dict[tuple[str | None, ...], list[tuple[object, ...]]]


def packets_by_session(
    records: Sequence[Record], layer: str, *, by_transport: bool = False
) -> Groups:
    """``{(sid, direction): [packet, ...]}`` of one layer, in order, without times or links;
    ``by_transport``: ``{(sid, direction, transport): ...}``, for views that order packets of
    different transports differently (a poll and the WebSocket both carry packets during an
    upgrade)."""
    groups: dict[tuple[str | None, ...], list[tuple[object, ...]]] = {}
    for r in records:
        # A transport-close is no packet (a tap's says what the server reported, a
        # capture's what the wire showed): tests/taps/test_tap_session_end.py compares them.
        if r.layer != layer or r.type in ("error", "transport-close"):
            continue
        if layer == "engineio":
            item: tuple[object, ...] = (r.type, getattr(r, "data", None))
        else:
            item = (
                r.type,
                getattr(r, "nsp", None),
                getattr(r, "id", None),
                getattr(r, "event", None),
                json.dumps(getattr(r, "args", None), default=repr),
                getattr(r, "attachments", None),
            )
        key = (r.sid, r.direction, r.transport) if by_transport else (r.sid, r.direction)
        groups.setdefault(key, []).append(item)
    return groups
