"""The proxy's child process: records cross the channel unchanged, and the child never
outlives ioproto."""

from __future__ import annotations

import os
import pickle
import signal
import time
from pathlib import Path

import pytest
from ioproto_proxy.channel import rebuild
from ioproto_proxy.chunks import make_chunk, request_info
from ioproto_proxy.tap import Tap
from livehelp import Server
from test_proxy_cli import start

from ioproto.model import ChunkKind


def test_rebuilt_records_equal_the_in_process_ones() -> None:
    from ioproto_proxy.channel import ChannelTap

    info = request_info(
        method="GET",
        target="/socket.io/?EIO=4&transport=websocket&sid=abc",
        path="/socket.io/",
        query=(("EIO", "4"), ("transport", "websocket"), ("sid", "abc")),
        headers=[("Host", "x"), ("Upgrade", "websocket")],
        ts=1.0,
    )
    tap = Tap()
    sent: list[object] = []

    class Counter:
        value = 0

    channel = ChannelTap(None, None, 10, Counter(), Counter())  # type: ignore[arg-type]
    channel._add = sent.append  # type: ignore[method-assign]  # keep the tuples, send nothing
    for target in (tap, channel):
        target.put_chunk(2.0, "a-b", "c2s", ChunkKind.WS_TEXT, b'42["x"]', info)
        target.put_chunk(3.0, "a-b", "s2c", ChunkKind.WS_BINARY, b"\x01", info)
        target.put_error(4.0, "a-b", info, "proxy.upstream.unreachable", "nope")
    expected = []
    while (record := tap.get_nowait()) is not None:
        expected.append(record)
    assert list(rebuild(pickle.loads(pickle.dumps(sent)))) == expected
    assert expected[0] == make_chunk(
        ts=2.0,
        connection="a-b",
        direction="c2s",
        kind=ChunkKind.WS_TEXT,
        data=b'42["x"]',
        http=info,
        seq=1,
    )


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


@pytest.mark.node
def test_child_dies_with_the_parent(node_server: Server) -> None:
    proc, _ = start(["--upstream", node_server.url, "--sink", "jsonl", "-o", os.devnull])
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
