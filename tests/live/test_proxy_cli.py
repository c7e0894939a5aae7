"""``ioproto proxy`` as a command: clean stop on SIGTERM/SIGINT with sinks flushed, periodic
stats, and a slow pipeline that costs tap records but never proxied traffic."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
from clirun import run_ioproto, start_ioproto
from ioproto_http.records import Chunk
from ioproto_proxy.priority import decode_with_priority
from ioproto_proxy.source import ProxySource, parse_listen
from ioproto_tcp.records import TcpData
from livehelp import Proxy, ProxyCommand, Server, run_client

from ioproto.components import SourceContext
from ioproto.errors import UsageError
from ioproto.model import ErrorRecord, Record

if TYPE_CHECKING:
    from ioproto_proxy.process import ProxyProcess


def test_parse_listen() -> None:
    assert parse_listen("8080") == ("127.0.0.1", 8080)
    assert parse_listen("proxy:0.0.0.0:81") == ("0.0.0.0", 81)
    assert parse_listen("[::1]:82") == ("::1", 82)
    with pytest.raises(ValueError):
        parse_listen("nope")


def test_missing_upstream_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs an upstream"):
        list(ProxySource().open("proxy:0", SourceContext()))


@pytest.mark.node
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_clean_exit_flushes_sinks(
    node_server: Server, proxy_command: ProxyCommand, tmp_path: Path, signum: int
) -> None:
    out = tmp_path / "records.jsonl"
    proc, url = proxy_command(["--upstream", node_server.url, "--sink", f"jsonl:{out}"])
    result = run_client("node", url, "default")
    assert result["after_reconnect"] == ["again"]
    time.sleep(0.3)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    text = out.read_text()
    assert '"EVENT"' in text and '"binary"' in text


@pytest.mark.node
def test_stats_every(node_server: Server, proxy_command: ProxyCommand) -> None:
    proc, url = proxy_command(
        [
            "--upstream",
            node_server.url,
            "--sink",
            "stats",
            "--every",
            "0.5s",
            "--sink-option",
            "stats.format=json",
            "--duration",
            "3s",
        ]
    )
    run_client("node", url, "websocket")
    stdout, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert stdout.count('"packets"') >= 2 or stdout.count("{\n") >= 2, stdout[:500]


@pytest.mark.node
def test_monitor_and_periodic_stats_while_a_real_client_runs(
    node_server: Server, proxy_command: ProxyCommand
) -> None:
    """What the issue calls done: the proxy in front of a real server, a real client using
    the app, and a live MONITOR stream plus periodic stats on one output."""
    proc, url = proxy_command(
        [
            "--upstream",
            node_server.url,
            *("--sink", "monitor", "--sink", "stats", "--every", "0.5s", "--duration", "3s"),
        ]
    )
    result = run_client("node", url, "default")
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert result["after_reconnect"] == ["again"]
    lines = stdout.splitlines()
    # monitor lines for the app's own traffic, over both transports
    assert any("echo(" in line and " xhr " not in line for line in lines), stdout[:2000]
    assert any(" xhr " in line for line in lines)
    assert any("ack #" in line for line in lines)
    # stats snapshots while it ran (one counting the client's sessions), and the final one
    snapshots = [line for line in lines if line.startswith("--- stats at ")]
    assert len(snapshots) >= 3, stdout[-2000:]
    assert any(re.match(r"[1-9]\d* sessions?, [1-9]\d* packets", line) for line in lines)


@pytest.mark.node
def test_slow_pipeline_drops_copies_not_traffic(node_server: Server) -> None:
    # Nothing is decoded while the client runs, and without a spool 2 kB of copies may wait
    # in the relay (and one batch of at most as much in the decoder's process): the rest is
    # dropped, the traffic is not, and the decoder reports the holes and resynchronises.
    with Proxy(node_server.url, buffer=2000, spool=0) as proxy:
        result = run_client("node", proxy.url, "websocket")
        waiting = proxy.process.queued_bytes
        records = proxy.drain()
        dropped = proxy.process.dropped_bytes
        assert 0 < waiting <= 2 * 2000 and proxy.process.queued_bytes == 0
    assert result == run_client("node", node_server.url, "websocket")
    assert dropped > 0
    gaps = [r for r in records if isinstance(r, ErrorRecord) and r.rule == "capture.tcp.gap"]
    assert gaps and sum(int(g.reason.split()[0]) for g in gaps) == dropped
    assert any(isinstance(r, Chunk) for r in records)


@pytest.mark.node
def test_source_reports_drops(node_server: Server) -> None:
    source = ProxySource()
    addresses: list[tuple[str, int]] = []
    source.on_listening = addresses.append
    options = {"upstream": node_server.url, "buffer": 2000, "spool": 0, "duration": 3}
    context = SourceContext(options=options)
    records: list[Record] = []

    def consume() -> None:
        for record in source.open("proxy:127.0.0.1:0", context):
            records.append(record)
            time.sleep(0.05)  # a slow sink

    thread = threading.Thread(target=consume)
    thread.start()
    while not addresses:
        time.sleep(0.01)
    host, port = addresses[0]
    result = run_client("node", f"http://{host}:{port}", "websocket")
    assert result["echo"] == ["hello", {"n": 1, "list": [1, "two", None]}]
    thread.join(30)
    drops = [r for r in records if isinstance(r, ErrorRecord) and r.rule == "proxy.tap.dropped"]
    assert drops and "in total" in drops[-1].reason
    assert any(isinstance(r, TcpData) for r in records)  # bytes that were copied


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policies")
def test_decoding_runs_at_idle_priority_and_gets_it_back() -> None:
    before = os.sched_getscheduler(0)
    with decode_with_priority("idle"):
        assert os.sched_getscheduler(0) == os.SCHED_IDLE
    assert os.sched_getscheduler(0) == before
    with decode_with_priority("normal"):
        assert os.sched_getscheduler(0) == before


def test_a_bad_priority_is_a_config_error() -> None:
    context = SourceContext(options={"upstream": "http://127.0.0.1:1", "priority": "high"})
    with pytest.raises(UsageError, match="priority='high': give one of auto, idle, normal"):
        list(ProxySource().open("proxy:0", context))


def test_a_proxy_nobody_used_says_so() -> None:
    done = run_ioproto(
        "proxy", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--duration", "1s"
    )
    assert done.returncode == 0 and done.stdout == "", done.stderr
    why = r"^ioproto: proxy:127\.0\.0\.1:0: no client sent anything through the proxy \(point"
    assert re.search(why + r" them at http://127\.0\.0\.1:\d+\)$", done.stderr, re.M), done.stderr
    # Nothing listens on port 9 (discard) here: the user hears it at once, not per 502.
    assert re.search(
        r"^ioproto: warning: nothing answers at http://127\.0\.0\.1:9 yet \(Connection "
        r"refused\); clients get 502 Bad Gateway until it does: is the server running\?$",
        done.stderr,
        re.M,
    ), done.stderr


@pytest.mark.node
def test_a_running_upstream_draws_no_warning(node_server: Server) -> None:
    done = run_ioproto(
        "proxy", "--listen", "127.0.0.1:0", "--upstream", node_server.url, "--duration", "1s"
    )
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr, done.stderr


@pytest.mark.node
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_one_signal_ends_a_proxy_with_the_dashboard_sink(
    node_server: Server, proxy_command: ProxyCommand, signum: int
) -> None:
    """The dashboard's page outlives a file's end, not a live source's stop: the one
    Ctrl-C or SIGTERM that stops the proxy ends the command."""
    proc, url = proxy_command(
        ["--upstream", node_server.url, "--sink", "dashboard", "--sink-option",
         "dashboard.browser=false"]
    )  # fmt: skip
    run_client("node", url, "websocket")
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "showing it until Ctrl-C" not in stderr


@pytest.mark.parametrize(
    ("upstream", "listen", "same"),
    [
        ("http://localhost:8080", ("127.0.0.1", 8080), True),
        ("8080", ("localhost", 8080), True),
        ("http://127.0.0.1:8080/app", ("0.0.0.0", 8080), True),
        ("http://0.0.0.0:8080", ("127.0.0.1", 8080), True),
        ("http://[::1]:8080", ("::", 8080), True),
        ("http://127.0.0.1:8081", ("127.0.0.1", 8080), False),
        ("http://nosuchhost.invalid:8080", ("127.0.0.1", 8080), False),
    ],
)
def test_an_upstream_knows_when_it_is_the_proxy_itself(
    upstream: str, listen: tuple[str, int], same: bool
) -> None:
    from ioproto_proxy.relay import Upstream

    assert same == Upstream(upstream).is_at(*listen)


#: This machine's addresses, as the stub below has them (documentation and ULA prefixes).
_STUB_LOCAL = {"127.0.0.1", "::1", "192.0.2.2", "fd00::2"}


@pytest.mark.parametrize(
    ("upstream", "listen", "same"),
    [
        ("http://192.0.2.2:8080", ("0.0.0.0", 8080), True),
        ("http://192.0.2.2:8080", ("::", 8080), True),
        ("http://[fd00::2]:8080", ("0.0.0.0", 8080), True),
        ("http://[::ffff:192.0.2.2]:8080", ("0.0.0.0", 8080), True),
        ("http://127.0.0.2:8080", ("0.0.0.0", 8080), True),  # all of 127/8 is loopback
        ("http://localhost:8080", ("::", 8080), True),
        ("http://192.0.2.2:8081", ("0.0.0.0", 8080), False),
        ("http://192.0.2.1:8080", ("0.0.0.0", 8080), False),  # another machine
        ("http://[fd00::3]:8080", ("::", 8080), False),
        ("http://192.0.2.2:8080", ("127.0.0.1", 8080), False),  # not where it listens
        ("http://192.0.2.2:8080", ("192.0.2.2", 8080), True),
    ],
)
def test_with_a_wildcard_listen_every_address_of_this_machine_is_the_proxy(
    upstream: str, listen: tuple[str, int], same: bool
) -> None:
    from ioproto_proxy.relay import IPAddress, Upstream

    def stub(address: IPAddress) -> bool:
        return address.is_loopback or str(address) in _STUB_LOCAL

    assert same == Upstream(upstream).is_at(*listen, local=stub)


def test_this_machine_is_told_by_binding_without_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    import ipaddress

    from ioproto_proxy.relay import is_this_machine

    for with_psutil in (True, False):
        if not with_psutil:
            monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil: ImportError
        assert is_this_machine(ipaddress.ip_address("127.0.0.2"))
        assert is_this_machine(ipaddress.ip_address("::1"))
        # 192.0.2.1 is for documentation: no machine has it (binding sends nothing).
        assert not is_this_machine(ipaddress.ip_address("192.0.2.1"))


@pytest.mark.parametrize(
    ("listen", "upstream"),
    [
        ("0.0.0.0:{port}", "http://127.0.0.2:{port}"),
        ("[::]:{port}", "http://localhost:{port}/"),
        ("0.0.0.0:{port}", "{port}"),
        ("0:{port}", "http://127.0.0.1:{port}"),
    ],
)
def test_a_wildcard_proxy_refuses_an_upstream_on_this_machine_at_its_port(
    listen: str, upstream: str
) -> None:
    """The same one-line mistake (exit 2) as for the --listen address itself, before
    anything listens."""
    port = 37006
    done = run_ioproto(
        "proxy", "--listen", listen.format(port=port), "--upstream", upstream.format(port=port)
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "ioproto: error: --upstream is this proxy's own --listen address: it would forward "
        "to itself"
    ]
    assert done.stdout == ""


def test_an_upstream_that_never_answers_is_named_as_the_reason(tmp_path: Path) -> None:
    """A server that accepts and never replies: the run's empty reason says the upstream
    never answered, not that the bytes were not Engine.IO."""
    import socket
    import urllib.request

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        upstream = f"http://{host}:{port}"
        proc = start_ioproto(
            "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream, "--duration", "3s",
            "--sink", "text", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline()
            url = re.search(r"listening on (http://\S+)", first)
            assert url, first
            with pytest.raises(OSError):
                urllib.request.urlopen(url[1] + "/socket.io/?EIO=4&transport=polling", timeout=1)
            stdout, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0 and stdout == "", stderr
    assert re.search(
        rf"^ioproto: proxy:127\.0\.0\.1:0: the upstream at {re.escape(upstream)} never "
        r"answered \(\d+ bytes from clients, none back\), so no traffic was seen",
        stderr,
        re.M,
    ), stderr
    assert "Engine.IO traffic (" not in stderr


def test_an_upstream_that_refused_is_named_as_the_reason() -> None:
    from ioproto_proxy.source import _summary
    from ioproto_proxy.streams import TapDecoder

    class Proxy:
        copied_bytes = 40
        decoder = TapDecoder()

    Proxy.decoder.unreachable = "cannot reach http://127.0.0.1:9: Connection refused"
    proxy = cast("ProxyProcess", Proxy())
    summary = _summary("proxy:8080", ("127.0.0.1", 8080), "http://127.0.0.1:9", proxy)
    assert summary.empty_reason == (
        "the upstream at http://127.0.0.1:9 could not be reached (Connection refused), so no "
        "traffic was seen: clients got 502 Bad Gateway; start the server or correct --upstream"
    )
