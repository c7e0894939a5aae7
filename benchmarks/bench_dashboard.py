"""The dashboard under load: 10,000 sessions at 20,000 packets/s, watched by a real browser.

Usage: ``python benchmarks/bench_dashboard.py [--seconds 30] [--rate 20000] [--sessions 10000]``

Synthetic records (what the Engine.IO/Socket.IO layers and the classifiers would hand the
sink: handshakes with client and transport tags, Socket.IO CONNECTs, events with acks and
their round-trips, broadcasts, heartbeats) are fed into the ``dashboard`` sink from one
thread at ``--rate`` records/s, time-stamped with the wall clock as a live source's are; the
sessions open during the first fifth of the run. Headless Chromium (Debian's package, through
Playwright) shows the page meanwhile, switching views. Printed:

* the feeding thread's CPU in ``sink.write`` (aggregating, publishing when due) as a share of
  one core, and the rate actually reached;
* the rest of the process (the server thread: event stream, API, publishing when the feed is
  quiet) as a share of one core; publishing's own cost and the snapshot's size;
* in the browser: the delay from a snapshot's publication to its drawing, how old the newest
  record on the page is when drawn (the update latency), draws per second, and the JS heap.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from ioproto_dashboard.sink import DashboardSinkFactory
from ioproto_engineio.records import EngineIOHandshake, EngineIOPacket
from ioproto_socketio.records import SocketIOPacket

from ioproto.components import SinkContext
from ioproto.fastrecords import replace_field
from ioproto.model import Record, Tag

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CLIENTS = (
    ("browser", "Chrome", "126", "Windows", "Desktop"),
    ("browser", "Firefox", "127", "Linux", "Desktop"),
    ("browser", "Mobile Safari", "17", "iOS", "iPhone"),
    ("library", "Node.js engine.io-client", None, None, None),
)
EVENTS = ("chat", "typing", "move", "presence", "metrics", "join", "leave", "ping-app")


class Session:
    __slots__ = ("event", "index", "kind", "sid", "tags", "templates")

    def __init__(self, index: int) -> None:
        self.index = index
        self.sid = f"s{index:06d}xxxxxxxxxxxxxx"
        self.kind = ("websocket", "websocket", "websocket", "polling-xhr")[index % 4]
        client = CLIENTS[index % len(CLIENTS)]
        names = ("client.kind", "client.name", "client.version", "client.os", "client.device")
        self.tags = (
            Tag("transport.kind", self.kind),
            *tuple(Tag(name, value) for name, value in zip(names, client, strict=True) if value),
        )
        self.event: Record | None = None
        self.templates: list[list[Record]] = []


def _records(session: Session, step: int, now: float) -> list[Record]:
    """The next few records of ``session`` (one step of its conversation)."""
    sid = session.sid
    transport = "websocket" if session.kind == "websocket" else "polling"
    common: dict[str, Any] = {"ts": now, "sid": sid, "transport": transport}
    kind_tag = (Tag("transport.kind", session.kind),)
    if step == 0:
        handshake = EngineIOHandshake(
            **common, direction="s2c", data="{}", revision=4, raw=b"0{}" * 30,
            ping_interval=25000, ping_timeout=20000, upgrades=("websocket",),
            tags=(*session.tags, Tag("latency.handshake", 0.002)),
        )  # fmt: skip
        connect = SocketIOPacket(
            **common, direction="c2s", type="CONNECT", nsp="/", revision=5, raw=b"40",
            tags=kind_tag,
        )  # fmt: skip
        return [handshake, connect]
    phase = step % 4 if step < 4 else step
    name = EVENTS[(session.index + step) % len(EVENTS)]
    if phase == 1:
        event = SocketIOPacket(
            **common, direction="c2s", type="EVENT", nsp="/", id=step, event=name,
            args=[{"text": "hello", "n": step}], revision=5, raw=b"x" * (40 + step % 200),
            tags=(*kind_tag, Tag("event.bytes", 40 + step % 200)),
        )  # fmt: skip
        session.event = event
        return [event]
    if phase == 2:
        rtt = 0.001 + (session.index % 50) / 1000
        ack = SocketIOPacket(
            **common, direction="s2c", type="ACK", nsp="/", id=step - 1, args=[True],
            answers=session.event, revision=5, raw=b"43" + b"1" * 10,
            tags=(*kind_tag, Tag("latency.ack", rtt), Tag("event.bytes", 12)),
        )  # fmt: skip
        return [ack]
    if phase == 3:
        return [
            SocketIOPacket(
                **common, direction="s2c", type="EVENT", nsp="/news", event="news",
                args=["item", step], revision=5, raw=b"y" * 80,
                tags=(*kind_tag, Tag("event.bytes", 80)),
            )
        ]  # fmt: skip
    return [
        EngineIOPacket(**common, direction="s2c", type="ping", data="", revision=4, raw=b"2",
                       tags=kind_tag),
        EngineIOPacket(**common, direction="c2s", type="pong", data="", revision=4, raw=b"3",
                       tags=(*kind_tag, Tag("latency.heartbeat", 0.0004 + step % 7 / 10000.0))),
    ]  # fmt: skip


def plan(seconds: float, rate: int, sessions: int) -> list[Record]:
    """The records of the whole run, in order (templates: their times are set when fed).
    Sessions open during the first fifth of the run; then every session takes its turn."""
    everyone = [Session(index) for index in range(sessions)]
    steps = [0] * sessions
    total = int(seconds * rate)
    out: list[Record] = []
    opened = cursor = 0
    now = time.time()
    while len(out) < total:
        target_open = min(sessions, int(sessions * 5 * len(out) / total) + 1)
        if opened < target_open:
            session = everyone[opened]
            opened += 1
        else:
            session = everyone[cursor % opened]
            cursor += 1
        if not session.templates:
            session.templates = [_records(session, phase, now) for phase in range(5)]
        step = steps[session.index]
        steps[session.index] += 1
        out.extend(session.templates[0 if step == 0 else 1 + (step - 1) % 4])
    return out


def feed(sink: Any, records: list[Record], rate: int, out: dict[str, float]) -> None:
    """Write ``records`` at ``rate`` per second, in batches every 10 ms, each stamped with
    the time it is written (as a live source's records are)."""
    per_batch = max(1, rate // 100)
    write = sink.write
    cpu = 0.0
    start = time.monotonic()
    for first in range(0, len(records), per_batch):
        now = time.time()
        before = time.thread_time()
        for record in records[first : first + per_batch]:
            write(replace_field(record, "ts", now))
        cpu += time.thread_time() - before
        due = start + (first + per_batch) / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    sessions = {record.sid for record in records}
    out.update(written=len(records), cpu=cpu, wall=time.monotonic() - start, sessions=len(sessions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--screenshots", type=Path, help="save the views here at the end")
    args = parser.parse_args()

    records = plan(args.seconds, args.rate, args.sessions)
    context = SinkContext(
        stream=io.StringIO(), options={"browser": "false", "hold": "false"}, live=True
    )
    sink = DashboardSinkFactory().open(context)
    assert sink.url is not None
    from playwright.sync_api import sync_playwright

    result: dict[str, float] = {}
    process_cpu = time.process_time()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.goto(sink.url + "#overview")
        page.wait_for_selector("body[data-version]")
        feeder = threading.Thread(target=feed, args=(sink, records, args.rate, result))
        process_cpu = time.process_time()
        feeder.start()
        views = ("overview", "transports", "latency", "events", "packets", "clients", "errors")
        heap: list[float] = []
        index = 0
        while feeder.is_alive():
            time.sleep(2)
            page.evaluate(f"location.hash = '#{views[index % len(views)]}'")
            index += 1
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            heap.append(metrics["JSHeapUsedSize"])
        feeder.join()
        process_cpu = time.process_time() - process_cpu
        page.evaluate("location.hash = '#overview'")
        time.sleep(1.5)
        m = page.evaluate("IOP.metrics")
        if args.screenshots:
            args.screenshots.mkdir(parents=True, exist_ok=True)
            for view in views:
                page.evaluate(f"location.hash = '#{view}'")
                time.sleep(0.5)
                page.screenshot(path=str(args.screenshots / f"load-{view}.png"))
        browser.close()
    snapshot_bytes = len(sink.hub.published.snapshot)
    publish = sink.hub.publish_seconds
    versions = sink.hub.published.version
    sink.close()

    wall = result["wall"]
    written = result["written"]
    fresh = sorted(m["freshness"]) or [float("nan")]
    p95 = fresh[int(0.95 * (len(fresh) - 1))]
    rest = process_cpu - result["cpu"]
    lines = [
        f"fed {written:,} records in {wall:.1f} s ({written / wall:,.0f}/s)"
        f" over {int(result['sessions']):,} sessions",
        f"feeding thread, sink.write: {100 * result['cpu'] / wall:.1f}% of a core"
        f" ({1e6 * result['cpu'] / written:.1f} µs/record, publishing included)",
        f"rest of the process (server thread, Playwright client): {100 * rest / wall:.1f}%",
        f"publishing: {versions} snapshots, {1000 * publish / max(versions, 1):.1f} ms each,"
        f" {snapshot_bytes / 1024:.0f} kB each",
        f"browser: {m['draws']} draws ({m['draws'] / wall:.1f}/s); publication to draw"
        f" {m['lastDelayMs']:.0f} ms last, {m['maxDelayMs']:.0f} ms max",
        "update latency (age of the newest record when drawn):"
        f" median {statistics.median(fresh):.3f} s, p95 {p95:.3f} s, max {fresh[-1]:.3f} s",
        f"browser JS heap: {max(heap) / 1e6:.1f} MB peak, {heap[-1] / 1e6:.1f} MB at the end",
    ]
    print("\n".join(lines))
    print(f"CPU count: {os.cpu_count()}")


if __name__ == "__main__":
    main()
