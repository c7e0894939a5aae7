"""Throughput of the insight classifiers and sinks: packets/s end to end.

Usage: ``python benchmarks/bench_insight.py [--packets N] [--repeat R]``

Builds one large ``lines`` input (Engine.IO v4 sessions: handshake, Socket.IO connect,
events with and without acks, acks, heartbeats, an upgrade probe and a binary event), then
decodes it, in the same process and run, with:

1. ``--sink jsonl`` and no classifiers (the baseline),
2. ``--sink jsonl`` with every classifier,
3. ``--sink monitor --sink stats`` with every classifier (output to /dev/null),

and prints packets/s for each and the ratio to the baseline (the target: the insight
configuration keeps at least half of the baseline's throughput).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins"))

import ioproto_classify  # noqa: E402
import ioproto_engineio  # noqa: E402
import ioproto_jsonl  # noqa: E402
import ioproto_lines  # noqa: E402
import ioproto_monitor  # noqa: E402
import ioproto_socketio  # noqa: E402
import ioproto_stats  # noqa: E402

from ioproto.components import SinkContext, SourceContext  # noqa: E402
from ioproto.pipeline import Pipeline  # noqa: E402
from ioproto.plugins import make_plugin_manager  # noqa: E402

SESSION = """\
#! revision=4 sid={sid} transport=polling
< 0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}}
> 40
< 40{{"sid":"x{sid}"}}
#! transport=websocket
> 2probe
< 3probe
> 5
"""
TRAFFIC = """\
> 42{n}["chat",{{"text":"hello number {n}","room":"lobby"}}]
< 43{n}[{{"ok":true,"id":{n}}}]
< 42["news",{{"title":"item {n}","tags":["a","b"]}},{n}]
< 2
> 3
> 42["typing",true]
> 451-["upload",{{"_placeholder":true,"num":0}}]
> hex: 01 02 03 04 05 06 07 08
"""
PACKETS_PER_BLOCK = 7  # packets that reach the sinks per TRAFFIC block


def build_input(path: Path, packets: int) -> int:
    blocks = max(1, packets // PACKETS_PER_BLOCK)
    per_session = 50
    with path.open("w", encoding="utf-8") as handle:
        for index in range(blocks):
            if index % per_session == 0:
                handle.write(SESSION.format(sid=f"sess{index // per_session:06d}"))
            handle.write(TRAFFIC.format(n=index % 1000))
    return blocks * PACKETS_PER_BLOCK


def run(path: Path, sinks: list[str], classifiers: list[str] | None) -> tuple[float, int]:
    pm = make_plugin_manager(
        load_entrypoints=False,
        plugins=[
            ioproto_lines,
            ioproto_engineio,
            ioproto_socketio,
            ioproto_classify,
            ioproto_jsonl,
            ioproto_monitor,
            ioproto_stats,
        ],
    )
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        specs = [
            (name, SinkContext(stream=devnull, color=False, options={"time": "utc"}))
            for name in sinks
        ]
        pipeline = Pipeline.build(
            proto="socketio", sinks=specs, classifiers=classifiers, plugin_manager=pm
        )
        source = ioproto_lines.LinesSource()
        start = time.perf_counter()
        summary = pipeline.run(source.open(str(path), SourceContext()))
        elapsed = time.perf_counter() - start
    packets = summary.records.get("socketio", 0) + summary.records.get("engineio", 0)
    return elapsed, packets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configs = [
        ("jsonl, no classifiers", ["jsonl"], []),
        ("jsonl, all classifiers", ["jsonl"], None),
        ("monitor + stats, all classifiers", ["monitor", "stats"], None),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "traffic.txt"
        build_input(path, args.packets)
        print(f"input: {path.stat().st_size / 1e6:.1f} MB of lines")
        best: dict[str, float] = {}
        for _ in range(args.repeat):
            for label, sinks, classifiers in configs:
                elapsed, packets = run(path, sinks, classifiers)
                rate = packets / elapsed
                best[label] = max(best.get(label, 0.0), rate)
        baseline = best[configs[0][0]]
        print(f"{'configuration':36} {'packets/s':>12} {'vs baseline':>12}")
        for label, _, _ in configs:
            print(f"{label:36} {best[label]:12,.0f} {best[label] / baseline:11.2f}x")
        print(f"({packets:,} packets per run, best of {args.repeat})")


if __name__ == "__main__":
    main()
