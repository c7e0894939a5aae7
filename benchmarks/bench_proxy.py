"""Overhead of `ioproto proxy`: the same load directly and through the proxy, in one run.

    python benchmarks/bench_proxy.py [--clients 100] [--seconds 10] [--json]
    python benchmarks/bench_proxy.py --load [--clients 500] [--seconds 60]

A real socket.io 4.8.1 server (tests/live/peers/sio_server.js) and a Node load generator
(tests/live/peers/load_client.js: N socket.io-client connections over WebSocket, each doing
emitWithAck('echo') + a fire-and-forget 'count') run on 127.0.0.1. The proxy runs as a
separate process (`ioproto proxy`, default decoding up to Socket.IO with the classifiers,
JSON-lines sink to a temporary file), as a user would run it; `--decode-priority normal`
runs it with the decoder at normal CPU priority, `idle` at idle priority throughout, instead of
the default `auto` (normal while decoding keeps up, idle while copies pile up).

Default mode measures, directly and through the proxy:
* latency: `paced` rounds (each client every 100 ms), ack round trip p50/p99, and the
  added latency (proxied minus direct);
* throughput: `flood` rounds (no pause), acks per second, and the ratio proxied/direct;
* decoding: how many of the Socket.IO messages that went through the proxy it decoded (the
  rest were dropped because the decoder fell behind), and the tap bytes dropped;
* CPU per 1000 acks of each process in the flood rounds (user + system, from /proc and
  getrusage): the load client, the server, and through the proxy also the relay process and
  the decoding process. On this 2-core machine all of them share two cores, so the proxied
  flood is slower by the relay's and the decoder's CPU as well as by the second hop; with a
  core for each process the busiest one sets the pace, and ``projected ratio`` is
  direct's busiest process over the proxied run's busiest (an estimate for a machine of 4
  or more idle cores, as bench_scaling.py gives for decoding).

`--load` runs only the proxied paced load (default 500 connections for 60 s) and checks that
every connection opened and no message was lost (the server's per-connection count of
'count' events equals what the clients sent). Exit status 1 when that check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "tests" / "live" / "peers"
sys.path.insert(0, str(ROOT / "tests"))

from clirun import IOPROTO  # noqa: E402


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        ["node", "sio_server.js", "0"], cwd=PEERS, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline().split()[1])
    return proc, f"http://127.0.0.1:{port}"


def start_proxy(
    upstream: str, output: str = "/dev/null", priority: str = "auto"
) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            *IOPROTO,
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            upstream,
            "--sink",
            "jsonl",
            "-o",
            output,
            "--decode-priority",
            priority,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"listening on (http://\S+)", line)
    if match is None:
        proc.kill()
        raise RuntimeError(f"proxy did not start: {line}")
    return proc, match.group(1)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux: /proc/PID/task/*/children)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as listed:
                found.extend(int(item) for item in listed.read().split())
        except OSError:
            continue
    return found


def is_helper(pid: int) -> bool:
    """multiprocessing's resource tracker, not the relay."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"resource_tracker" in cmdline.read()
    except OSError:
        return True


def wait_until_idle(pid: int, timeout: float = 120.0) -> None:
    """Until process ``pid`` uses under 5% of a core over half a second."""
    deadline = time.monotonic() + timeout
    before = cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds(pid)
        if now - before < 0.025:
            return
        before = now


class CpuMeter:
    """CPU seconds that named processes (and the load client, a reaped child) spend
    between :meth:`start` and :meth:`stop`."""

    def __init__(self, processes: dict[str, list[int]]) -> None:
        self.processes = processes
        self.before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        now = {"client": usage.ru_utime + usage.ru_stime}
        for name, pids in self.processes.items():
            now[name] = sum(cpu_seconds(pid) for pid in pids)
        return now

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        self.spent = {name: after[name] - self.before[name] for name in after}
        return self.spent


