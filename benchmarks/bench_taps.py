"""Overhead of the in-process taps: the same load on a server without and with its tap, one run.

    python benchmarks/bench_taps.py [--clients 100] [--seconds 10] [--rounds 2] [--json]

Servers: the Node socket.io 4.8.1 peer (tests/live/peers/sio_server.js, tapped with taps/node)
and the python-socketio peer (tests/live/peers/py_server.py on aiohttp, tapped with
``ioproto_tap.instrument``). Load: tests/live/peers/load_client.js, N socket.io-client
connections over WebSocket, each looping emitWithAck('echo') + a fire-and-forget 'count'
(``flood``: no pause, gives messages/s and the ack round trip's p50/p99 under full load).

Each server runs three ways, in alternating order over ``--rounds``:

* ``off``: no tap;
* ``tap``: the tap, sending to a collector that only reads (a socket reader that discards
  the stream: the tap's own cost, with the collector keeping up);
* ``tap+collect``: the tap, sending to ``ioproto collect --sink stats`` decoding everything
  on the same 2 cores (the whole cost when the collector shares the machine).

For the tap runs the collector's count of packet records is compared with what the load
implies, so dropped records show. Messages/s counts acked echoes plus 'count' events.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "tests" / "live" / "peers"
sys.path.insert(0, str(ROOT / "tests"))

from clirun import IOPROTO  # noqa: E402


class Discarder:
    """A collector stand-in that reads and discards, counting packet records."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.packets = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._read, args=(sock,), daemon=True).start()

    def _read(self, sock: socket.socket) -> None:
        while data := sock.recv(1 << 20):
            self.packets += data.count(b'{"t":"p"')

    def close(self) -> None:
        self.listener.close()


def start(argv: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        argv, cwd=PEERS, stdout=subprocess.PIPE, text=True, env={**os.environ, **env}
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}"


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def load(url: str, clients: int, seconds: float) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "load_client.js", url, str(clients), str(seconds), "flood"],
        cwd=PEERS,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    line = [item for item in done.stdout.splitlines() if item.startswith("{")][-1]
    result: dict[str, Any] = json.loads(line)
    return result


def one(server: str, mode: str, clients: int, seconds: float) -> dict[str, Any]:
    argv = ["node", "sio_server.js", "0"]
    if server == "py":
        argv = [sys.executable, "py_server.py", "0"]
    env: dict[str, str] = {}
    discarder = None
    collect = None
    if mode == "tap":
        discarder = Discarder()
        env["IOPROTO_TAP_COLLECTOR"] = f"127.0.0.1:{discarder.port}"
    elif mode == "tap+collect":
        collect = subprocess.Popen(
            [
                *IOPROTO,
                "collect",
                "--listen",
                "127.0.0.1:0",
                "--sink",
                "stats",
                "--sink-option",
                "format=json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert collect.stderr is not None
        address = re.search(r"on (127\.0\.0\.1:\d+)", collect.stderr.readline())
        assert address, "collect did not start"
        env["IOPROTO_TAP_COLLECTOR"] = address.group(1)
    proc, url = start(argv, env)
    try:
        result = load(url, clients, seconds)
    finally:
        stop(proc)
    out = {
        "server": server,
        "mode": mode,
        "messages_per_s": round((result["acked"] + result["counted"]) / seconds, 1),
        "p50_ms": result["p50_ms"],
        "p99_ms": result["p99_ms"],
        "lost": result["lost"],
    }
    # per echo round: EVENT + ACK + 'count' EVENT, each one Engine.IO message
    expected = 3 * result["acked"]
    if discarder is not None:
        time.sleep(1.0)
        out["tap_records_vs_messages"] = round(discarder.packets / max(1, expected), 3)
        discarder.close()
    if collect is not None:
        time.sleep(1.0)
        collect.terminate()
        stdout, _ = collect.communicate(timeout=120)
        try:
            figures = json.loads(stdout)
            events = sum(e["count"] for e in figures.get("events", {}).get("by_count", []))
            out["collected_events_vs_sent"] = round(events / max(1, 2 * result["acked"]), 3)
        except (ValueError, IndexError, KeyError, TypeError):
            out["collected_events_vs_sent"] = None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--servers", default="node,py")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    modes = ["off", "tap", "tap+collect"]
    for index in range(args.rounds):
        order = modes if index % 2 == 0 else list(reversed(modes))
        for server in args.servers.split(","):
            for mode in order:
                run = one(server, mode, args.clients, args.seconds)
                runs.append(run)
                if not args.json:
                    print(json.dumps(run), flush=True)
    summary = []
    for server in args.servers.split(","):
        base = statistics.median(
            r["messages_per_s"] for r in runs if r["server"] == server and r["mode"] == "off"
        )
        for mode in modes:
            mine = [r for r in runs if r["server"] == server and r["mode"] == mode]
            rate = statistics.median(r["messages_per_s"] for r in mine)
            summary.append(
                {
                    "server": server,
                    "mode": mode,
                    "messages_per_s": rate,
                    "vs_off": round(rate / base, 3) if base else None,
                    "p50_ms": statistics.median(r["p50_ms"] for r in mine),
                    "p99_ms": statistics.median(r["p99_ms"] for r in mine),
                }
            )
    if args.json:
        print(json.dumps({"runs": runs, "summary": summary}))
    else:
        print("summary (medians):")
        for row in summary:
            print(json.dumps(row))


if __name__ == "__main__":
    main()
