"""Iterating ``ioproto.decode`` over a live source yields each record as it arrives.

A real python-socketio server, a real python-socketio client emitting one ``echo`` event
every half second (``tests/live/peers/py_ticker.py``, each event carrying the time it was
sent), and ``ioproto.decode`` over the proxy source and over a live capture of ``lo``,
iterated in a thread that stamps each record as it comes out. Each EVENT must come out
within a second of its emit, while the client is still emitting (not when the input ends);
breaking out of the loop ends the source (the proxy stops listening).
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ioproto

LIVE = Path(__file__).resolve().parents[1] / "live"
sys.path.insert(0, str(LIVE))

from livehelp import Server  # noqa: E402

COUNT = 5
INTERVAL = 0.5
BOUND = 1.0


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server([sys.executable, "py_server.py", "0"])
    yield running
    running.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def iterate(records: Iterator[ioproto.Record], out: queue.Queue[Any]) -> None:
    """Put ``(time it came out, record)`` for each record until ``COUNT`` echo EVENTs went
    by, then leave the loop (which closes the generator, and so the source)."""
    try:
        seen = 0
        for record in records:
            out.put((time.time(), record))
            if record.type == "EVENT" and getattr(record, "event", None) == "echo":
                seen += 1
                if seen == COUNT:
                    break
        records.close()  # type: ignore[attr-defined]
        out.put(None)
    except BaseException as exc:
        out.put(exc)


def delays(records: Iterator[ioproto.Record], url: str, settle: float = 0.3) -> list[float]:
    """Run the ticker against ``url`` ``settle`` seconds after ``records`` began to be
    iterated; per echo EVENT, the seconds from its emit to the moment the iteration gave
    it."""
    out: queue.Queue[Any] = queue.Queue()
    thread = threading.Thread(target=iterate, args=(records, out), daemon=True)
    thread.start()
    time.sleep(settle)
    ticker_py = str(LIVE / "peers" / "py_ticker.py")
    ticker = subprocess.Popen(
        [sys.executable, ticker_py, url, "websocket", str(COUNT), str(INTERVAL)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    found: list[float] = []
    try:
        deadline = time.time() + 20 + COUNT * INTERVAL
        while True:
            item = out.get(timeout=max(0.1, deadline - time.time()))
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            came, record = item
            if record.type == "EVENT" and getattr(record, "event", None) == "echo":
                # the ticker is still emitting: this one came as it happened, not at the end
                assert len(found) == COUNT - 1 or ticker.poll() is None
                found.append(came - record.args[0]["sent"])
    finally:
        _, err = ticker.communicate(timeout=30)
    assert ticker.returncode == 0, err[-2000:]
    thread.join(10)
    assert not thread.is_alive(), "leaving the loop did not end the source"
    return found


def check(found: list[float]) -> None:
    shown = ", ".join(f"{delay * 1000:.0f} ms" for delay in found)
    assert len(found) == COUNT and all(delay < BOUND for delay in found), shown


def test_the_proxy_source_yields_each_event_as_it_happens(server: Server) -> None:
    port = free_port()
    records = ioproto.decode(
        f"proxy:127.0.0.1:{port}", source_options={"upstream": server.url}, classifiers=None
    )
    check(delays(records, f"http://127.0.0.1:{port}"))
    with socket.socket() as again:  # the loop was left: the proxy no longer listens
        assert again.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
def test_a_live_capture_yields_each_event_as_it_happens(server: Server) -> None:
    records = ioproto.decode("live:lo", source_options={"port": server.port})
    # tcpdump takes a moment to start capturing: the client connects after it
    check(delays(records, server.url, settle=2.0))
