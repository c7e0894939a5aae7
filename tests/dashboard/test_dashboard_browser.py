"""The dashboard in a real Chromium: the numbers it shows, every view in both themes, and
hostile wire text shown as text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto
from dashhelp import (
    CHAT,
    DATA,
    SHOTS,
    VIEWS,
    Dashboard,
    lookup,
    open_page,
    show,
    shown_stats,
    stats_json,
)

pytestmark = pytest.mark.browser

#: The bundled capture and test captures with something in every view.
CAPTURES = [
    CHAT,
    DATA / "clients_mixed.pcap",
    DATA / "upgrade.pcap",
    DATA / "rejected.pcap",
    DATA / "v2_polling.pcap",
    DATA / "python_server.pcap",
]


def _as_shown(path: str, value: Any) -> str:
    """How the page writes ``value``: as ``ioproto stats`` does (sizes, times, percents)."""
    from ioproto_stats.report import ms

    from ioproto.render import format_size

    if path.endswith("bytes"):
        return format_size(value)
    if path.endswith(("_pct", ".pct")):
        return f"{value:.1f}%"
    if isinstance(value, float) or value is None:
        return ms(value)
    return f"{value:,}"


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
def test_the_numbers_on_the_page_are_those_of_ioproto_stats(
    capture: Path, dashboard: Callable[[list[str]], Dashboard], browser: Any
) -> None:
    expected = stats_json(str(capture))
    board = dashboard([str(capture)])
    board.wait_finished()
    assert expected == board.get("api/summary")
    page, problems = open_page(browser, board.url)
    try:
        page.wait_for_selector("body[data-finished=true]")
        compared = 0
        for view in VIEWS:
            show(page, view)
            for path, shown in shown_stats(page).items():
                value = lookup(expected, path)
                assert value == shown["value"], f"{view}: {path}"
                assert _as_shown(path, value) == shown["text"], f"{view}: {path}"
                compared += 1
        assert compared > 20
        assert problems.errors == []
    finally:
        page.close()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_screenshot_of_every_view(
    theme: str, dashboard: Callable[[list[str]], Dashboard], browser: Any
) -> None:
    board = dashboard([str(CHAT)])
    board.wait_finished()
    page, problems = open_page(browser, board.url, theme=theme)
    SHOTS.mkdir(exist_ok=True)
    try:
        page.wait_for_selector("body[data-finished=true]")
        for view in VIEWS:
            show(page, view)
            if view == "packets":
                page.click("#packets-table a.sid")
                page.wait_for_selector("#session-view .tl-chunk")
            path = SHOTS / f"{view}-{theme}.png"
            page.screenshot(path=str(path))
            assert path.stat().st_size > 10_000
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        assert problems.errors == []
    finally:
        page.close()


INJECTION = DATA / "injection.pcap"
INJECTED = (
    '<script>alert("event")</script>',
    '"><img src=x onerror=alert(document.domain)>',
    "\\x1b[31mred\\x1b[0m\\x1b]0;pwned\\x07",
    "abc\\u202edcba\\u202c\\u200b\\u2066x\\u2069",
    "/<img src=x onerror=alert(1)>",
)


def _check_injection_page(page: Any, problems: Any, shots: str) -> None:
    page.wait_for_selector("body[data-finished=true]")
    texts = []
    for view in VIEWS:
        show(page, view)
        if view == "packets":
            page.click("#packets-table a.sid")
            page.wait_for_selector("#session-view .tl-chunk")
        page.screenshot(path=str(SHOTS / f"{shots}-{view}.png"))
        texts.append(page.inner_text("main"))
    shown = "\n".join(texts)
    for text in INJECTED:
        assert text in shown
    # The raw characters never reach the page's text: they are shown as escapes.
    for raw in ("\x1b", "\u202e", "\u200b", "\u2066", "\x07"):
        assert raw not in shown
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    own_scripts = page.evaluate("document.querySelectorAll('script').length")
    assert own_scripts <= 9
    assert problems.dialogs == []
    assert problems.errors == []


def test_hostile_wire_text_is_shown_and_never_runs(
    dashboard: Callable[[list[str]], Dashboard], browser: Any
) -> None:
    SHOTS.mkdir(exist_ok=True)
    board = dashboard([str(DATA / "injection.pcap")])
    board.wait_finished()
    page, problems = open_page(browser, board.url)
    try:
        _check_injection_page(page, problems, "injection")
    finally:
        page.close()


def test_the_exported_report_works_offline(tmp_path: Path, browser: Any) -> None:
    SHOTS.mkdir(exist_ok=True)
    report = tmp_path / "report.html"
    made = run_ioproto("dashboard", "--export", str(report), str(INJECTION))
    assert made.returncode == 0, made.stderr
    expected = stats_json(str(DATA / "injection.pcap"))
    context = browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    page = context.new_page()
    from dashhelp import PageProblems

    problems = PageProblems(page)
    try:
        page.goto(report.as_uri() + "#overview")
        _check_injection_page(page, problems, "report")
        for view in VIEWS:
            show(page, view)
            for path, shown in shown_stats(page).items():
                assert lookup(expected, path) == shown["value"], f"{view}: {path}"
    finally:
        context.close()


def test_an_axis_of_sessions_counts_in_whole_numbers(
    dashboard: Callable[[list[str]], Dashboard], browser: Any
) -> None:
    """At most one session open at a time (polling_gone.pcap): the open-sessions axis reads
    0 and 1, not "0, 1, 1" (a tick at 0.5 written as a whole number)."""
    board = dashboard([str(DATA / "polling_gone.pcap")])
    board.wait_finished()
    page, problems = open_page(browser, board.url)
    try:
        page.wait_for_selector("body[data-finished=true]")
        page.wait_for_function("IOP.axisLabels('chart-sessions', 1).length > 0")
        labels = page.evaluate("IOP.axisLabels('chart-sessions', 1)")
        assert labels == sorted(set(labels), key=int), labels
        assert labels[0] == "0" and "1" in labels
        assert problems.errors == []
    finally:
        page.close()
