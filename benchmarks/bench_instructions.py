"""Instructions, not seconds: ioproto next to tshark on one capture, counted by valgrind.

    python benchmarks/bench_instructions.py [--compiled] [--jobs 1,2] [FILE]

On a shared machine wall and CPU seconds move by a third from one minute to the next (the
same command measured 0.71-1.21 s in one quarter hour of 2026-12-06), which hides any change
smaller than that. The instructions a command executes do not move: valgrind's cachegrind
(``--cache-sim=no``) counts them for every process of the command (``--trace-children``),
the same count for the same program, input and environment whatever else the machine does.
This prints, for FILE (default benchmarks/data/medium.pcap):

* ``ioproto decode --proto socketio --sink jsonl FILE`` with each ``--jobs`` asked for
  (default 1: the work of decoding, in one process; 2 adds the reader process and what
  sending records between the two costs), and with ``--compiled`` the compiled build
  (setup.py) too;
* ``tshark -r FILE -Y websocket -T fields -e websocket.payload``, the reference of
  bench_targets.py;
* a one-connection decode (tests/data/upgrade.pcap): what start-up costs;

each as instructions in all (millions), per packet of FILE, the processes and the
instructions of the largest (with processes running side by side, the one the wall time
waits for), and tshark's count divided by the total (above 1: fewer instructions than
tshark). Instructions are not time: an instruction of the interpreter's loop and one of
tshark's C do not take the same time, so the ratio is not bench_targets.py's, only a
measure that can be compared from one change, or one machine, to the next. Valgrind runs a
program about 50 times slower: about a minute per command on the 7.6 MB capture.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE))
from bench_targets import ensure_medium, frames, prepare_environment  # noqa: E402
from compiled import DEFAULT_TREE, add_compiled_option, build_tree  # noqa: E402

ONE_CONNECTION = ROOT / "tests" / "data" / "upgrade.pcap"
COUNT = re.compile(rb"==(\d+)== I\s+refs:\s+([\d,]+)")


def instructions(command: list[str], env: dict[str, str]) -> list[int]:
    """The instructions each process of ``command`` executed, most first."""
    run = subprocess.run(
        [
            "valgrind", "--tool=cachegrind", "--cache-sim=no", "--trace-children=yes",
            "--cachegrind-out-file=/dev/null", *command,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
        check=False,
    )  # fmt: skip
    counts = {pid: int(value.replace(b",", b"")) for pid, value in COUNT.findall(run.stderr)}
    if run.returncode != 0 or not counts:
        tail = run.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise SystemExit(f"{' '.join(command)} failed under valgrind: {' | '.join(tail)}")
    return sorted(counts.values(), reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", nargs="?", type=Path, default=DATA / "medium.pcap")
    parser.add_argument("--jobs", default="1", help="comma-separated --jobs values (default 1)")
    add_compiled_option(parser)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found: apt-get install valgrind")
    capture = args.capture
    if capture == DATA / "medium.pcap":
        ensure_medium(capture)
    if not capture.is_file():
        raise SystemExit(f"{capture}: no such file")
    prepare_environment()
    # Each build decodes the capture once before it is counted, so that every count is of a
    # user's second run: a first run identifies the capture's User-Agents (712 M
    # instructions more on the 7.6 MB capture) and, in a compiled tree just built, compiles
    # its Python modules (270 M).
    python = os.path.realpath(sys.executable)  # the interpreter itself, not a shell shim
    # label: (environment, interpreter); the compiled tree as compiled.python_command runs it
    builds: dict[str, tuple[dict[str, str], list[str]]] = {"": ({}, [python])}
    if args.compiled:
        tree = build_tree(DEFAULT_TREE)
        builds["compiled, "] = ({"PYTHONPATH": str(tree)}, [python, "-P"])
    decode = ["-m", "ioproto", "decode", "--proto", "socketio", "--sink", "jsonl"]
    commands: dict[str, tuple[dict[str, str], list[str]]] = {}
    for label, (env, interpreter) in builds.items():
        for jobs in args.jobs.split(","):
            commands[f"ioproto, {label}--jobs {jobs}"] = (
                env, [*interpreter, *decode, "--jobs", jobs, str(capture)]
            )  # fmt: skip
        commands[f"ioproto, {label}one-connection decode"] = (
            env, [*interpreter, *decode, str(ONE_CONNECTION)]
        )  # fmt: skip
    if shutil.which("tshark"):
        commands["tshark -Y websocket"] = ({}, [
            "tshark", "-r", str(capture), "-Y", "websocket", "-T", "fields",
            "-e", "websocket.payload",
        ])  # fmt: skip
    for env, interpreter in builds.values():
        warm = [*interpreter, "-m", "ioproto", "decode", "--proto", "socketio", str(capture)]
        subprocess.run(warm, stdout=subprocess.DEVNULL, env={**os.environ, **env}, check=True)
    packets = frames(capture)
    size = capture.stat().st_size / 1e6
    print(f"{capture} ({size:.1f} MB, {packets:,} packets): instructions counted by valgrind")
    titles = ("M instr", "per packet", "processes", "M largest", "vs tshark")
    print(
        f"  {'what':42} {titles[0]:>9} {titles[1]:>11} {titles[2]:>9} {titles[3]:>9} {titles[4]:>9}"
    )
    counted = {name: instructions(command, env) for name, (env, command) in commands.items()}
    reference = sum(counted.get("tshark -Y websocket", []))
    for name, each in counted.items():
        total, processes, largest = sum(each), len(each), each[0]
        ratio = f"{reference / total:.2f}x" if reference and "one-connection" not in name else ""
        per_packet = "" if "one-connection" in name else f"{total / packets:,.0f}"
        print(
            f"  {name:42} {total / 1e6:9,.0f} {per_packet:>11} {processes:9} "
            f"{largest / 1e6:9,.0f} {ratio:>9}"
        )


if __name__ == "__main__":
    main()
