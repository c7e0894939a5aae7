"""Regenerate the real-traffic fixtures: `python tests/peers/capture.py [scenario...]`.

For each scenario this starts `tcpdump -i lo` on the scenario's fixed port, runs the real peers
(Node socket.io 4.8.1 / 2.5.1 and python-socketio 5.x, all on 127.0.0.1), stops tcpdump with
SIGINT once they are done, and writes `<out>/<scenario>.pcap` plus `<out>/<scenario>.log.jsonl`
(the application-level log, schema in tests/peers/README.md). Without arguments every scenario
of `SCENARIOS` runs. Exit status is 0 only if every requested scenario succeeded.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PEERS = Path(__file__).resolve().parent
REPO = PEERS.parent.parent
DATA = REPO / "tests" / "data"
NODE_MODULES = REPO / "tests" / "node" / "node_modules"


@dataclass(frozen=True)
class Proc:
    """One peer process. `role`: "server" runs in the background until the others are done
    (it must print READY on stdout once listening), "main" runs to completion."""

    argv: tuple[str, ...]
    role: str = "main"
    ready: bool = False  # a "main" peer that prints READY before the next peer may start


@dataclass(frozen=True)
class Scenario:
    """A scenario: the TCP port it uses and its peer processes."""

    port: int
    procs: tuple[Proc, ...] = field(default_factory=tuple)
    description: str = ""


def node(scenario: str, *extra: str, ready: bool = False) -> Proc:
    """A Node scenario module run by tests/peers/node_peer.js ({port}/{log} filled in later)."""
    argv = ("node", str(PEERS / "node_peer.js"), scenario, "{port}", "{log}", *extra)
    return Proc(argv, ready=ready)


def python(script: str, *extra: str, role: str = "main") -> Proc:
    """A Python peer script in tests/peers, called as `script --port P --log FILE ...`."""
    return Proc(
        (sys.executable, str(PEERS / script), "--port", "{port}", "--log", "{log}", *extra),
        role=role,
    )


SCENARIOS: dict[str, Scenario] = {
    "ws_only": Scenario(47001, (node("ws_only"),), "v4 websocket-only, acks both ways, /admin"),
    "polling_only": Scenario(47002, (node("polling_only"),), "v4 polling-only, batches, pings"),
    "upgrade": Scenario(47003, (node("upgrade"),), "v4 polling then upgrade to websocket"),
    "binary": Scenario(47004, (node("binary"),), "v4 binary events/acks, websocket and polling"),
    "namespaces_acks": Scenario(47005, (node("namespaces_acks"),), "v4 namespaces and acks"),
    "deflate": Scenario(47006, (node("deflate"),), "v4 permessage-deflate and gzip polling"),
    "rejected": Scenario(47007, (node("rejected"),), "v4 CONNECT_ERROR and HTTP 400 errors"),
    "v2_ws": Scenario(47008, (node("v2_ws"),), "socket.io 2.5 (EIO3/SIO4) over websocket"),
    "v2_polling": Scenario(47009, (node("v2_polling"),), "socket.io 2.5 (EIO3/SIO4) polling"),
    "python_server": Scenario(
        47010,
        (python("python_server.py", role="server"), node("python_server_client")),
        "python-socketio server, socket.io-client 4 clients",
    ),
    "clients_mixed": Scenario(
        47011,
        (node("clients_mixed", ready=True), python("python_client.py")),
        "many clients/User-Agents, slow ack, dead clients",
    ),
    "msgpack_ws": Scenario(47012, (node("msgpack_ws"),), "v4 socket.io-msgpack-parser, websocket"),
    "msgpack_polling": Scenario(
        47013, (node("msgpack_polling"),), "v4 socket.io-msgpack-parser, polling"
    ),
    "msgpack_default_ws": Scenario(
        47014, (node("msgpack_default_ws"),), "the msgpack exchange with the default parser"
    ),
    "game": Scenario(47015, (node("game"),), "binary app protocol (example_game plugin)"),
    "injection": Scenario(
        47016, (node("injection"),), "HTML, script, terminal escapes and bidi in wire text"
    ),
    "keepalive_shared": Scenario(
        47017, (node("keepalive_shared"),), "two sessions polling over one keep-alive connection"
    ),
    "polling_gone": Scenario(
        47018,
        (node("polling_gone", f"python={sys.executable}"),),
        "polling clients killed (SIGKILL) or aborting while their poll waits",
    ),
    "polling_silent": Scenario(
        47019,
        (node("polling_silent", f"python={sys.executable}"),),
        "polling clients frozen (SIGSTOP): their server times them out, nothing on the wire",
    ),
}

# Scenarios not run by default (they write elsewhere, see examples/make_chat.py).
EXTRA_SCENARIOS: dict[str, Scenario] = {
    "chat": Scenario(47020, (node("chat"),), "chat-like sample session for examples/"),
}


def ensure_tcpdump() -> str:
    """Return the tcpdump path, installing the Debian package if it is missing."""
    path = shutil.which("tcpdump")
    if path is None:
        subprocess.run(["apt-get", "install", "-y", "tcpdump"], check=True)
        path = shutil.which("tcpdump")
    if path is None:
        raise RuntimeError("tcpdump is not available")
    return path


class Tcpdump:
    """tcpdump on lo for one port; `stop()` flushes (SIGINT) and returns its final stderr."""

    def __init__(self, out: Path, port: int, buffer_kib: int = 32768) -> None:
        self.out = out
        self.stderr_lines: list[str] = []
        self._listening = threading.Event()
        argv = [ensure_tcpdump(), "-i", "lo", "-w", str(out), "-U", "--immediate-mode", "-s", "0"]
        argv += ["-B", str(buffer_kib), "-n"]
        if os.geteuid() == 0:
            argv += ["-Z", "root"]  # keep the files owned by us, not by the tcpdump user
        self.proc = subprocess.Popen(
            [*argv, f"tcp port {port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._listening.wait(10):
            self.proc.kill()
            raise RuntimeError("tcpdump did not start: " + "".join(self.stderr_lines))
        time.sleep(0.3)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            if "listening on" in line:
                self._listening.set()

    def stop(self) -> str:
        # tcpdump drops what it has not processed yet when interrupted: wait until the file
        # stops growing (with -U every processed packet is written at once)
        time.sleep(0.3)
        size, stable_since = -1, time.monotonic()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now_size = self.out.stat().st_size if self.out.exists() else 0
            if now_size != size:
                size, stable_since = now_size, time.monotonic()
            elif time.monotonic() - stable_since > 0.4:
                break
            time.sleep(0.1)
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(10)
        self._reader.join(5)
        return "".join(self.stderr_lines)


def merge_logs(parts: Sequence[Path], out: Path) -> int:
    """Merge per-process JSON-lines logs by time (stable); return the number of records."""
    records: list[dict[str, object]] = []
    for part in parts:
        if part.exists():
            text = part.read_text(encoding="utf-8")
            records.extend(json.loads(line) for line in text.splitlines() if line.strip())
    records.sort(key=lambda r: float(r["t"]))  # type: ignore[arg-type]
    with out.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    return len(records)


def wait_ready(proc: subprocess.Popen[str], timeout: float) -> None:
    """Wait for a background peer to print READY on stdout."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server exited early (rc={proc.poll()})")
        if line.strip() == "READY":
            return
    raise RuntimeError("server not ready in time")


