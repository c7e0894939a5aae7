"""The overview's "Session ends" in a real Chromium: the rows and figures of ``ioproto stats``
"Session ends" (why sessions ended, and how for transport closed) on a capture, in the
exported report, and live behind the proxy as real clients leave, one of them killed."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto, start_ioproto
from dashhelp import (
    DATA,
    SHOTS,
    Dashboard,
    PageProblems,
    open_page,
    proxy_addresses,
    show,
    stats_json,
)
from livehelp import PEERS, Server, node_ok, run_client

pytestmark = pytest.mark.browser

#: A capture with every way a WebSocket closes and Engine.IO closes; one of polls cut off.
CAPTURES = [DATA / "clients_mixed.pcap", DATA / "polling_gone.pcap"]

#: What the widget shows, read back as the stats JSON's ``ends`` lists.
WIDGET_ENDS = """() => {
  const rows = (id) => {
    const bars = document.querySelector('#' + id + ' .bars');
    if (!bars) return [];
    return [...bars.querySelectorAll('.name')].map((name, index) => {
      const stat = (what) => bars.querySelector(`[data-stat$=".${index}.${what}"]`);
      const count = stat('count');
      const pct = stat('pct');
      return { name: name.textContent, count: JSON.parse(count.dataset.value),
               pct: JSON.parse(pct.dataset.value), shown: [count.textContent, pct.textContent] };
    });
  };
  const shown = { by_reason: rows('ends-by-reason'),
                  transport_closed_by: rows('ends-transport-closed-by') };
  const again = (what) => document.querySelector(`[data-stat="ends.evicted_seen_again.${what}"]`);
  if (again('count')) {
    shown.evicted_seen_again = { count: JSON.parse(again('count').dataset.value),
                                 pct: JSON.parse(again('pct').dataset.value),
                                 shown: [again('count').textContent, again('pct').textContent] };
  }
  return shown;
}"""


def widget_ends(page: Any) -> dict[str, Any]:
    """The widget's rows as ``{"by_reason": [...], "transport_closed_by": [...]}`` of
    ``{"name", "count", "pct"}`` (and ``evicted_seen_again``'s ``{"count", "pct"}`` when it
    shows it), having checked that each is written as stats writes it."""
    shown: dict[str, Any] = page.evaluate(WIDGET_ENDS)
    again = shown.get("evicted_seen_again")
    for row in [*shown["by_reason"], *shown["transport_closed_by"], *([again] if again else [])]:
        assert row.pop("shown") == [f"{row['count']:,}", f"{row['pct']:.1f}%"], row
    return shown


def check_against_stats(page: Any, expected: dict[str, Any], shot: str) -> None:
    page.wait_for_selector("body[data-finished=true]")
    show(page, "overview")
    assert widget_ends(page) == expected["ends"]
    assert expected["ends"]["by_reason"]  # the capture has ended sessions to show
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / shot), full_page=True)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
@pytest.mark.parametrize("theme", ["dark", "light"])
def test_the_session_ends_are_those_of_ioproto_stats(
    capture: Path, theme: str, dashboard: Callable[[list[str]], Dashboard], browser: Any
) -> None:
    expected = stats_json(str(capture))
    board = dashboard([str(capture)])
    board.wait_finished()
    assert board.get("api/summary")["ends"] == expected["ends"]
    page, problems = open_page(browser, board.url, theme=theme)
    try:
        check_against_stats(page, expected, f"ends-{capture.stem}-{theme}.png")
        assert problems.errors == []
    finally:
        page.close()


def test_under_a_session_limit_it_says_how_many_evicted_sessions_came_back(
    dashboard: Callable[[list[str]], Dashboard], browser: Any
) -> None:
    """``--limit max_sessions=2``: most of clients_mixed's sessions are evicted and seen
    again; the widget says how many, as ``ioproto stats`` does, and still counts 9."""
    args = ["--limit", "max_sessions=2", str(DATA / "clients_mixed.pcap")]
    expected = stats_json(*args)
    assert expected["ends"]["evicted_seen_again"]["count"] > 0
    board = dashboard(args)
    board.wait_finished()
    assert board.get("api/summary")["ends"] == expected["ends"]
    page, problems = open_page(browser, board.url)
    try:
        check_against_stats(page, expected, "ends-evicted.png")
        assert problems.errors == []
    finally:
        page.close()


def test_the_exported_report_shows_the_session_ends(tmp_path: Path, browser: Any) -> None:
    capture = DATA / "clients_mixed.pcap"
    report = tmp_path / "report.html"
    made = run_ioproto("dashboard", "--export", str(report), str(capture))
    assert made.returncode == 0, made.stderr
    context = browser.new_context(viewport={"width": 1280, "height": 800}, offline=True)
    page = context.new_page()
    problems = PageProblems(page)
    try:
        page.goto(report.as_uri() + "#overview")
        check_against_stats(page, stats_json(str(capture)), "ends-report.png")
        assert problems.errors == []
    finally:
        context.close()


# -- live ------------------------------------------------------------------------------------


class LiveProxy:
    """``ioproto proxy`` in front of a real socket.io server with the dashboard sink and the
    stats sink (JSON, written to ``stats`` when the proxy stops)."""

    def __init__(self, upstream: str, stats: Path) -> None:
        self.stats = stats
        self.proc = start_ioproto(
            "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream,
            "--sink", "dashboard", "--sink-option", "dashboard.browser=false",
            "--sink", f"stats:{stats}", "--sink-option", "stats.format=json",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.page_url, self.url = proxy_addresses(self.proc)

    def stop(self) -> dict[str, Any]:
        """Ctrl-C; the figures the stats sink wrote."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
        _, err = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, err
        figures: dict[str, Any] = json.loads(self.stats.read_text())
        return figures


