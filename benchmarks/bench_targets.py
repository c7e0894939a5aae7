"""Issue 16's scoreboard in one run: start-up, and ioproto next to tshark on two captures.

    python benchmarks/bench_targets.py [--runs 5] [--startup-runs 10] [--startup-only]
                                       [--medium FILE] [--large FILE] [--jobs 2,3,4]
                                       [--compiled]

Prints, measured in the same run and interleaved (medians of ``--runs``, whole processes
as a user runs them, output read from a pipe and discarded):

* start-up (medians of ``--startup-runs``, wall and CPU seconds): ``python -c pass`` (the
  interpreter alone: the floor), ``ioproto --version``, ``plugins``, ``plugins --json``,
  ``fields``, ``--help``, ``decode --help`` and ``decode`` of a one-connection capture
  (tests/data/upgrade.pcap), as a later run (the User-Agents cached by the first: see
  ioproto_classify.uacache) and as a first run (no cache); ``--startup-only`` stops there;
* for a 5-10 MB capture (``--medium``; default benchmarks/data/medium.pcap, made with
  make_capture.py --clients 50 --events 300 --payload 120 --binary 512 when missing) and
  the large one (``--large``; default benchmarks/data/large.pcap, make_capture.py's
  default): ``tshark -r FILE -Y websocket -T fields -e websocket.payload`` (the reference:
  it only frames WebSocket), ``ioproto decode --proto socketio --sink jsonl`` as the issue
  states it (classifiers on), the same in one process (``--jobs 1``) and without
  classifiers, and with each ``--jobs`` N asked for (3 and more: sharded by session); each
  with packets/s (capture frames), MB/s, CPU seconds (user + system, the process and its
  workers), peak RSS (the largest process) and the speed ratio to tshark (above 1:
  ioproto is faster);
* with ``--compiled``, the compiled build (setup.py, ``IOPROTO_COMPILE=1``; built into
  benchmarks/data/compiled by benchmarks/compiled.py, which needs Cython and a C
  compiler) next to them: start-up, the default decode, ``--jobs 1`` and each ``--jobs``.

The reference decoders of each protocol layer (python-engineio, python-socketio, Node's
socket.io-parser) are compared in bench_engineio.py and bench_socketio.py.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))
from bench_end_to_end import ensure_capture  # noqa: E402
from compiled import DEFAULT_TREE, add_compiled_option, build_tree, python_command  # noqa: E402

MEDIUM = ["--clients", "50", "--events", "300", "--payload", "120", "--binary", "512"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_medium(path: Path) -> Path:
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        print(f"generating {path} (make_capture.py {' '.join(MEDIUM)}) ...", flush=True)
        subprocess.run(
            [sys.executable, str(HERE / "make_capture.py"), *MEDIUM, "--out", str(path),
             "--port", str(free_port())],
            check=True,
        )  # fmt: skip
    return path


def frames(path: Path) -> int:
    """Packets in the capture (what tshark reads)."""
    from ioproto_pcap.files import FrameReader, open_input

    with open_input(str(path)) as stream:
        return sum(1 for _ in FrameReader(stream))


def startup_runs(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU (user + system) seconds of each command, interleaved."""
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"failed: {' '.join(command)}")
            results[name].append((elapsed, usage.ru_utime + usage.ru_stime))
    return {
        name: (statistics.median(r[0] for r in got), statistics.median(r[1] for r in got))
        for name, got in results.items()
    }


