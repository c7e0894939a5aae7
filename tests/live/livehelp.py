"""Fixtures for the live-capture tests: real Socket.IO servers (Node and Python) and proxies.

Servers run as subprocesses on 127.0.0.1 with a free port (they print ``READY <port>``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

# Imported up front: on CPython 3.11 a late import of it (pytest's hypothesis plugin does one at
# session end) can hit "AST constructor recursion depth mismatch" after these thread-heavy
# tests (CPython gh-106905).
import hypothesis  # noqa: F401
import pytest
from clirun import start_ioproto

PEERS = Path(__file__).resolve().parent / "peers"
ROOT = PEERS.parent.parent.parent
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"


def pytest_sessionfinish(session: pytest.Session) -> None:
    import threading

    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if left:
        print(f"\nthreads still running: {left}")


class Server:
    """A running peer server; ``url`` is its base URL."""

    def __init__(
        self, argv: list[str], cwd: Path = PEERS, env: dict[str, str] | None = None
    ) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=None if env is None else {**os.environ, **env},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"{argv} did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def node_ok() -> bool:
    return shutil.which("node") is not None and NODE_MODULES.is_dir()


@pytest.fixture(scope="session")
def node_server() -> Iterator[Server]:
    if not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    server = Server(["node", "sio_server.js", "0"])
    yield server
    server.stop()


@pytest.fixture(scope="session")
def py_server() -> Iterator[Server]:
    server = Server([sys.executable, "py_server.py", "0"])
    yield server
    server.stop()


def run_client(
    kind: str, url: str, mode: str, timeout: float = 30, env: dict[str, str] | None = None
) -> dict[str, object]:
    """Run a client scenario (``node`` or ``py``) and return the JSON it printed last;
    ``env`` adds environment variables (e.g. ``IOPROTO_PEER_PARSER``)."""
    import json

    argv = (
        ["node", "sio_client.js", url, mode]
        if kind == "node"
        else [sys.executable, "py_client.py", url, mode]
    )
    env = dict(os.environ, PYTHONWARNINGS="ignore", **(env or {}))
    done = subprocess.run(argv, cwd=PEERS, capture_output=True, text=True, timeout=timeout, env=env)
    lines = [line for line in done.stdout.split("\n") if line.startswith("{")]
    assert done.returncode == 0 and lines, f"{argv}: {done.returncode}\n{done.stderr[-2000:]}"
    result: dict[str, object] = json.loads(lines[-1])
    return result


class Proxy:
    """The proxy's relay in its child process, as the ``proxy`` source runs it, with the
    records it copied decoded by the ``http`` layer and collected by :meth:`drain`.
    ``options`` left over are the ``http`` layer's (``all_http``)."""

    def __init__(
        self,
        upstream: str,
        buffer: int = 64 * 1024 * 1024,
        spool: int = 1 << 30,
        **options: object,
    ) -> None:
        from ioproto_http.decoder import HttpStream
        from ioproto_proxy.process import ProxyConfig, ProxyProcess
        from ioproto_proxy.streams import TapDecoder

        from ioproto.components import DecodeContext

        config = ProxyConfig(
            host="127.0.0.1",
            port=0,
            upstream=upstream,
            buffer=buffer,
            ws_compression=bool(options.pop("ws_compression", True)),
            upstream_ca=options.pop("upstream_ca", None),  # type: ignore[arg-type]
            head_timeout=float(options.pop("head_timeout", 30.0)),  # type: ignore[arg-type]
        )
        self.process = ProxyProcess(config, TapDecoder(), spool=spool)
        self.http = HttpStream(DecodeContext(options=options))
        host, port = self.process.start()
        self.url = f"http://{host}:{port}"

    def drain(self, quiet: float = 0.3) -> list[object]:
        """Every record decoded until nothing more arrives for ``quiet`` seconds."""
        from ioproto.model import ErrorRecord

        records: list[object] = []
        while True:
            batch = list(self.process.records(timeout=quiet))
            if not batch:
                return records
            for record in batch:
                if isinstance(record, ErrorRecord):
                    records.append(record)
                else:
                    records.extend(self.http.feed(record))

    def close(self) -> None:
        self.process.close()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_proxy_command(argv: list[str]) -> tuple[subprocess.Popen[str], str]:
    """``ioproto proxy --listen 127.0.0.1:0 ARGV...`` as a user runs it; returns the process
    and the URL it listens on."""
    import re

    proc = start_ioproto(
        "proxy", "--listen", "127.0.0.1:0", *argv,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    seen = ""
    for _ in range(5):  # sinks may say where they serve first (prometheus)
        line = proc.stderr.readline()
        seen += line
        match = re.search(r"listening on (http://[\d.]+:\d+)", line)
        if match or not line:
            break
    assert match, seen + (proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(1)


ProxyCommand = Callable[[list[str]], tuple[subprocess.Popen[str], str]]


@pytest.fixture
def proxy_command() -> Iterator[ProxyCommand]:
    """:func:`start_proxy_command`, with every proxy it started killed at teardown (a test
    that fails before stopping its proxy must not leave it running)."""
    started: list[subprocess.Popen[str]] = []

    def start(argv: list[str]) -> tuple[subprocess.Popen[str], str]:
        proc, url = start_proxy_command(argv)
        started.append(proc)
        return proc, url

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