def run_scenario(name: str, scenario: Scenario, out_dir: Path, timeout: float = 30.0) -> bool:
    """Capture one scenario into out_dir; return True on success."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pcap = out_dir / f"{name}.pcap"
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    ok = True
    with tempfile.TemporaryDirectory(prefix=f"ioproto-{name}-") as tmp:
        parts: list[Path] = []
        dump = Tcpdump(pcap, scenario.port)
        servers: list[subprocess.Popen[str]] = []
        mains: list[subprocess.Popen[str]] = []
        try:
            for i, spec in enumerate(scenario.procs):
                log = Path(tmp) / f"part{i}.jsonl"
                parts.append(log)
                argv = [a.format(port=scenario.port, log=log) for a in spec.argv]
                if spec.role == "server":
                    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
                    servers.append(p)
                    wait_ready(p, 10)
                elif spec.ready:
                    p = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
                    mains.append(p)
                    wait_ready(p, 10)
                else:
                    mains.append(subprocess.Popen(argv, env=env, text=True))
            for p in mains:
                rc = p.wait(timeout)
                if rc != 0:
                    print(f"{name}: peer {p.args!r} exited {rc}", file=sys.stderr)
                    ok = False
        finally:
            for p in mains:
                if p.poll() is None:
                    p.kill()
                    ok = False
            for p in servers:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
            stderr = dump.stop()
        dropped = re.search(r"(\d+) packets dropped by kernel", stderr)
        if dropped is None or int(dropped.group(1)) != 0:
            print(f"{name}: tcpdump dropped packets: {stderr}", file=sys.stderr)
            ok = False
        count = merge_logs(parts, out_dir / f"{name}.log.jsonl")
    size = pcap.stat().st_size
    status = "ok" if ok else "FAILED"
    print(f"{name}: {status}, {pcap} {size} bytes, {count} log records")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    parser.add_argument("--out", type=Path, default=DATA, help="output folder")
    parser.add_argument("--list", action="store_true", help="list scenarios and exit")
    args = parser.parse_args(argv)
    known = {**SCENARIOS, **EXTRA_SCENARIOS}
    if args.list:
        for name, sc in known.items():
            print(f"{name:16} port {sc.port}  {sc.description}")
        return 0
    names = args.scenarios or list(SCENARIOS)
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    results = {n: run_scenario(n, known[n], args.out) for n in names}
    failed = [n for n, good in results.items() if not good]
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
