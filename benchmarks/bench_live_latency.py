"""How long an event takes from a client's emit to a line of a live ``ioproto`` command.

    python benchmarks/bench_live_latency.py [--count 40] [--interval 0.25] [--busy N] [--json]

A real python-socketio server (tests/live/peers/py_server.py) and a real python-socketio
client (tests/live/peers/py_ticker.py) emitting one event every ``--interval`` seconds, over
WebSocket and over long-polling, watched by the commands a user runs, each with its
standard output a pipe read line by line:

* ``ioproto decode --sink jsonl live:lo --port P`` (needs root and tcpdump; skipped without);
* ``ioproto proxy --upstream URL --sink jsonl`` with the clients pointed at the proxy.

Prints p50 / p90 / max of the delay from the emit (the client's clock) to the moment the
line was read (the same machine's clock). ``--busy N`` runs N processes spinning at normal
priority meanwhile, to see the commands on a saturated machine (the proxy decodes at idle
CPU priority while copies pile up, at normal priority otherwise).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "live"))
sys.path.insert(0, str(ROOT / "tests"))

from clirun import IOPROTO  # noqa: E402
from emitdelay import PEERS, LineWatcher, emit_delays  # noqa: E402


def spin() -> None:
    while True:
        pass


def start_server() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "py_server.py", "0"], cwd=PEERS, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline().split()[1])


def measure_live(port: int, mode: str, count: int, interval: float) -> list[float | None]:
    watcher = LineWatcher([*IOPROTO, "decode", "--sink", "jsonl", "live:lo", "--port", str(port)])
    try:
        watcher.stderr_line()
        return emit_delays(watcher, f"http://127.0.0.1:{port}", mode, count, interval)
    finally:
        watcher.stop()


def measure_proxy(port: int, mode: str, count: int, interval: float) -> list[float | None]:
    upstream = f"http://127.0.0.1:{port}"
    argv = [*IOPROTO, "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream, "--sink", "jsonl"]
    watcher = LineWatcher(argv)
    try:
        match = re.search(r"listening on (http://\S+)", watcher.stderr_line())
        assert match is not None
        return emit_delays(watcher, match.group(1), mode, count, interval)
    finally:
        watcher.stop()


def summary(delays: list[float | None]) -> dict[str, float | int]:
    seen = sorted(d * 1000 for d in delays if d is not None)
    if not seen:
        return {"missing": len(delays)}
    return {
        "p50_ms": round(statistics.median(seen), 1),
        "p90_ms": round(seen[int(0.9 * (len(seen) - 1))], 1),
        "max_ms": round(seen[-1], 1),
        "missing": len(delays) - len(seen),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--busy", type=int, default=0, help="spinning processes meanwhile")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for spinner in spinners:
        spinner.start()
    server, port = start_server()
    results: dict[str, object] = {}
    try:
        can_capture = shutil.which("tcpdump") is not None and os.geteuid() == 0
        for mode in ("websocket", "polling"):
            if can_capture:
                delays = measure_live(port, mode, args.count, args.interval)
                results[f"live {mode}"] = summary(delays)
            delays = measure_proxy(port, mode, args.count, args.interval)
            results[f"proxy {mode}"] = summary(delays)
    finally:
        server.terminate()
        server.wait()
        for spinner in spinners:
            spinner.terminate()
    if args.json:
        print(json.dumps(results))
        return
    print(f"emit -> line, {args.count} events {args.interval}s apart, {args.busy} busy")
    for name, figures in results.items():
        print(f"  {name:18} {figures}")


if __name__ == "__main__":
    main()