def run_with_cpu(command: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (kB, the largest process) and CPU seconds (user + system, with
    the worker processes it waited for) of ``command``, its output read and discarded."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdout is not None
    while process.stdout.read(1 << 20):
        pass
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def median_runs(commands: dict[str, list[str]], runs: int) -> dict[str, tuple[float, int, float]]:
    """Median wall seconds, peak RSS (kB) and least CPU seconds of each command, the
    commands interleaved."""
    results: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            results[name].append(run_with_cpu(command))
    return {
        name: (
            statistics.median(r[0] for r in got),
            max(r[1] for r in got),
            min(r[2] for r in got),
        )
        for name, got in results.items()
    }


def prepare_environment() -> None:
    """Set up this process's environment, which the commands measured inherit, as a user's
    installed ioproto sees it:

    * byte-compiled modules (``PYTHONDONTWRITEBYTECODE`` in the environment would otherwise
      make every run compile changed sources again);
    * a User-Agent cache (ioproto_classify.uacache) of this run's own, removed at exit:
      warm after a command's first run on a capture, as a user's is after their first
      decode (``IOPROTO_CACHE_DIR=off`` turns it off for one command).
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "ioproto", "plugins"], cwd=ROOT)
    cache = tempfile.mkdtemp(prefix="bench-ioproto-cache-")
    os.environ["IOPROTO_CACHE_DIR"] = cache
    atexit.register(shutil.rmtree, cache, True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--startup-runs", type=int, default=10)
    parser.add_argument("--startup-only", action="store_true", help="measure start-up only")
    parser.add_argument("--medium", type=Path, default=DATA / "medium.pcap")
    parser.add_argument("--large", type=Path, default=DATA / "large.pcap")
    parser.add_argument(
        "--jobs", default="", help="comma-separated --jobs values to add (3 and more shard)"
    )
    add_compiled_option(parser)
    args = parser.parse_args()
    jobs = [int(item) for item in args.jobs.split(",") if item]
    prepare_environment()
    ioproto = [sys.executable, "-m", "ioproto"]
    compiled = [*python_command(build_tree(DEFAULT_TREE)), "-m", "ioproto"] if args.compiled else []

    startup = startup_runs(
        {
            "python -c pass (floor)": [sys.executable, "-c", "pass"],
            "ioproto --version": [*ioproto, "--version"],
            "ioproto plugins": [*ioproto, "plugins"],
            "ioproto plugins --json": [*ioproto, "plugins", "--json"],
            "ioproto fields": [*ioproto, "fields"],
            "ioproto --help": [*ioproto, "--help"],
            "ioproto decode --help": [*ioproto, "decode", "--help"],
            "ioproto decode (1 connection)": [
                *ioproto, "decode", "--proto", "socketio", "--sink", "jsonl",
                str(ROOT / "tests" / "data" / "upgrade.pcap"),
            ],
            "  same, first run (no cache)": [
                "env", "IOPROTO_CACHE_DIR=off", *ioproto, "decode", "--proto", "socketio",
                "--sink", "jsonl", str(ROOT / "tests" / "data" / "upgrade.pcap"),
            ],
        },
        args.startup_runs,
    )  # fmt: skip
    if compiled:
        startup.update(
            startup_runs(
                {
                    "compiled: --version": [*compiled, "--version"],
                    "compiled: decode (1 connection)": [
                        *compiled, "decode", "--proto", "socketio", "--sink", "jsonl",
                        str(ROOT / "tests" / "data" / "upgrade.pcap"),
                    ],
                },
                args.startup_runs,
            )
        )  # fmt: skip
    print(
        f"start-up, median of {args.startup_runs} (target: 0.1 s), "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"  {'':34} {'wall s':>7} {'CPU s':>7}")
    for name, (seconds, cpu) in startup.items():
        print(f"  {name:34} {seconds:7.3f} {cpu:7.3f}")
    if args.startup_only:
        return

    have_tshark = shutil.which("tshark") is not None
    if not have_tshark:
        print("tshark not found: apt-get install tshark to compare")
    for label, capture in (
        ("medium", ensure_medium(args.medium)),
        ("large", ensure_capture(args.large)),
    ):
        decode = [*ioproto, "decode", "--proto", "socketio", "--sink", "jsonl", str(capture)]
        commands = {
            "ioproto decode (classifiers)": decode,
            "  same, --jobs 1": [*decode, "--jobs", "1"],
            "  same, --no-classify all": [*decode, "--no-classify", "all"],
            "  --no-classify all --jobs 1": [*decode, "--no-classify", "all", "--jobs", "1"],
        }
        for count in jobs:
            commands[f"  classifiers, --jobs {count}"] = [*decode, "--jobs", str(count)]
        if compiled:
            compiled_decode = [*compiled, *decode[len(ioproto) :]]
            commands["compiled build (classifiers)"] = compiled_decode
            commands["  compiled, --jobs 1"] = [*compiled_decode, "--jobs", "1"]
            for count in jobs:
                commands[f"  compiled, --jobs {count}"] = [*compiled_decode, "--jobs", str(count)]
        if have_tshark:
            commands["tshark -Y websocket"] = [
                "tshark", "-r", str(capture), "-Y", "websocket", "-T", "fields",
                "-e", "websocket.payload",
            ]  # fmt: skip
        figures = median_runs(commands, args.runs)
        size_mb = capture.stat().st_size / 1e6
        packets = frames(capture)
        baseline = figures["tshark -Y websocket"][0] if have_tshark else 0.0
        print(f"\n{label}: {capture} ({size_mb:.1f} MB, {packets:,} packets), median of", args.runs)
        titles = ("s", "packets/s", "MB/s", "CPU s", "RSS MB", "vs tshark")
        widths = (6, 10, 6, 6, 7, 9)
        heads = " ".join(f"{t:>{w}}" for t, w in zip(titles, widths, strict=True))
        print(f"  {'what':32} {heads}")
        for name, (seconds, rss, cpu) in figures.items():
            ratio = f"{baseline / seconds:.2f}x" if baseline else "-"
            print(
                f"  {name:32} {seconds:6.2f} {packets / seconds:10,.0f} "
                f"{size_mb / seconds:6.1f} {cpu:6.2f} {rss / 1024:7.0f} {ratio:>9}"
            )
        print(f"  load average at the end: {os.getloadavg()[0]:.2f}")
    print("\ntargets (issue 16): >= 2x tshark on the large capture, >= 1.5x on the medium one")


if __name__ == "__main__":
    main()
