"""Live means live: each event a real client emits shows up as a line of ``ioproto decode
live:lo`` and of ``ioproto proxy`` as it happens, with standard output a pipe.

A real python-socketio server, a real python-socketio client emitting one event every
quarter of a second (``peers/py_ticker.py``), and the command as a user runs it with
``--sink jsonl`` into a pipe that the test reads line by line. The bound (1 s from the
client's emit to the line being read) is generous for a loaded machine; typical delays are
a few milliseconds (benchmarks/bench_live_latency.py measures them).
"""

from __future__ import annotations

import os
import re
import shutil

import pytest
from clirun import IOPROTO
from emitdelay import LineWatcher, emit_delays
from ioproto_live.source import tcpdump_argv
from livehelp import Server

COUNT = 6
INTERVAL = 0.25
BOUND = 1.0


def check(delays: list[float | None]) -> None:
    shown = ", ".join("missing" if d is None else f"{d * 1000:.0f} ms" for d in delays)
    assert all(d is not None and d < BOUND for d in delays), (
        f"emit-to-line delays (bound {BOUND:.0f} s, while the command still runs): {shown}"
    )


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
@pytest.mark.parametrize("mode", ["websocket", "polling"])
def test_live_capture_shows_each_event_as_it_happens(py_server: Server, mode: str) -> None:
    watcher = LineWatcher(
        [*IOPROTO, "decode", "--sink", "jsonl", "live:lo", "--port", str(py_server.port)]
    )
    try:
        line = watcher.stderr_line()
        assert "capturing on lo" in line, line
        delays = emit_delays(watcher, py_server.url, mode, COUNT, INTERVAL)
    finally:
        code, err = watcher.stop()
    check(delays)
    assert code == 0 and "Traceback" not in err, err


@pytest.mark.parametrize("mode", ["websocket", "polling"])
def test_proxy_shows_each_event_as_it_happens(py_server: Server, mode: str) -> None:
    argv = ["proxy", "--listen", "127.0.0.1:0", "--upstream", py_server.url, "--sink", "jsonl"]
    watcher = LineWatcher([*IOPROTO, *argv])
    try:
        line = watcher.stderr_line()
        match = re.search(r"listening on (http://[\d.]+:\d+)", line)
        assert match, line
        delays = emit_delays(watcher, match.group(1), mode, COUNT, INTERVAL)
    finally:
        code, err = watcher.stop()
    check(delays)
    assert code == 0 and "Traceback" not in err, err


def test_tcpdump_gets_a_kernel_buffer_for_immediate_mode() -> None:
    # In immediate mode each packet takes an MTU-sized slot (64 KiB on loopback): tcpdump's
    # default 2 MiB held about 32 packets, and a busy machine lost some (gaps in the demo).
    argv = tcpdump_argv("tcpdump", "lo", "tcp", None)
    assert argv[argv.index("-B") + 1] == "32768"
    argv = tcpdump_argv("tcpdump", "lo", "tcp", None, buffer=1 << 20)
    assert argv[argv.index("-B") + 1] == "1024"
