"""Scaling with cores, measured on any machine: the CPU of every process of a sharded run.

    python benchmarks/bench_scaling.py [--jobs 1,2,3,4,6,8] [--runs 3] [--no-split]
                                       [--compiled] [FILE]

Runs ``ioproto decode --proto socketio --sink jsonl --jobs N`` (N >= 2 sharded by session,
``--source-option shard=true``) on FILE (default benchmarks/data/large.pcap, made by
make_capture.py when missing), output to /dev/null, *pinned to one core*: the processes
then never run at the same time, so each one's CPU seconds are its work alone, without
the contention of more processes than cores. It prints, per N, the CPU seconds of this
process (start-up, merge, writing), of the dispatcher that reads the capture once (none
with ``--no-split``: every worker reads it whole) and of the workers (least, most, sum),
next to tshark's (``-Y websocket``, one core too), and an *estimate* of the wall time on N
+ 2 idle cores: the parent's start-up (the CPU of a one-connection decode), then the
slowest of the dispatcher, the busiest worker and the parent's own merge, which run side by
side as a pipeline. It is an estimate, not a measurement: it leaves out what running side
by side costs (memory bandwidth, pipes waking processes) and assumes the shares stay as
uneven as measured. The output of every run is compared (md5) with ``--jobs 1``'s.
``--compiled`` measures the compiled build (setup.py; benchmarks/compiled.py builds it
into benchmarks/data/compiled).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_end_to_end import ensure_capture  # noqa: E402
from compiled import DEFAULT_TREE, add_compiled_option, build_tree, python_command  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float | None:
    """The CPU seconds (user + system) of ``pid``, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(part) for part in handle.read().split()]
    except OSError:
        return []


def run(command: list[str], core: int) -> tuple[float, list[float], str]:
    """Run ``command`` on ``core``: the CPU seconds of its process and then of each process
    it started, in the order they were forked (the last seen: polled every 5 ms), and the
    md5 of its output."""
    digest = hashlib.md5()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        preexec_fn=lambda: os.sched_setaffinity(0, {core}),
        cwd=ROOT,
    )
    assert process.stdout is not None
    output = process.stdout

    def drain() -> None:  # blocking reads: the run never waits on a full pipe
        while block := output.read(1 << 16):
            digest.update(block)

    reader = threading.Thread(target=drain)
    reader.start()
    seen: dict[int, float] = {}
    while process.poll() is None:
        stack = [process.pid]
        while stack:
            pid = stack.pop()
            cpu = _cpu(pid)
            if cpu is not None:
                seen[pid] = cpu
            stack += _children(pid)
        time.sleep(0.005)
    reader.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
    top = seen.pop(process.pid, 0.0)
    # Forked in order, so in the order of their ids; a process that ran no tick of CPU is
    # not one of the run's (it was caught between fork and exec, say).
    children = [seen[pid] for pid in sorted(seen) if seen[pid] > 0]
    return top, children, digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", default=str(HERE / "data" / "large.pcap"))
    parser.add_argument("--jobs", default="1,2,3,4,6,8")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-split", action="store_true", help="every worker reads it all")
    add_compiled_option(parser, "measure")
    args = parser.parse_args()
    path = Path(args.file)
    if path == HERE / "data" / "large.pcap":
        ensure_capture(path)
    cores = sorted(os.sched_getaffinity(0))
    core = cores[0]
    if len(cores) > 1:  # this process polls and reads the output on another core
        os.sched_setaffinity(0, set(cores[1:]))
    python = python_command(build_tree(DEFAULT_TREE)) if args.compiled else [sys.executable]
    ioproto = [*python, "-m", "ioproto"]
    startup_cmd = [*ioproto, "decode", "--proto", "socketio", "--sink", "jsonl", "--jobs", "1"]
    startup = statistics.median(
        run([*startup_cmd, str(ROOT / "tests" / "data" / "upgrade.pcap")], core)[0]
        for _ in range(args.runs)
    )
    tshark = None
    if shutil.which("tshark"):
        tshark_cmd = ["tshark", "-r", str(path), "-Y", "websocket", "-T", "fields"]
        tshark = min(
            run([*tshark_cmd, "-e", "websocket.payload"], core)[0] for _ in range(args.runs)
        )
    size = path.stat().st_size / 1e6
    build = "the compiled build" if args.compiled else "Python"
    print(f"{path} ({size:.1f} MB), {build}, one core ({core}), least CPU of {args.runs} runs")
    print(f"start-up (one-connection decode): {startup:.2f} s CPU")
    if tshark is not None:
        print(f"tshark -Y websocket: {tshark:.2f} s CPU")
    print(
        f"{'jobs':>4} {'parent':>7} {'dispatch':>8} {'workers':>17} {'sum':>6} {'total':>6}"
        f" {'est. wall':>9} {'vs tshark':>9}"
    )
    reference = None
    for jobs in [int(part) for part in args.jobs.split(",")]:
        command = [*startup_cmd[:-1], str(jobs)]
        if jobs > 1:
            command += ["--source-option", "shard=true"]
            if args.no_split:
                command += ["--source-option", "split=false"]
        best: tuple[float, float, list[float]] | None = None
        for _ in range(args.runs):
            parent, children, digest = run([*command, str(path)], core)
            reference = reference or digest
            if digest != reference:
                raise SystemExit(f"--jobs {jobs}: output differs from --jobs 1's")
            dispatcher = children.pop(0) if jobs > 1 and not args.no_split else 0.0
            workers = children
            total = parent + dispatcher + sum(workers)
            if best is None or total < best[0] + best[1] + sum(best[2]):
                best = (parent, dispatcher, workers)
        assert best is not None
        parent, dispatcher, workers = best
        busiest = max(workers, default=0.0)
        estimate = parent if jobs == 1 else startup + max(parent - startup, dispatcher, busiest)
        ratio = f"{tshark / estimate:.2f}x" if tshark is not None else "-"
        spread = f"{min(workers):.2f}-{busiest:.2f}" if workers else "-"
        print(
            f"{jobs:>4} {parent:>7.2f} {dispatcher:>8.2f} {spread:>11} {sum(workers):>5.2f}"
            f" {parent + dispatcher + sum(workers):>6.2f} {estimate:>9.2f} {ratio:>9}"
        )


if __name__ == "__main__":
    main()
