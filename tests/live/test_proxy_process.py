"""The proxy's child process never outlives ioproto, and one that cannot start is said to
be what failed (exit status 1), not the address."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from livehelp import ProxyCommand, Server


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.node
def test_child_dies_with_the_parent(node_server: Server, proxy_command: ProxyCommand) -> None:
    argv = ["--upstream", node_server.url, "--sink", "jsonl", "-o", os.devnull]
    proc, _ = proxy_command(argv)
    children = [
        int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    ]
    assert children
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in children)


#: ``ioproto`` whose spawned processes run the program given first (as a broken install, a
#: missing interpreter or a process killed at birth would have it).
_WITH_EXECUTABLE = (
    "import multiprocessing, sys; multiprocessing.set_executable(sys.argv.pop(1)); "
    "from ioproto.cli import main; sys.argv[0] = 'ioproto'; main()"
)


def _proxy_with_child(executable: str, port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(sys.executable, "-c", _WITH_EXECUTABLE, executable, "proxy"),
            *("--listen", f"127.0.0.1:{port}", "--upstream", "3000", "--sink", "text"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(
    ("program", "said"),
    [
        ("/nonexistent-ioproto-test/python", "could not be started: cannot run "
         "'/nonexistent-ioproto-test/python' (no such file)"),
        ("/bin/false", "ended before it listened (exit status 1)"),
        ("#!/bin/sh\nkill -9 $$\n", "ended before it listened (killed by SIGKILL)"),
    ],
)  # fmt: skip
def test_a_relay_process_that_cannot_start_is_not_blamed_on_the_address(
    tmp_path: Path, program: str, said: str
) -> None:
    """Exit status 1 (not the user's doing), one line on stderr naming the relay process
    and why, no word of the address; the error record is in the output."""
    if program.startswith("#!"):
        script = tmp_path / "dies.sh"
        script.write_text(program)
        script.chmod(0o755)
        program = str(script)
    port = _free_port()
    done = _proxy_with_child(program, port)
    assert done.returncode == 1, done.stderr
    expected = f"ioproto: proxy:127.0.0.1:{port}: the proxy's relay process {said}"
    assert done.stderr.splitlines() == [expected], done.stderr
    assert "[proxy.process.failed]" in done.stdout and said in done.stdout, done.stdout


def test_a_port_in_use_is_still_the_address_mistake() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _proxy_with_child(sys.executable, port)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"ioproto: error: port {port} on 127.0.0.1 is in use: pick another with --listen HOST:PORT"
    ]


def test_a_relay_that_crashes_before_listening_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """In the child: any other exception is sent as a ``crash`` failure, one line."""
    from ioproto_proxy import process
    from ioproto_proxy.channel import FAILED

    sent: list[tuple[bytes, object]] = []

    class Tap:
        def send(self, kind: bytes, payload: object) -> None:
            sent.append((kind, payload))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("broken install")

    monkeypatch.setattr(process, "Relay", broken)
    config = process.ProxyConfig(host="127.0.0.1", port=0, upstream="3000", buffer=1)
    assert asyncio.run(process._start_relay(config, Tap())) is None  # type: ignore[arg-type]
    assert sent == [(FAILED, ("crash", "RuntimeError: broken install", None))]


@pytest.mark.parametrize(
    ("payload", "raised", "said"),
    [
        (("config", "upstream must be ...", None), ValueError, "upstream must be ..."),
        (("listen", "in use", errno.EADDRINUSE), "ListenError", "in use"),
        (("listen", "no such host", -2), "ListenError", "no such host"),
        (
            ("listen", "[Errno 24] Too many open files", errno.EMFILE),
            "RelayFailed",
            "the proxy's relay process could not listen: Too many open files",
        ),
        (
            ("crash", "RuntimeError: boom", None),
            "RelayFailed",
            "the proxy's relay process failed before it listened: RuntimeError: boom",
        ),
    ],
)
def test_what_the_child_says_failed_decides_whose_fault_it_is(
    payload: tuple[str, str, int | None], raised: object, said: str
) -> None:
    """Only an address refused is the --listen mistake (ListenError, worded by
    ioproto.listening); a bind out of file descriptors or memory is a failure."""
    from ioproto_proxy import process

    error = process._failure(*payload)
    expected = getattr(process, raised) if isinstance(raised, str) else raised
    assert type(error) is expected
    assert str(error).endswith(said), error
