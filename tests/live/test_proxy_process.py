"""The proxy's child process never outlives ioproto."""

from __future__ import annotations

import os
import signal
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
