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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[3].strip(), file=sys.stderr)
        return 2
    with open(argv[0]) as one, open(argv[1]) as other:
        print("\n".join(table(json.load(one), json.load(other))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
