"""Same truth as a capture: a real headless Chromium runs the test page against a real
Socket.IO server (Node socket.io 4.8.1, socket.io 2.5.1, python-socketio) while tcpdump
captures the server's port; the Engine.IO and Socket.IO packets ioproto derives from the
``cdp`` source equal those it derives from the capture.

The page (tests/browser/peers/page/scenario.js) does polling then an upgrade to WebSocket,
acks both ways, a binary event with a binary ack, the /admin namespace with auth and a
refused one, a polling-only session with a binary event (XHR2 binary bodies with 2.x,
base64 with 4.x) and a reconnection.

Equality as in tests/taps/test_tap_vs_capture.py: per session (Engine.IO sid) and
direction, the sequence of packets in order, each without time, connection or parent:
Engine.IO ``(type, data)``, Socket.IO ``(type, nsp, id, event, args, attachments)``; and
the same sessions. What differs by nature is left out: times (the browser stamps when its
network stack or renderer handled a message, the capture when it crossed loopback),
connection names (``cdp:<tab>/<request>-host:port`` against TCP endpoints), WebSocket
control frames (CDP reports messages, not close/ping frames), HTTP framing, the order
*between* the two directions, and between the transports of one session (during an upgrade
a poll and the WebSocket carry packets at once, which the browser and the wire may order
differently: a `noop` closing the poll against the probe's `pong`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browserhelp import Capture, chromium, start_server, wait_title
from ioproto_pcap.source import PcapSource
from ioproto_socketio.records import SocketIOPacket
from taphelp import decode, packets_by_session
from test_proxy_vs_capture import Tcpdump
from test_tap_vs_capture import compare

from ioproto.components import SinkContext, SourceContext
from ioproto.model import ErrorRecord, Record
from ioproto.pipeline import Pipeline

pytestmark = [
    pytest.mark.browser,
    pytest.mark.capture,
    pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing"),
]

#: Records of the page's own life, not errors of the traffic: the tab closing at the end.
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXPECTED_RULES = {"cdp.target.closed", "cdp.connection.closed", "cdp.connection.lost"}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param("node4", marks=pytest.mark.node),
        pytest.param("node2", marks=pytest.mark.node),
        pytest.param("py", marks=pytest.mark.node),  # the page's client bundle is from npm
    ],
)
def test_the_browser_sees_what_a_capture_sees(tmp_path: Path, kind: str) -> None:
    server = start_server(kind)
    pcap = tmp_path / "server.pcap"
    try:
        tcpdump = Tcpdump(pcap, server.port)
        try:
            with chromium(tmp_path) as (context, endpoint):
                capture = Capture(endpoint)
                capture.wait_ready()
                page = context.new_page()
                page.goto(server.url + "/")
                title = wait_title(page)
                page.wait_for_timeout(300)  # the events of the last frames
                page.close()
            records = capture.finish()
        finally:
            tcpdump_stats = tcpdump.stop()
    finally:
        server.stop()
    dropped = re.search(r"(\d+) packets? dropped by kernel", tcpdump_stats)
    assert dropped and dropped.group(1) == "0", f"the capture is incomplete: {tcpdump_stats}"
    for done in ("binary:250,3,2,1", "polling-binary:7,8,9", "reconnected", "answer:42"):
        assert done in title, title

    captured = PcapSource().open(str(pcap), SourceContext(options={"port": [server.port]}))
    from_browser, from_capture = decode(records), decode(captured)
    errors = [r for r in from_browser if isinstance(r, ErrorRecord)]
    unexpected = [f"{r.rule}: {r.reason}" for r in errors if r.rule not in EXPECTED_RULES]
    assert not unexpected, unexpected[:5]
    for layer in ("engineio", "socketio"):
        ours = packets_by_session(from_browser, layer, by_transport=True)
        theirs = packets_by_session(from_capture, layer, by_transport=True)
        problems = compare(ours, theirs)
        assert not problems, f"{layer}:\n" + "\n".join(problems)
    sessions = {sid for sid, _ in packets_by_session(from_browser, "engineio")}
    assert len(sessions) >= 4  # main, refused admin, polling-only, the reconnection
    check_latencies(from_browser, from_capture)
    raw_capture = PcapSource().open(str(pcap), SourceContext(options={"port": [server.port]}))
    compare_stats(records, list(raw_capture), tmp_path)


def ack_latencies(records: list[Record]) -> dict[tuple[object, ...], tuple[str, float]]:
    """``{(sid, nsp, id, direction of the event): latency}`` of every paired ACK."""
    found: dict[tuple[object, ...], tuple[str, float]] = {}
    for r in records:
        rtt = r.tag("latency.ack")
        if isinstance(r, SocketIOPacket) and r.type == "ACK" and rtt is not None:
            event_direction = "c2s" if r.direction == "s2c" else "s2c"
            found[(r.sid, r.nsp, r.id, event_direction)] = (str(r.event), float(rtt))
    return found


def check_latencies(browser: list[Record], capture: list[Record]) -> None:
    """The browser's view next to the server side's, ack by ack: for an event the page
    emitted the browser waited at least as long as the server took (its figure adds the
    network and both stacks); for one the server emitted, the other way round."""
    ours, theirs = ack_latencies(browser), ack_latencies(capture)
    assert ours.keys() == theirs.keys() and len(ours) >= 6
    slack = 0.002  # the browser stamps some messages in the renderer, some in the network
    for key, (event, rtt) in ours.items():
        server_side = theirs[key][1]
        if key[3] == "c2s":
            assert rtt >= server_side - slack, (event, rtt, server_side)
        else:
            assert server_side >= rtt - slack, (event, rtt, server_side)


def compare_stats(browser: list[Record], capture: list[Record], tmp_path: Path) -> None:
    """``ioproto stats`` JSON of both sides, side by side with examples/compare_latency.py."""
    files = []
    for name, records in (("browser", browser), ("server", capture)):
        path = tmp_path / f"{name}.json"
        with path.open("w") as stream:
            context = SinkContext(stream=stream, options={"format": "json"})
            Pipeline.build(proto="socketio", sinks=[("stats", context)]).run(records)
        files.append(str(path))
    table = subprocess.run(
        [sys.executable, str(EXAMPLES / "compare_latency.py"), *files],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ack / echo" in table and "ack / question" in table, table
