"""Live: a real Socket.IO server (Node socket.io 4.8.1) and clients behind ``ioproto proxy``
with the dashboard sink; the page follows the traffic as it happens."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from clirun import start_ioproto
from dashhelp import ROOT, SHOTS, open_page, proxy_addresses, show

pytestmark = [pytest.mark.browser, pytest.mark.node]

PEERS = ROOT / "tests" / "live" / "peers"


def _start(argv: list[str], pattern: str, cwd: Path = ROOT) -> tuple[subprocess.Popen[str], str]:
    """Start ``argv`` and return it with the first match of ``pattern`` on its output."""
    proc = subprocess.Popen(
        argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    stream = proc.stdout if "READY" in pattern else proc.stderr
    assert stream is not None
    seen = []
    for _ in range(20):
        line = stream.readline()
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return proc, match.group(1)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError(f"{argv[:3]}: no {pattern!r} in {seen}")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(2)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.communicate()


def test_the_page_follows_live_traffic_behind_the_proxy(browser: object) -> None:
    if shutil.which("node") is None or not (ROOT / "tests/node/node_modules").is_dir():
        pytest.skip("node or tests/node/node_modules missing")
    server, port = _start(["node", "sio_server.js", "0"], r"READY (\d+)", cwd=PEERS)
    proxy = None
    try:
        proxy = start_ioproto(
            "proxy", "--listen", "127.0.0.1:0", "--upstream", f"http://127.0.0.1:{port}",
            "--sink", "dashboard", "--sink-option", "dashboard.browser=false",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        page_url, proxy_url = proxy_addresses(proxy)
        page, problems = open_page(browser, page_url)
        page.wait_for_selector("body[data-version]")
        assert page.evaluate("IOP.current.summary.totals.packets") == 0
        for mode in ("websocket", "polling", "default"):
            before = page.evaluate("IOP.current.summary.totals.packets")
            client = subprocess.run(
                ["node", "sio_client.js", proxy_url, mode],
                cwd=PEERS, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert client.returncode == 0, client.stderr
            seen = time.monotonic()
            page.wait_for_function(
                f"() => IOP.current.summary.totals.packets > {before + 20}", timeout=10_000
            )
            assert time.monotonic() - seen < 5  # generous: the figure itself is measured below
        assert page.text_content("#mode") == "live"
        freshness = page.evaluate("IOP.metrics.freshness")
        ordered = sorted(freshness)
        median = ordered[len(ordered) // 2]
        print(f"\nlive page freshness: {len(ordered)} draws, median {median:.3f} s, "
              f"max {ordered[-1]:.3f} s")  # fmt: skip
        assert median < 1.0  # the newest record on the page is under a second old
        # The waits above see the first 20 of a client's packets; the rest of its traffic (the
        # upgrade of the default client among it) may still be on its way to the page.
        page.wait_for_function(
            "() => { const s = IOP.current.summary;"
            " return s.upgrade.upgraded >= 1 && s.latency.ack.count > 10; }",
            timeout=10_000,
        )
        summary = page.evaluate("IOP.current.summary")
        assert {"websocket", "polling-xhr"} <= {t["name"] for t in summary["transport"]["packets"]}
        SHOTS.mkdir(exist_ok=True)
        for view in ("overview", "transports", "latency"):
            show(page, view)
            page.screenshot(path=str(SHOTS / f"live-{view}.png"))
        assert problems.errors == []
        page.close()
    finally:
        if proxy is not None:
            _stop(proxy)
        _stop(server)
