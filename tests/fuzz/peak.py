"""Run ``ioproto`` in a fresh interpreter and report its peak memory (resident set size).

Usage (also from tests, through :func:`peak_rss`)::

    python tests/fuzz/peak.py decode BOMB.pcap --sink jsonl:/dev/null

prints the command's usual output, then on stderr a last line ``peak_rss_bytes=N``: the
largest resident set of this process (``VmHWM``) or of any child it waited for (the pcap
worker, ``getrusage``). A fresh process per measurement keeps one bomb's peak from hiding another's.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024


def _peak_bytes() -> int:
    # VmHWM, not getrusage(RUSAGE_SELF): ru_maxrss survives exec, so a child forked from a
    # large test process would report that process's size.
    own = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                own = int(line.split()[1]) * 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux
    return max(own, children)


def peak_rss(
    args: Sequence[str], *, stdin: bytes | None = None, timeout: float = 600
) -> tuple[int, subprocess.CompletedProcess[bytes]]:
    """Run ``ioproto ARGS`` in a child interpreter; its peak RSS in bytes and the result."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    found = re.findall(rb"peak_rss_bytes=(\d+)", result.stderr)
    if not found:
        raise AssertionError(f"no peak reported: {result.stderr[-2000:]!r}")
    return int(found[-1]), result


def main() -> None:
    from ioproto.cli import main as cli_main

    try:
        cli_main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    sys.stdout.flush()
    print(f"peak_rss_bytes={_peak_bytes()}", file=sys.stderr, flush=True)
    os._exit(code if isinstance(code, int) else 1)


if __name__ == "__main__":
    main()
