"""Helpers for the dashboard tests: the command as a user runs it, and a real Chromium.

Chromium is Debian's ``chromium`` package driven by Playwright for Python (Playwright cannot
download its own browsers here); tests that need it are marked ``browser`` and skip, saying
why, where it is missing. Screenshots go to ``tests/dashboard/screenshots/`` (ignored by git).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto, start_ioproto

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CHAT = ROOT / "examples" / "chat.pcap"
SHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWS = ("overview", "transports", "clients", "latency", "events", "packets", "errors")


#: ``--sink dashboard`` on another command, without a browser (``[COMMAND, *SINK, ARGS]``)
SINK = ["--sink", "dashboard", "--sink-option", "dashboard.browser=false"]


class Dashboard:
    """``ioproto dashboard --no-browser ARGS`` running (or, with ``command``, ``ioproto
    COMMAND ARGS``, which ``--sink dashboard`` among them); ``url`` is the page it serves,
    said within the first ``lines`` lines of stderr."""

    def __init__(self, args: list[str], command: str | None = None, lines: int = 1) -> None:
        argv = [command] if command else ["dashboard", "--no-browser"]
        self.proc: subprocess.Popen[str] = start_ioproto(
            *argv,
            *args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        said = ""
        match = None
        for _ in range(lines):
            line = self.proc.stderr.readline()
            said += line
            match = re.search(r"serving (http://\S+)", line)
            if match is not None or not line:
                break
        if match is None:
            rest = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.stop()
            raise AssertionError(f"the dashboard did not start: {said}{rest}")
        self.url = match.group(1)
        self.base = self.url.split("?", 1)[0]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return json.loads(response.read())

    def wait_finished(self, timeout: float = 60) -> dict[str, Any]:
        """The snapshot once the input has ended."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snapshot: dict[str, Any] = self.get("api/snapshot")
            if snapshot["meta"]["finished"]:
                return snapshot
            time.sleep(0.1)
        raise AssertionError("the input did not end in time")

    def stop(self, signum: int = signal.SIGINT) -> str:
        """Ctrl-C (or ``signum``); returns what it wrote on stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        _, err = self.proc.communicate()
        return err


@pytest.fixture
def dashboard() -> Iterator[Callable[..., Dashboard]]:
    """Starts a :class:`Dashboard` (its arguments); each is stopped at teardown."""
    started: list[Dashboard] = []

    def start(args: list[str], command: str | None = None, lines: int = 1) -> Dashboard:
        board = Dashboard(args, command, lines)
        started.append(board)
        return board

    yield start
    for board in started:
        board.stop()


def stats_json(*args: str) -> dict[str, Any]:
    """``ioproto stats --format json ARGS`` as a user runs it."""
    done = run_ioproto("stats", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]')"
    if shutil.which(CHROMIUM) is None:
        return "Debian's chromium is not installed (make install-test installs it)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium for one test module. Not for the whole session: Playwright's
    sync API keeps an asyncio loop running in the main thread while it is open, and tests
    of other folders call asyncio.run()."""
    missing = _browser_missing()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageProblems:
    """Everything a page reported that it should not: dialogs, errors, failed requests."""

    def __init__(self, page: Any) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", self._console)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            text = message.text
            if "favicon.ico" in text or "404 (Not Found)" in text:
                return
            self.errors.append(f"console {message.type}: {text}")


def open_page(browser: Any, url: str, *, theme: str = "dark") -> tuple[Any, PageProblems]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems = PageProblems(page)
    separator = "&" if "?" in url else "?"
    page.goto(f"{url}{separator}theme={theme}#overview")
    return page, problems


def show(page: Any, view: str) -> None:
    """Switch to ``view`` and wait until it has been drawn."""
    page.evaluate(f"location.hash = '#{view}'")
    page.wait_for_selector(f"#view-{view}.active")
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def shown_stats(page: Any) -> dict[str, Any]:
    """``{path: value}`` of every number of the stats summary the visible view shows."""
    result: dict[str, Any] = page.evaluate(
        """() => Object.fromEntries(
            [...document.querySelectorAll('section.view.active [data-stat]')].map((el) => [
                el.dataset.stat,
                {value: JSON.parse(el.dataset.value), text: el.textContent},
            ]))"""
    )
    return result


def lookup(figures: dict[str, Any], path: str) -> Any:
    value: Any = figures
    for key in path.split("."):
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def proxy_addresses(proxy: subprocess.Popen[str]) -> tuple[str, str]:
    """``(page URL, proxy URL)`` of ``ioproto proxy … --sink dashboard``, read from what it
    says on stderr as it starts."""
    assert proxy.stderr is not None
    page = listening = None
    said = ""
    while not (page and listening):
        line = proxy.stderr.readline()
        said += line
        assert line, f"the proxy ended before saying where it serves: {said}"
        if match := re.search(r"serving (http://\S+)", line):
            page = match.group(1)
        if match := re.search(r"listening on (http://[\d.]+:\d+)", line):
            listening = match.group(1)
    return page, listening
