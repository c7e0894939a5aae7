"""Same truth as a capture: a real server with its tap (Node socket.io 4 with ioproto-tap, and
python-socketio with ioproto_tap) and a real client, while tcpdump captures the server's
port on loopback. The Engine.IO and Socket.IO packets ioproto derives from the tap equal
those it derives from the capture.

Equality: per session (Engine.IO sid) and direction, the sequence of packets in order, each
without time, connection or parent: Engine.IO ``(type, data)``, Socket.IO ``(type, nsp, id,
event, args, attachments)``; and the same set of sessions. What differs by nature is left
out: times (the tap stamps when the server handed a packet over, the capture when it
crossed loopback), connection names of polling requests, HTTP status and headers, how
packets were batched in polling payloads, and the order *between* the two directions
(each side interleaves them at slightly different moments). Sessions the capture shows only
as a refused handshake (an HTTP error, no Engine.IO session) are not compared.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from ioproto_pcap.source import PcapSource
from livehelp import node_ok, run_client
from taphelp import CollectorThread, decode, packets_by_session, tapped_server
from test_proxy_vs_capture import Tcpdump

from ioproto.components import SourceContext
from ioproto.model import ErrorRecord

pytestmark = [
    pytest.mark.capture,
    pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing"),
]

CASES = [
    pytest.param("node", "node", "default", "", id="node-default", marks=pytest.mark.node),
    pytest.param("node", "node", "polling", "", id="node-polling", marks=pytest.mark.node),
    pytest.param(
        "node", "node", "websocket", "msgpack", id="node-ws-msgpack", marks=pytest.mark.node
    ),
    pytest.param("node", "node", "default", "msgpack", id="node-msgpack", marks=pytest.mark.node),
    pytest.param("py", "py", "default", "", id="py-default"),
    pytest.param("py", "py", "websocket", "msgpack", id="py-ws-msgpack"),
    pytest.param("py", "node", "polling", "", id="py-polling", marks=pytest.mark.node),
]


def compare(tap: dict, capture: dict) -> list[str]:  # type: ignore[type-arg]
    problems = []
    for key in sorted(tap.keys() | capture.keys(), key=str):
        ours, theirs = tap.get(key, []), capture.get(key, [])
        if ours != theirs:
            index = next(
                (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
                min(len(ours), len(theirs)),
            )
            problems.append(
                f"{key}: {len(ours)} from the tap, {len(theirs)} from the capture; first "
                f"difference at #{index}: tap {str(ours[index : index + 1])[:200]} "
                f"capture {str(theirs[index : index + 1])[:200]}"
            )
    return problems


@pytest.mark.parametrize(("server_kind", "client", "mode", "parser"), CASES)
def test_the_tap_gives_what_a_capture_gives(
    tmp_path: Path, server_kind: str, client: str, mode: str, parser: str
) -> None:
    if (server_kind == "node" or client == "node") and not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    env = {"IOPROTO_PEER_PARSER": parser} if parser else {}
    collector = CollectorThread()
    server = tapped_server(server_kind, collector.spec, **env)
    pcap = tmp_path / "server.pcap"
    try:
        tcpdump = Tcpdump(pcap, server.port)
        try:
            result = run_client(client, server.url, mode, env=env)
        finally:
            tcpdump_stats = tcpdump.stop()
        records = collector.settle()
    finally:
        server.stop()
        collector.stop()
    dropped = re.search(r"(\d+) packets? dropped by kernel", tcpdump_stats)
    assert dropped and dropped.group(1) == "0", f"the capture is incomplete: {tcpdump_stats}"
    assert result["binary"] == [250, 3, 2, 1], result

    captured = list(PcapSource().open(str(pcap), SourceContext(options={"port": [server.port]})))
    from_tap, from_capture = decode(records), decode(captured)
    tap_errors = [r for r in from_tap if isinstance(r, ErrorRecord)]
    assert not tap_errors, tap_errors[:3]
    # A refused namespace or dropped connection is no error; the capture may hold HTTP
    # errors of refused requests, which a tap cannot see (the tap test says so).
    for layer in ("engineio", "socketio"):
        tap_groups = packets_by_session(from_tap, layer)
        capture_groups = packets_by_session(from_capture, layer)
        problems = compare(tap_groups, capture_groups)
        assert not problems, f"{layer}:\n" + "\n".join(problems)
    sessions = {sid for sid, _ in packets_by_session(from_tap, "engineio")}
    assert len(sessions) >= 3  # main, admin, refused admin (and the reconnection)
