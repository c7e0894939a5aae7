"""End to end: ``ioproto decode --proto socketio`` on a large real capture, next to tshark.

    python benchmarks/bench_end_to_end.py [--capture FILE] [--runs N] [--large]

Runs, interleaved and ``--runs`` times each, on the same file:

* ``ioproto decode --proto socketio --sink jsonl --no-classify all`` (decode to Socket.IO and
  write the documented JSON lines, nothing else);
* the same with every classifier on;
* ``--sink monitor --sink stats`` with every classifier (the insight set-up);
* ``tshark -r FILE -Y websocket -T fields -e websocket.payload`` (which only frames WebSocket:
  no Engine.IO or Socket.IO decoding, no sessions, no polling).

Prints the median wall time, MB/s of capture, records/s and peak RSS of each, and the ratio
to tshark. Without ``--capture`` it uses benchmarks/data/large.pcap, generating it with
make_capture.py (50 real clients x 1,000 events, > 50 MB; needs tcpdump and root) when
missing. ``--large`` also decodes a capture ten times larger (make_capture.py --repeat 10)
once and reports its peak RSS: memory must stay flat whatever the capture size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"


def ensure_capture(path: Path, repeat: int = 1) -> Path:
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} (make_capture.py --repeat {repeat}) ...", flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "make_capture.py"), "--out", str(path),
             "--repeat", str(repeat)],
            check=True,
        )  # fmt: skip
    return path


def run(command: list[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in kB and output lines of ``command`` (stdout counted)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    stdout = process.stdout
    assert stdout is not None
    lines = 0
    while chunk := stdout.read(1 << 20):
        lines += chunk.count(b"\n")
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--capture", type=Path, default=DATA / "large.pcap")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large", action="store_true", help="also a 10x capture, once")
    args = parser.parse_args()
    capture = ensure_capture(args.capture)
    size_mb = capture.stat().st_size / 1e6
    ioproto = [sys.executable, "-m", "ioproto", "decode", "--proto", "socketio"]
    commands = {
        "ioproto jsonl": [*ioproto, "--sink", "jsonl", "--no-classify", "all", str(capture)],
        "ioproto jsonl + classifiers": [*ioproto, "--sink", "jsonl", str(capture)],
        "ioproto monitor + stats": [
            *ioproto, "--sink", "monitor", "--sink", "stats", "--no-color", str(capture)
        ],
    }  # fmt: skip
    if shutil.which("tshark"):
        commands["tshark -Y websocket"] = [
            "tshark", "-r", str(capture), "-Y", "websocket", "-T", "fields",
            "-e", "websocket.payload",
        ]  # fmt: skip
    else:
        print("tshark not found: apt-get install tshark to compare")
    results: dict[str, list[tuple[float, int, int]]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            results[name].append(run(command))
    records = results["ioproto jsonl"][0][2]
    print(f"capture: {capture} ({size_mb:.1f} MB), {records} Socket.IO-level records")
    header = ("what", "median s", "MB/s", "records/s", "peak RSS", "vs tshark")
    print(f"{header[0]:32} " + " ".join(f"{title:>9}" for title in header[1:]))
    baseline = statistics.median(r[0] for r in results.get("tshark -Y websocket", [(0, 0, 0)]))
    for name, runs in results.items():
        seconds = statistics.median(r[0] for r in runs)
        rss = max(r[1] for r in runs) / 1024
        ratio = f"{baseline / seconds:.2f}x" if baseline else "-"
        rate = f"{records / seconds:,.0f}" if name.startswith("ioproto") else "-"
        print(
            f"{name:32} {seconds:9.2f} {size_mb / seconds:7.1f} {rate:>10} {rss:7.0f}MB {ratio:>9}"
        )
    if args.large:
        big = ensure_capture(DATA / "large-x10.pcap", repeat=10)
        seconds, rss, lines = run([*ioproto, "--sink", "jsonl", "--no-classify", "all", str(big)])
        big_mb = big.stat().st_size / 1e6
        print(
            f"10x capture: {big_mb:.0f} MB, {lines} records in {seconds:.1f} s "
            f"({big_mb / seconds:.1f} MB/s), peak RSS {rss / 1024:.0f} MB"
        )


if __name__ == "__main__":
    main()
