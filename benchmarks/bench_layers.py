"""Per-layer CPU cost of ``ioproto decode --proto socketio``, in one process.

    python benchmarks/bench_layers.py [--capture FILE] [--runs N] [--retain]

Each stage is run over the whole output of the stage before it, held in memory, and timed
with the process's CPU clock (``time.process_time``, so other work on a shared machine
counts less than in wall time); the figure is the minimum of ``--runs`` runs. What a stage
makes is counted and dropped as it comes, as in a streaming run (the next stage's input is
made by one more, untimed, run); ``--retain`` times the run that keeps it all in a list,
the method of the figures before 2026-12-05, which also counts the garbage collector's
passes over that growing list (0.5 s of the Socket.IO stage's 1.5 s on the 85 MB capture).
Stages:

* ``read``: the capture's frames (:class:`ioproto_pcap.files.FrameReader`), nothing else;
* ``tcp``: the pcap source (frames, IP/TCP headers, reassembly into ``tcp`` records), minus
  ``read``;
* one per decoder layer (``http``: HTTP/1.1 and WebSocket framing; ``engineio``;
  ``socketio``), each as a one-layer pipeline fed the records of the layer below;
* ``classify``: every registered classifier over the Socket.IO-level records;
* ``sink jsonl``: the ``jsonl`` sink writing them to /dev/null.

The sum is a little less than a single-process ``decode`` (which also pays for the
generator between source and pipeline), printed last for comparison.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"


def best(runs: int, job: Callable[[], Any]) -> tuple[float, Any]:
    """The least CPU seconds of ``runs`` calls of ``job``, and its last result."""
    times = []
    result = None
    for _ in range(runs):
        # The stage's input, held in memory, is not what a streaming run's collector sees.
        gc.collect()
        gc.freeze()
        start = time.process_time()
        result = job()
        times.append(time.process_time() - start)
    return min(times), result


def best_streaming(
    runs: int, retain: bool, job: Callable[[], Iterable[Any]]
) -> tuple[float, list[Any]]:
    """The least CPU seconds of ``runs`` consumptions of the iterable ``job()`` makes (its
    items counted and dropped; with ``retain``, kept in a list), and its items as a list
    (from one more, untimed, run unless ``retain``)."""
    if retain:
        return best(runs, lambda: list(job()))
    seconds, _ = best(runs, lambda: sum(1 for _ in job()))
    return seconds, list(job())


def main() -> None:
    from ioproto_pcap.files import FrameReader, open_input

    from ioproto.components import SinkContext, SourceContext
    from ioproto.pipeline import Pipeline
    from ioproto.plugins import collect_components, make_plugin_manager

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capture", type=Path, default=DATA / "large.pcap")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--retain", action="store_true", help="time runs that keep each stage's output"
    )
    args = parser.parse_args()
    capture = str(args.capture)
    pm = make_plugin_manager()
    components = collect_components(pm)
    source = components.sources.get("pcap")
    size_mb = os.path.getsize(capture) / 1e6

    def read() -> int:
        with open_input(capture) as stream:
            return sum(1 for _ in FrameReader(stream))

    rows: list[tuple[str, float, int]] = []
    seconds, frames = best(args.runs, read)
    rows.append(("read (frames)", seconds, frames))
    seconds, records = best_streaming(
        args.runs, args.retain, lambda: source.open(capture, SourceContext())
    )
    rows.append(("tcp (IP/TCP, reassembly)", seconds - rows[0][1], len(records)))

    full = Pipeline.build(
        proto="socketio", classifiers=[], plugin_manager=pm, components=components
    )
    for layer in full.layers:
        # A fresh pipeline per run: streams keep state.
        def run_layer(name: str = layer.name, items: Iterable[Any] = records) -> Iterable[Any]:
            fresh = Pipeline.build(
                proto="socketio", classifiers=[], plugin_manager=pm, components=components
            )
            (only,) = [item for item in fresh.layers if item.name == name]
            return Pipeline(layers=[only]).stream(items)

        seconds, records = best_streaming(args.runs, args.retain, run_layer)
        rows.append((layer.name, seconds, len(records)))

    def classify(items: list[Any] = records) -> Iterable[Any]:
        fresh = Pipeline.build(proto="socketio", plugin_manager=pm, components=components)
        return Pipeline(classifiers=fresh.classifiers).stream(items)

    seconds, classified = best_streaming(args.runs, args.retain, classify)
    rows.append(("classify (all)", seconds, len(classified)))

    def sink(items: list[Any] = records) -> int:
        with open(os.devnull, "w", encoding="utf-8") as out:
            factory = components.sinks.get("jsonl")
            writer = factory.open(SinkContext(stream=out, color=False, options={}))
            for record in items:
                writer.write(record)
            writer.close()
        return len(items)

    seconds, count = best(args.runs, sink)
    rows.append(("sink jsonl (unclassified)", seconds, count))

    def whole() -> int:
        with open(os.devnull, "w", encoding="utf-8") as out:
            pipeline = Pipeline.build(
                proto="socketio",
                classifiers=[],
                sinks=[("jsonl", SinkContext(stream=out, color=False, options={}))],
                plugin_manager=pm,
                components=components,
            )
            return pipeline.run(source.open(capture, SourceContext())).inputs

    whole_seconds, _ = best(args.runs, whole)
    total = sum(row[1] for row in rows if row[0] != "classify (all)")
    method = "outputs kept in lists" if args.retain else "outputs counted and dropped"
    print(
        f"capture: {capture} ({size_mb:.1f} MB); CPU seconds, least of {args.runs} runs ({method})"
    )
    print(f"{'stage':28} {'CPU s':>7} {'µs/out':>7} {'records out':>12}")
    for name, seconds, count in rows:
        print(f"{name:28} {seconds:7.2f} {seconds / max(count, 1) * 1e6:7.2f} {count:12,}")
    print(f"{'sum without classify':28} {total:7.2f}")
    print(f"{'one process, jsonl':28} {whole_seconds:7.2f}  (decode --no-classify all, in process)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
