"""How long an emitted event takes to show up as a line of a running ``ioproto`` command.

Shared by the live-latency tests and ``benchmarks/bench_live_latency.py``; imports nothing
from pytest. :class:`LineWatcher` runs a command with its standard output a *pipe* (as
``ioproto ... | jq`` would) and stamps each line with the time it was read;
:func:`emit_delays` runs the ``py_ticker.py`` peer (a real python-socketio client emitting
``echo({"tick": i, "sent": t})`` at a human pace) and pairs each emit with the JSON line of
its Socket.IO EVENT.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

PEERS = Path(__file__).resolve().parent / "peers"


class LineWatcher:
    """``argv`` running with stdout and stderr piped; ``lines`` holds ``(time read, line)``
    for every stdout line, appended as each arrives. ``PYTHONUNBUFFERED`` is removed from
    the command's environment: a user's shell does not set it, and it would hide output
    that waits in a buffer."""

    def __init__(self, argv: Sequence[str]) -> None:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
        self.proc = subprocess.Popen(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=env,
        )
        self.lines: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.time(), line))

    def stderr_line(self) -> str:
        """The next line the command writes on stderr (its start-up message)."""
        assert self.proc.stderr is not None
        return self.proc.stderr.readline()

    def stop(self, timeout: float = 20) -> tuple[int, str]:
        """Interrupt the command (Ctrl-C), wait for it; its exit status and the rest of
        its stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(2)
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self._thread.join(5)
        return self.proc.returncode, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def tick_of(line: str) -> int | None:
    """The tick number of a JSON line holding the ticker's EVENT, else ``None``."""
    if '"tick"' not in line:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    args = record.get("args") if record.get("type") == "EVENT" else None
    if record.get("event") != "echo" or not args or not isinstance(args[0], dict):
        return None
    tick = args[0].get("tick")
    return tick if isinstance(tick, int) else None


def emit_delays(
    watcher: LineWatcher, url: str, mode: str, count: int, interval: float, settle: float = 2.0
) -> list[float | None]:
    """Run the ticker against ``url`` (``mode`` ``websocket`` or ``polling``): ``count``
    events ``interval`` seconds apart. Returns, per event, the seconds from its emit to the
    moment ``watcher`` read its line, or ``None`` if it had not shown up ``settle``
    seconds after the ticker ended (while the watched command still runs)."""
    ticker = subprocess.run(
        [sys.executable, str(PEERS / "py_ticker.py"), url, mode, str(count), str(interval)],
        capture_output=True,
        text=True,
        timeout=30 + count * interval,
    )
    assert ticker.returncode == 0, ticker.stderr[-2000:]
    sent: dict[int, float] = {}
    for line in ticker.stdout.splitlines():
        if line.startswith("SENT "):
            _, tick, stamp = line.split()
            sent[int(tick)] = float(stamp)
    assert len(sent) == count, ticker.stdout
    deadline = time.time() + settle
    seen: dict[int, float] = {}
    while time.time() < deadline and len(seen) < count:
        time.sleep(0.05)
        for read_at, line in list(watcher.lines):
            tick = tick_of(line)
            if tick is not None and tick in sent:
                seen.setdefault(tick, read_at)
    return [seen[tick] - sent[tick] if tick in seen else None for tick in range(count)]