@pytest.fixture
def live_proxy(tmp_path: Path) -> Iterator[LiveProxy]:
    if not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    server = Server(["node", "sio_server.js", "0"])
    proxy = None
    try:
        proxy = LiveProxy(server.url, tmp_path / "stats.json")
        yield proxy
    finally:
        if proxy is not None and proxy.proc.poll() is None:
            proxy.proc.kill()
            proxy.proc.communicate()
        server.stop()


def wait_for_ends(page: Any, condition: str) -> None:
    """Wait until the widget, as drawn, meets ``condition``: a JavaScript expression of
    ``reasons`` and ``how``, the drawn rows as ``{name: count}``, and ``ended``, the
    sessions ended (every reason but ``open``)."""
    page.wait_for_function(
        f"""() => {{
          const shown = ({WIDGET_ENDS})();
          const counts = (rows) => Object.fromEntries(rows.map((r) => [r.name, r.count]));
          const reasons = counts(shown.by_reason), how = counts(shown.transport_closed_by);
          const ended = shown.by_reason.filter((r) => r.name !== 'open')
            .reduce((sum, r) => sum + r.count, 0);
          return {condition};
        }}""",
        timeout=10_000,
    )


@pytest.mark.node
def test_the_session_ends_follow_live_clients_as_they_leave(
    live_proxy: LiveProxy, browser: Any
) -> None:
    """Real clients come and go behind the proxy (over WebSocket, over polling), one stays
    and shows as ``open`` until it is killed: no close frame (1006). The page follows each
    without a reload; at the end it says what the stats sink on the same traffic says."""
    page, problems = open_page(browser, live_proxy.page_url)
    SHOTS.mkdir(exist_ok=True)
    hold = None
    try:
        page.wait_for_selector("body[data-version]")
        assert page.text_content("#ends-by-reason") == "no session seen yet"
        # Three sessions (the client reconnects once; its /admin connections share them).
        # How each ends depends on whether its last packets left before the client's
        # process exited, which a busy machine decides: the counts are the stats sink's.
        run_client("node", live_proxy.url, "websocket")
        wait_for_ends(page, "ended === 3 && !reasons.open")
        run_client("node", live_proxy.url, "polling")
        wait_for_ends(page, "ended === 6 && !reasons.open")
        before = widget_ends(page)
        hold = subprocess.Popen(
            ["node", "hold_client.js", live_proxy.url], cwd=PEERS, stdout=subprocess.PIPE, text=True
        )
        assert hold.stdout is not None and hold.stdout.readline().startswith("CONNECTED")
        wait_for_ends(page, "ended === 6 && reasons.open === 1")
        page.screenshot(path=str(SHOTS / "ends-live-open.png"), full_page=True)
        hold.kill()
        hold.wait()
        # Killed: its WebSocket ends without a close frame.
        no_frame = sum(r["count"] for r in before["transport_closed_by"] if "1006" in r["name"])
        wait_for_ends(
            page, f"ended === 7 && !reasons.open && how['no close frame (1006)'] === {no_frame + 1}"
        )
        assert page.text_content("#mode") == "live"
        page.screenshot(path=str(SHOTS / "ends-live.png"), full_page=True)
        drawn = widget_ends(page)
        assert problems.errors == []
    finally:
        if hold is not None and hold.poll() is None:
            hold.kill()
            hold.wait()
        page.close()
    assert live_proxy.stop()["ends"] == drawn
