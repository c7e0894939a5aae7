"""Put the browser's latencies next to the server side's: two `ioproto stats --format json`
files of the same traffic, one from the browser (`ioproto browse` or the `cdp` source), one
from the server side (a capture on the server, `live:`, the proxy or a tap).

    python examples/compare_latency.py browser.json server.json

Prints one row per figure (handshake, heartbeat, all acks, then each acknowledged event):
count, p50 and p90 as each side measured them, and the p50 difference. How to read it
(docs/browser.md, "Client-side latency"): for an event the page emits, the browser's
figure is the whole round trip and the server side's is the server's own time, so the
difference is what the network and the queues added; for an event the server emits (and
Engine.IO 4's heartbeat, which the server starts), it is the other way round.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def figures(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{name: {count, p50, p90, ...}}`` of one stats JSON document."""
    latency = stats.get("latency", {})
    found = {name: latency.get(name, {}) for name in ("handshake", "heartbeat", "ack")}
    for item in latency.get("ack_by_event", []):
        found[f"ack {item.get('nsp', '/')} {item.get('event')}"] = item
    return found


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f} ms"


def table(browser: dict[str, Any], server: dict[str, Any]) -> list[str]:
    ours, theirs = figures(browser), figures(server)
    rows = [f"{'':<28} {'browser n/p50/p90':>28} {'server n/p50/p90':>28} {'p50 diff':>10}"]
    for name in [*ours, *(n for n in theirs if n not in ours)]:
        a, b = ours.get(name, {}), theirs.get(name, {})
        diff = None
        if a.get("p50") is not None and b.get("p50") is not None:
            diff = a["p50"] - b["p50"]
        left = f"{a.get('count', 0)} / {ms(a.get('p50'))} / {ms(a.get('p90'))}"
        right = f"{b.get('count', 0)} / {ms(b.get('p50'))} / {ms(b.get('p90'))}"
        rows.append(f"{name:<28} {left:>28} {right:>28} {ms(diff):>10}")
    return rows


def read(path: str) -> dict[str, Any]:
    """One ``ioproto stats --format json`` document; a file that is none is a ValueError
    saying so."""
    try:
        with open(path, encoding="utf-8") as file:
            stats = json.load(file)
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise ValueError(f"{path} is not JSON") from None
    if not isinstance(stats, dict) or not isinstance(stats.get("latency"), dict):
        raise ValueError(f"{path} is not the JSON of `ioproto stats --format json`")
    return stats


#: How to run it, as the module's docstring shows it.
USAGE = "python examples/compare_latency.py browser.json server.json"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {USAGE}", file=sys.stderr)
        return 2
    try:
        browser, server = read(argv[0]), read(argv[1])
    except ValueError as exc:
        print(f"compare_latency.py: {exc}; usage: {USAGE}", file=sys.stderr)
        return 2
    try:
        print("\n".join(table(browser, server)), flush=True)
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
