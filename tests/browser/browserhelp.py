"""Helpers of the browser tests: Chromium driven by Playwright with a DevTools port, the
``cdp`` source reading it in a thread, and the Socket.IO servers that serve the test page.

Chromium is Debian's ``chromium`` (``$CHROMIUM`` to override), started by Playwright with
``executable_path`` (Playwright cannot download browsers here) and the project's flags.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from livehelp import Server, node_ok

from ioproto.components import SourceContext
from ioproto.model import Record
from ioproto.pipeline import Pipeline

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
PAGE = PEERS / "page"
LIVE_PEERS = HERE.parent / "live" / "peers"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def need_chromium() -> None:
    """Skip (saying why) unless Chromium and Playwright are installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} missing: `apt-get install chromium` (make install-test does)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright missing: pip install -e '.[test]'")


def start_server(kind: str) -> Server:
    """A Socket.IO server serving the test page: ``node4`` (socket.io 4.8.1), ``node2``
    (socket.io 2.5.1) or ``py`` (python-socketio)."""
    if kind.startswith("node") and not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    if kind == "node4":
        return Server(["node", str(LIVE_PEERS / "sio_server.js"), "0", str(PAGE)])
    if kind == "node2":
        return Server(["node", str(PEERS / "sio2_server.js"), "0", str(PAGE)])
    return Server([sys.executable, str(PEERS / "py_page_server.py"), "0"])


class Capture:
    """The ``cdp`` source attached to ``endpoint`` in a thread; :attr:`records` fills up as
    the browser reports traffic. :meth:`wait_ready` returns once every tab is attached."""

    def __init__(self, endpoint: str, **options: Any) -> None:
        from ioproto_browser.source import CdpSource

        self.records: list[Record] = []
        self.ready = threading.Event()
        self.done = threading.Event()
        self.failure: BaseException | None = None
        source = CdpSource(on_ready=self.ready.set)
        pipeline = Pipeline.build(proto="socketio")
        context = SourceContext(options=options, wanted=pipeline.wants)
        self._records = source.open(endpoint, context)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for record in self._records:
                self.records.append(record)
        except BaseException as exc:  # reported by finish()
            self.failure = exc
        finally:
            self.done.set()

    def wait_ready(self, timeout: float = 20) -> None:
        assert self.ready.wait(timeout) or self.done.is_set(), "the cdp source did not attach"

    def finish(self, timeout: float = 30) -> list[Record]:
        """The records, once the source has ended (the browser closed)."""
        assert self.done.wait(timeout), "the cdp source did not end"
        if self.failure is not None:
            raise self.failure
        return self.records


@contextmanager
def chromium(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """``(context, endpoint)``: a Playwright persistent context of Chromium with a
    DevTools port; closed at the end."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "profile"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[*FLAGS, "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1"],
        )
        try:
            yield context, f"cdp:127.0.0.1:{_devtools_port(profile)}"
        finally:
            with contextlib.suppress(Exception):  # a test may have killed the browser
                context.close()


def _devtools_port(profile: Path, timeout: float = 20) -> str:
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if active.exists():
            lines = active.read_text().split()
            if lines and lines[0].isdigit():
                return lines[0]
        time.sleep(0.05)
    raise AssertionError("Chromium wrote no DevToolsActivePort")


def wait_title(page: Any, prefix: str = "done", timeout: float = 30) -> str:
    """The page's title once it starts with ``prefix`` (fails on ``error`` or timeout)."""
    deadline = time.monotonic() + timeout
    title = ""
    while time.monotonic() < deadline:
        title = page.title()
        if title.startswith(prefix):
            return str(title)
        assert not title.startswith("error"), title
        page.wait_for_timeout(50)
    raise AssertionError(f"the page did not finish: {title!r}")


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() and shutil.which("node") is not None