def load(url: str, clients: int, seconds: float, mode: str, pace_ms: int = 100) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "load_client.js", url, str(clients), str(seconds), mode, str(pace_ms)],
        cwd=PEERS,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load client failed: {done.stderr[-1000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        # The proxy decodes what is still buffered before it exits (up to 30 s).
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


def overhead(clients: int, seconds: float, priority: str = "auto") -> dict[str, Any]:
    server, direct_url = start_server()
    records = tempfile.NamedTemporaryFile(suffix=".jsonl")  # noqa: SIM115 (closed below)
    proxy, proxy_url = start_proxy(direct_url, records.name, priority)
    relay = [pid for pid in children(proxy.pid) if not is_helper(pid)]
    meter = CpuMeter({"server": [server.pid], "relay": relay, "decoder": [proxy.pid]})
    try:
        figures: dict[str, Any] = {
            "clients": clients,
            "seconds": seconds,
            "paced_direct": load(direct_url, clients, seconds, "paced"),
            "paced_proxy": load(proxy_url, clients, seconds, "paced"),
        }
        for name, url in (("flood_direct", direct_url), ("flood_proxy", proxy_url)):
            meter.start()
            figures[name] = load(url, clients, seconds, "flood")
            wait_until_idle(proxy.pid)  # the decoder may still be working through copies
            acks = max(1, figures[name]["acked"])
            figures[name]["cpu_ms_per_1000_acks"] = {
                process: 1e6 * spent / acks for process, spent in meter.stop().items()
            }
    finally:
        proxy_err = stop(proxy)
        stop(server)
    dropped = re.search(r"(\d+) bytes in \d+ reads were not decoded", proxy_err)
    figures["tap_dropped"] = int(dropped.group(1)) if dropped else 0
    left = re.search(r"(\d+) bytes still buffered at exit", proxy_err)
    figures["tap_left"] = int(left.group(1)) if left else 0
    pd, pp = figures["paced_direct"], figures["paced_proxy"]
    fd, fp = figures["flood_direct"], figures["flood_proxy"]
    figures["added_p50_ms"] = pp["p50_ms"] - pd["p50_ms"]
    figures["added_p99_ms"] = pp["p99_ms"] - pd["p99_ms"]
    figures["throughput_ratio"] = fp["throughput"] / fd["throughput"]
    busiest_direct = max(fd["cpu_ms_per_1000_acks"][name] for name in ("client", "server"))
    figures["projected_ratio"] = busiest_direct / max(fp["cpu_ms_per_1000_acks"].values())
    figures["lost"] = sum(figures[k]["lost"] for k in ("paced_proxy", "flood_proxy"))
    # Every round is three Socket.IO messages (the 'echo' event, its ack, the 'count'
    # event), and each client ends with 'total' and its ack.
    figures["messages"] = sum(3 * pp_["acked"] + 2 * clients for pp_ in (pp, fp))
    with records:
        figures["decoded"] = count_socketio_messages(records.name)
    return figures


def count_socketio_messages(path: str) -> int:
    """EVENT and ACK records the proxy decoded (a byte test first: 500k lines parse slowly)."""
    count = 0
    with open(path, "rb") as lines:
        for line in lines:
            if b'"layer":"socketio"' in line:
                record = json.loads(line)
                count += record.get("type") in ("EVENT", "ACK")
    return count


def soak(clients: int, seconds: float) -> dict[str, Any]:
    server, direct_url = start_server()
    proxy, proxy_url = start_proxy(direct_url)
    try:
        result = load(proxy_url, clients, seconds, "paced", pace_ms=200)
    finally:
        proxy_err = stop(proxy)
        stop(server)
    result["proxy_exit_clean"] = "Traceback" not in proxy_err
    result["ok"] = (
        result["connected"] == clients and result["lost"] == 0 and result["proxy_exit_clean"]
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--load", action="store_true", help="500 connections for 60 s, no loss")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--decode-priority",
        choices=("auto", "idle", "normal"),
        default="auto",
        help="the proxy's --decode-priority (default auto, as the proxy's default)",
    )
    args = parser.parse_args(argv)
    if args.load:
        result = soak(args.clients or 500, args.seconds or 60)
        print(
            json.dumps(result)
            if args.json
            else (
                f"{result['connected']}/{result['clients']} connections, {result['acked']} acks, "
                f"{result['sent_counts']} events sent, {result['counted']} counted by the server, "
                f"lost {result['lost']}; ack p50 {result['p50_ms']:.2f} ms, "
                f"p99 {result['p99_ms']:.2f} ms -> {'OK' if result['ok'] else 'FAILED'}"
            )
        )
        return 0 if result["ok"] else 1
    figures = overhead(args.clients or 100, args.seconds or 10, args.decode_priority)
    if args.json:
        print(json.dumps(figures))
        return 0
    pd, pp = figures["paced_direct"], figures["paced_proxy"]
    fd, fp = figures["flood_direct"], figures["flood_proxy"]
    print(f"{figures['clients']} concurrent clients, {figures['seconds']:g} s per phase")
    print(f"{'':24}{'direct':>12}{'proxy':>12}{'added/ratio':>14}")
    print(
        f"{'paced ack p50 (ms)':24}{pd['p50_ms']:12.3f}{pp['p50_ms']:12.3f}"
        f"{figures['added_p50_ms']:14.3f}"
    )
    print(
        f"{'paced ack p99 (ms)':24}{pd['p99_ms']:12.3f}{pp['p99_ms']:12.3f}"
        f"{figures['added_p99_ms']:14.3f}"
    )
    print(
        f"{'flood acks/s':24}{fd['throughput']:12.0f}{fp['throughput']:12.0f}"
        f"{figures['throughput_ratio']:13.0%}"
    )
    print(f"projected ratio with a core per process: {figures['projected_ratio']:.0%}")
    print("flood CPU ms per 1000 acks (user + system):")
    for name in ("client", "server", "relay", "decoder"):
        direct = fd["cpu_ms_per_1000_acks"][name]
        proxied = fp["cpu_ms_per_1000_acks"][name]
        shown = f"{direct:12.1f}" if name in ("client", "server") else f"{'-':>12}"
        print(f"  {name:22}{shown}{proxied:12.1f}")
    print(
        f"messages lost through the proxy: {figures['lost']}; decoded "
        f"{figures['decoded']} of {figures['messages']} Socket.IO messages "
        f"({figures['decoded'] / max(1, figures['messages']):.0%}); "
        f"tap bytes dropped: {figures['tap_dropped']}, left at exit: {figures['tap_left']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
