"""Run every benchmark in turn (``make bench``). Each prints ioproto next to its reference."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ["bench_engineio.py"],
    ["bench_socketio.py"],
    ["bench_pcap.py"],
    ["bench_end_to_end.py"],
    ["bench_targets.py"],
    ["bench_instructions.py"],
    ["bench_insight.py"],
    ["bench_dashboard.py"],
]

if __name__ == "__main__":
    for script, *args in BENCHMARKS:
        print(f"\n=== {script} ===", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *args], check=False)
