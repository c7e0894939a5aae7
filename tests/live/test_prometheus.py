"""The ``prometheus`` sink: its figures equal the ``stats`` sink's on the same records (the
bundled captures), hostile label values stay safe and few, a real Prometheus server
scraping ``ioproto proxy`` while real Socket.IO clients run through it sees the counters
that ``stats --format json`` reports for the same traffic, and on a live capture a client
gone without a word leaves the open sessions' gauge though no packet follows."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from clirun import run_ioproto, start_ioproto
from ioproto_prometheus.labels import MAX_LABEL, label
from ioproto_prometheus.metrics import ENDS, LiveMetrics, Metrics
from ioproto_prometheus.sink import _settings, parse_address
from ioproto_socketio.records import SocketIOPacket
from ioproto_stats.collector import StatsCollector
from livehelp import PEERS, ProxyCommand, Server, node_ok, run_client
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

import ioproto
from ioproto.contexts import Limits
from ioproto.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples_of(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def total(samples: Samples, name: str, **where: str) -> float:
    return sum(
        value
        for (metric, labels), value in samples.items()
        if metric == name and all(dict(labels).get(k) == v for k, v in where.items())
    )


def by(samples: Samples, name: str, *keys: str) -> Counter[tuple[str, ...]]:
    out: Counter[tuple[str, ...]] = Counter()
    for (metric, labels), value in samples.items():
        if metric == name and value:
            out[tuple(dict(labels)[key] for key in keys)] += int(value)
    return out


def assert_agrees_with_stats(samples: Samples, figures: dict[str, Any]) -> None:
    """The counters that ``stats --format json`` also reports are equal."""
    packets = sum(
        total(samples, "ioproto_packets_total", layer=layer) for layer in ("engineio", "socketio")
    )
    # a session's WebSocket closing is counted by its type, and is no packet for stats
    closes = total(samples, "ioproto_packets_total", layer="engineio", type="transport-close")
    assert packets - closes == figures["totals"]["packets"]
    events = figures["events"]["by_count"]
    # Label values are the names made safe (escapes shown, not obeyed), as the sink writes them.
    assert by(samples, "ioproto_events_total", "nsp", "event", "direction") == Counter(
        {
            (label(e["nsp"]), label(e["event"]), direction): e[f"count_{direction}"]
            for e in events
            for direction in ("c2s", "s2c")
            if e[f"count_{direction}"]
        }
    )
    assert by(samples, "ioproto_acks_total", "nsp", "event") == Counter(
        {(label(e["nsp"]), label(e["event"])): e["acks"] for e in events if e["acks"]}
    )
    latency = figures["latency"]
    assert total(samples, "ioproto_ack_rtt_seconds_count") == latency["ack"]["count"]
    assert total(samples, "ioproto_heartbeat_rtt_seconds_count") == latency["heartbeat"]["count"]
    assert total(samples, "ioproto_acks_unanswered_total") == latency["unanswered_acks"]
    assert total(samples, "ioproto_ping_timeouts_total") == latency["heartbeat_timeouts"]
    assert total(samples, "ioproto_sessions_opened_total") == figures["sessions"]["with_handshake"]
    assert (
        total(samples, "ioproto_upgrades_total", outcome="upgraded")
        == (figures["upgrade"]["upgraded"])
    )
    assert by(samples, "ioproto_clients_total", "browser") == Counter(
        {(row["name"],): row["count"] for row in figures["clients"]["browser"]}
    )
    assert by(samples, "ioproto_errors_total", "kind") == Counter(
        {(row["name"],): row["count"] for row in figures["errors"]["by_kind"]}
    )


def assert_ends_agree_with_stats(samples: Samples, figures: dict[str, Any]) -> None:
    """Why sessions ended, and how their transports closed, as ``stats`` says (read once
    the input ended: no session is open)."""
    ends = figures["ends"]
    expected = Counter(
        {(row["name"], ""): row["count"] for row in ends["by_reason"]}
        | {("transport closed", row["name"]): row["count"] for row in ends["transport_closed_by"]}
    )
    expected.pop(("transport closed", ""), None)
    assert by(samples, "ioproto_sessions_ended_total", "reason", "how") == expected


CAPTURES = sorted(
    [*(ROOT / "tests" / "data").glob("*.pcap"), ROOT / "examples" / "chat.pcap"],
    key=lambda path: path.name,
)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
def test_metrics_agree_with_stats_on_the_bundled_captures(capture: Path) -> None:
    metrics = Metrics()
    stats = StatsCollector()
    for record in ioproto.decode(str(capture), classifiers=None):
        metrics.add(record)
        stats.add(record)
    figures = stats.figures()
    assert_agrees_with_stats(samples_of(generate_latest(metrics.registry).decode()), figures)
    assert_ends_agree_with_stats(samples_of(generate_latest(metrics.registry).decode()), figures)
    assert (
        total(samples_of(generate_latest(metrics.registry).decode()), "ioproto_sessions_open") >= 0
    )


@pytest.mark.parametrize(
    "limits", [Limits(max_sessions=2), Limits(max_state_bytes=3000)], ids=["sessions", "bytes"]
)
def test_sessions_a_limit_evicted_are_counted_once(limits: Limits) -> None:
    """A continuation of an evicted session (its summary ``resumed``) is no new session:
    opened and ended count the capture's 9 sessions, evictions as their end, as ``stats``
    says."""
    capture = ROOT / "tests" / "data" / "clients_mixed.pcap"
    metrics = Metrics()
    for record in ioproto.decode(str(capture), classifiers=None, limits=limits):
        metrics.add(record)
    samples = samples_of(generate_latest(metrics.registry).decode())
    assert total(samples, "ioproto_sessions_opened_total") == 9
    assert total(samples, "ioproto_sessions_ended_total") == 9
    limit = _limit_option(limits)
    result = run_ioproto("stats", "--format", "json", "--limit", limit, str(capture))
    assert total(samples, "ioproto_sessions_ended_total", reason="evicted") > 0
    assert_ends_agree_with_stats(samples, json.loads(result.stdout))


def _limit_option(limits: Limits) -> str:
    changed = attrs.asdict(limits, filter=lambda field, value: value != field.default)
    ((name, value),) = changed.items()
    return f"{name}={value}"


HOSTILE = [
    'a"b',
    "back\\slash",
    "new\nline",
    '} 1\nioproto_events_total{event="x"} 999',
    "\x00\x1b[31m\u202e",
    "\ud800lone",
    "é" * 50,
    "x" * 100_000,
    "other",
]


def test_a_record_whose_input_gives_no_direction_is_counted_as_unknown() -> None:
    """Raw packet lines without ``>``/``<`` (the README's first ``printf ... | ioproto
    decode -``) say no direction: the packets and events are ``direction="unknown"``, as
    the events always were, not the text "None"."""
    from ioproto_http.records import Chunk, ChunkKind

    metrics = Metrics()
    lines = [b"40", b'42["chat",{"text":"hi"}]', b"2"]
    chunks = [Chunk(ts=float(i), kind=ChunkKind.LINE, data=data) for i, data in enumerate(lines)]
    for record in ioproto.decode(chunks):
        metrics.add(record)
    samples = samples_of(generate_latest(metrics.registry).decode())
    directions = {
        dict(labels)["direction"]
        for (name, labels) in samples
        if name in ("ioproto_packets_total", "ioproto_events_total")
    }
    assert directions == {"unknown"}


def test_hostile_event_names_are_safe_in_the_exposition() -> None:
    metrics = Metrics(top_events=5)
    for index, name in enumerate(HOSTILE * 3):
        metrics.add(
            SocketIOPacket(ts=float(index), direction="c2s", type="EVENT", event=name, nsp=name)
        )
    text = generate_latest(metrics.registry).decode("utf-8")
    samples = samples_of(text)  # the official parser reads it back
    events = by(samples, "ioproto_events_total", "event")
    assert sum(events.values()) == len(HOSTILE) * 3
    assert len(events) <= 6  # five names and "other"
    assert total(samples, "ioproto_label_overflow_total", label="event") == 3 * (len(HOSTILE) - 5)
    for (name,) in events:
        assert len(name) <= MAX_LABEL
        assert not any(ord(char) < 0x20 or 0xD800 <= ord(char) <= 0xDFFF for char in name)
    # the injection attempt stays inside its label: no sample gets its value
    assert 999.0 not in samples.values()
    lines = [line for line in text.splitlines() if line.startswith("ioproto_events_total")]
    assert len(lines) == len(by(samples, "ioproto_events_total", "nsp", "event", "direction"))


def test_label_cardinality_stays_capped_under_many_names() -> None:
    metrics = Metrics(top_events=10, top_values=3)
    for index in range(5000):
        metrics.add(
            SocketIOPacket(ts=0.0, direction="c2s", type="EVENT", event=f"e{index}", nsp="/")
        )
    families = {f.name: f for f in text_string_to_metric_families(
        generate_latest(metrics.registry).decode()
    )}  # fmt: skip
    assert len(families["ioproto_events"].samples) <= 11 * 2  # _total and _created per series


def test_parse_address() -> None:
    assert parse_address("") == ("127.0.0.1", 9464)
    assert parse_address("0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_address(":9001") == ("127.0.0.1", 9001)
    assert parse_address("[::1]:9002") == ("::1", 9002)
    with pytest.raises(ValueError):
        parse_address("host:port")


def test_the_address_is_named_listen_as_the_dashboards_is() -> None:
    assert _settings({"listen": "127.0.0.1:9100"})[0] == ("127.0.0.1", 9100)
    assert _settings({"address": "127.0.0.1:9101"})[0] == ("127.0.0.1", 9101)  # earlier name
    assert _settings({"target": "127.0.0.1:9102"})[0] == ("127.0.0.1", 9102)  # prometheus:X
    assert _settings({"listen": "9103", "target": "9103"})[0] == ("127.0.0.1", 9103)
    with pytest.raises(UsageError, match="give the address to serve on once"):
        _settings({"listen": "127.0.0.1:9100", "target": "127.0.0.1:9200"})


def test_listen_from_the_command_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    done = run_ioproto(
        "decode", "--sink", "prometheus",
        "--sink-option", f"prometheus.listen=127.0.0.1:{port}",
        "--sink-option", "prometheus.exit=true", str(ROOT / "examples" / "chat.pcap"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"metrics on http://127.0.0.1:{port}/metrics" in done.stderr


GRAFANA = ROOT / "docs" / "grafana" / "ioproto.json"


def grafana_exprs() -> list[str]:
    dashboard = json.loads(GRAFANA.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_grafana_dashboard_uses_the_exported_metrics() -> None:
    exprs = grafana_exprs()
    assert exprs
    suffixes = {"counter": ["_total"], "gauge": [""], "histogram": ["_bucket", "_count", "_sum"]}
    exported = {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in suffixes[family.type]
    }
    for expr in exprs:
        for name in re.findall(r"\bioproto_[a-z_]+", expr):
            assert name in exported, (name, expr)


def test_grafana_panels_have_their_own_ids_and_places() -> None:
    """Grafana keeps one panel per id and lays them on a 24-column grid."""
    dashboard = json.loads(GRAFANA.read_text())
    assert dashboard["schemaVersion"] == 39
    panels = dashboard["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        taken = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                 for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
        assert not taken & cells, panel["title"]
        cells |= taken
        assert all(target["refId"] and target["expr"] for target in panel["targets"])


def test_grafana_dashboard_selects_labels_and_values_the_sink_exports() -> None:
    """A label a panel selects on (``{how="no close frame (1006)"}``) or sums by is one the
    metric has, with a value it takes (the series there from the start, or after the bundled
    captures), so that no panel stays empty for a misspelt word."""
    metrics = Metrics()
    for capture in ("clients_mixed.pcap", "polling_gone.pcap", "upgrade.pcap"):
        for record in ioproto.decode(str(ROOT / "tests" / "data" / capture)):
            metrics.add(record)
    samples = samples_of(generate_latest(metrics.registry).decode())
    labels: dict[str, set[tuple[str, str]]] = {}
    for name, pairs in samples:
        labels.setdefault(name, set()).update(pairs)
    checked = 0
    for expr in grafana_exprs():
        names = re.findall(r"\bioproto_[a-z_]+", expr)
        for name, matchers in re.findall(r"\b(ioproto_[a-z_]+)\{([^}]*)\}", expr):
            for key, value in re.findall(r'(\w+)="([^"]*)"', matchers):
                assert (key, value) in labels[name], (key, value, expr)
                checked += 1
        for grouping in re.findall(r"\bby \(([^)]*)\)", expr):
            for key in (k.strip() for k in grouping.split(",")):
                have = {k for name in names for k, _ in labels.get(name, ())}
                assert not have or key in have, (key, expr)
    assert checked >= 3  # the session-end panels select on reason and how


# -- a real Prometheus server ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def query(base: str, expression: str) -> list[dict[str, Any]]:
    url = f"{base}/api/v1/query?query={urllib.parse.quote(expression)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Any]:
    """``start(target) -> base URL``: a real Prometheus (Debian's package) on a free loopback
    port, scraping ``target`` every second; stopped at teardown."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is missing (Debian package prometheus; make test)")
    started: list[subprocess.Popen[bytes]] = []

    def start(target: str) -> str:
        port = free_port()
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n"
            "  - job_name: ioproto\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        started.append(
            subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        return base

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_ready(base: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError("prometheus did not start")


@pytest.mark.node
@pytest.mark.slow
def test_real_prometheus_scrapes_the_proxy_and_agrees_with_stats(
    node_server: Server, proxy_command: ProxyCommand, prometheus: Any, tmp_path: Path
) -> None:
    metrics_port = free_port()
    stats_file = tmp_path / "stats.json"
    proc, url = proxy_command(
        [
            "--upstream", node_server.url,
            "--sink", f"prometheus:127.0.0.1:{metrics_port}",
            "--sink", f"stats:{stats_file}", "--sink-option", "stats.format=json",
        ]
    )  # fmt: skip
    base = prometheus(f"127.0.0.1:{metrics_port}")
    for mode in ("default", "websocket", "polling"):
        result = run_client("node", url, mode)
        assert result["after_reconnect"] == ["again"]
    run_client("py", url, "websocket")

    # Wait until Prometheus has scraped the figures after the last packet was decoded.
    last: Any = None
    stable = 0
    deadline = time.monotonic() + 60
    while stable < 4 and time.monotonic() < deadline:
        time.sleep(1)
        up = query(base, 'up{job="ioproto"}')
        packets = query(base, 'sum(ioproto_packets_total{layer=~"engineio|socketio"})')
        now = packets[0]["value"][1] if packets else None
        stable = stable + 1 if up and up[0]["value"][1] == "1" and now == last else 0
        last = now
    assert stable >= 4, "prometheus never saw stable figures"
    # The bundled Grafana dashboard's queries run on a real Prometheus (query() checks each
    # is accepted), the session ends' among them with a series for every reason.
    shown = {expr: query(base, expr.replace("$__rate_interval", "1m")) for expr in grafana_exprs()}
    by_reason = next(rows for expr, rows in shown.items() if "by (reason)" in expr)
    reasons = {row["metric"]["reason"] for row in by_reason}
    assert reasons == {reason for reason, _ in ENDS}

    scraped: Samples = {}
    for name in (
        "ioproto_packets_total", "ioproto_events_total", "ioproto_acks_total",
        "ioproto_ack_rtt_seconds_count", "ioproto_heartbeat_rtt_seconds_count",
        "ioproto_acks_unanswered_total", "ioproto_ping_timeouts_total",
        "ioproto_sessions_opened_total", "ioproto_upgrades_total", "ioproto_clients_total",
        "ioproto_errors_total",
    ):  # fmt: skip
        for row in query(base, name):
            labels = {k: v for k, v in row["metric"].items() if k not in ("job", "instance")}
            labels.pop("__name__", None)
            scraped[(name, tuple(sorted(labels.items())))] = float(row["value"][1])
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    figures = json.loads(stats_file.read_text())
    assert figures["events"]["total"] > 20 and figures["sessions"]["with_handshake"] >= 8
    assert_agrees_with_stats(scraped, figures)


def open_sessions(metrics: Metrics) -> float:
    return total(samples_of(generate_latest(metrics.registry).decode()), "ioproto_sessions_open")


def ended_sessions(metrics: Metrics) -> float:
    return total(
        samples_of(generate_latest(metrics.registry).decode()), "ioproto_sessions_ended_total"
    )


@pytest.mark.parametrize(
    "name", ["ws_only", "namespaces_acks", "upgrade", "msgpack_ws", "v2_ws", "python_server"]
)
def test_a_session_that_disconnects_its_last_namespace_leaves_the_open_gauge(name: str) -> None:
    """Socket.IO clients leave with a DISCONNECT and close their WebSocket, without an
    Engine.IO close: the gauge must not count them until the input ends (a live source's
    input never does)."""
    metrics = Metrics()
    records = list(ioproto.decode(str(ROOT / "tests" / "data" / f"{name}.pcap"), classifiers=None))
    summaries = [i for i, record in enumerate(records) if type(record).__name__ == "SessionSummary"]
    for record in records[: summaries[0]]:
        metrics.add(record)
    assert open_sessions(metrics) == 0
    # Ended here for the gauge, not yet by the pipeline: counted as ended at its summary.
    assert ended_sessions(metrics) == 0
    for record in records[summaries[0] :]:
        metrics.add(record)
    assert ended_sessions(metrics) == len(summaries)


def test_an_idle_session_leaves_the_open_gauge_and_comes_back_with_traffic() -> None:
    """No record for pingInterval + pingTimeout (a client whose tab closed its WebSocket)
    ends a session, as its server would; a record after that opens it again."""
    records = list(ioproto.decode(str(ROOT / "tests" / "data" / "ws_only.pcap"), classifiers=None))
    handshake = next(r for r in records if r.layer == "engineio" and r.type == "open")
    idle = (handshake.ping_interval + handshake.ping_timeout) / 1000  # type: ignore[attr-defined]
    metrics = Metrics()
    metrics.add(handshake)
    assert open_sessions(metrics) == 1
    ping = next(r for r in records if r.layer == "socketio" and r.type == "EVENT")
    metrics.add(attrs.evolve(ping, ts=handshake.ts + idle - 0.5))
    assert open_sessions(metrics) == 1
    other = attrs.evolve(handshake, sid="another", ts=handshake.ts + 2 * idle)
    metrics.add(other)
    assert open_sessions(metrics) == 1  # the first one timed out, the other opened
    metrics.add(attrs.evolve(ping, ts=other.ts + 0.1))
    assert open_sessions(metrics) == 2
    assert (
        total(
            samples_of(generate_latest(metrics.registry).decode()),
            "ioproto_sessions_open",
            transport="websocket",
        )
        == 2
    )


def test_the_open_gauge_follows_many_sessions_within_its_table() -> None:
    """Sessions forgotten by the bounded table leave nothing behind in the idle look."""
    records = list(ioproto.decode(str(ROOT / "tests" / "data" / "ws_only.pcap"), classifiers=None))
    handshake = next(r for r in records if r.layer == "engineio" and r.type == "open")
    metrics = Metrics(max_sessions=10)
    for n in range(100):
        metrics.add(attrs.evolve(handshake, sid=f"s{n}", ts=handshake.ts + n * 0.001))
    assert len(metrics._sessions.active) <= 10
    metrics.add(attrs.evolve(handshake, sid="late", ts=handshake.ts + 1000))
    assert len(metrics._sessions.active) == 1


def test_a_live_sources_scrape_ends_the_sessions_idle_by_the_wall_clock() -> None:
    """Between a live source's records capture time passes as the wall clock does: a scrape
    ends a session idle for its pingInterval + pingTimeout though no record came since. A
    file's records are their own clock: nothing passes between them."""
    records = list(ioproto.decode(str(ROOT / "tests" / "data" / "ws_only.pcap"), classifiers=None))
    handshake = next(r for r in records if r.layer == "engineio" and r.type == "open")
    quick = attrs.evolve(handshake, ping_interval=500, ping_timeout=500)  # idle after 1 s
    live, replayed = LiveMetrics(), Metrics()
    for metrics in (live, replayed):
        metrics.add(quick)
    assert (open_sessions(live), open_sessions(replayed)) == (1, 1)
    time.sleep(1.2)
    assert (open_sessions(live), open_sessions(replayed)) == (0, 1)
    assert ended_sessions(live) == 0  # idle by the sink's rule, but no summary said it ended
    event = next(r for r in records if r.layer == "socketio" and r.type == "EVENT")
    live.add(attrs.evolve(event, ts=quick.ts + 0.05))  # late, yet of the session
    assert open_sessions(live) == 1


def scraped_open_sessions(url: str) -> float:
    with urllib.request.urlopen(url, timeout=5) as response:
        return total(samples_of(response.read().decode()), "ioproto_sessions_open")


@pytest.mark.node
@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
def test_a_client_gone_silently_leaves_the_gauge_of_a_live_capture_gone_quiet() -> None:
    """``live:lo`` into the prometheus sink, a real socket.io server that pings every 0.4 s
    and gives up 0.4 s later, and a client that connects and is then killed (no DISCONNECT,
    no Engine.IO close: its server only drops the connection). No packet follows, yet a
    scrape after pingInterval + pingTimeout sees the gauge at 0; while the client lived and
    answered the pings it stayed at 1."""
    if not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    idle = 0.8
    server = Server(["node", "sio_server.js", "0"], env={"IOPROTO_PEER_PING": "400,400"})
    capture = start_ioproto(
        "decode", "live:lo", "--port", str(server.port), "--sink", "prometheus:127.0.0.1:0",
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    client: subprocess.Popen[str] | None = None
    try:
        assert capture.stderr is not None
        said = ""
        while (found := re.search(r"metrics on (http://\S+)", said)) is None:
            line = capture.stderr.readline()
            assert line, said
            said += line
        url = found.group(1)
        client = subprocess.Popen(
            ["node", "hold_client.js", server.url], cwd=PEERS, stdout=subprocess.PIPE, text=True
        )
        assert client.stdout is not None
        assert client.stdout.readline().startswith("CONNECTED")
        deadline = time.monotonic() + 20
        while scraped_open_sessions(url) != 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2 * idle)  # pings and pongs keep it open
        assert scraped_open_sessions(url) == 1

        client.kill()
        client.wait()
        time.sleep(idle + 0.7)  # no packet of it since (its server dropped the connection)
        assert scraped_open_sessions(url) == 0
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        capture.send_signal(signal.SIGINT)
        try:
            capture.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            capture.kill()
            capture.communicate()
        server.stop()


@pytest.mark.parametrize(
    ("capture", "ended"),
    [
        # dead-tcp's WebSocket ends without a close frame; mute's server closes it
        (
            "clients_mixed.pcap",
            {
                ("transport closed", "close frame from the client"): 5,
                ("transport closed", "close frame from the server"): 1,
                ("transport closed", "no close frame (1006)"): 1,
                ("closed", ""): 2,
            },
        ),
        ("polling_gone.pcap", {("transport closed", "poll cut off"): 3}),
    ],
)
def test_sessions_ended_count_why_and_how_each_session_ended(
    capture: str, ended: dict[tuple[str, str], int]
) -> None:
    """One count per session as its summary arrives, by its end_reason and, for transport
    closed, how (as the stats' "Session ends" says); every (reason, how) series is there
    from the start, at 0, so that a rate of abnormal ends is 0 rather than absent."""
    metrics = Metrics()
    before = samples_of(generate_latest(metrics.registry).decode())
    abnormal = ("ioproto_sessions_ended_total", ABNORMAL_CLOSE)
    assert before[abnormal] == 0
    assert total(before, "ioproto_sessions_ended_total") == 0
    for record in ioproto.decode(str(ROOT / "tests" / "data" / capture), classifiers=None):
        metrics.add(record)
    samples = samples_of(generate_latest(metrics.registry).decode())
    assert by(samples, "ioproto_sessions_ended_total", "reason", "how") == Counter(ended)


ABNORMAL_CLOSE = (("how", "no close frame (1006)"), ("reason", "transport closed"))


def test_the_metrics_doc_names_and_counts_the_ended_series_there_from_the_start() -> None:
    """docs/metrics.md's row of ``ioproto_sessions_ended_total`` names every reason and how
    of the series at 0 before any record, and says how many they are."""
    (row,) = [
        line
        for line in (ROOT / "docs" / "metrics.md").read_text().splitlines()
        if line.startswith("| `ioproto_sessions_ended_total` |")
    ]
    at_zero = [
        dict(labels)
        for (name, labels) in samples_of(generate_latest(Metrics().registry).decode())
        if name == "ioproto_sessions_ended_total"
    ]
    said = re.search(r"These (\w+) series are there from the start, at 0", row)
    words = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"]
    assert said and said.group(1) in words
    assert words.index(said.group(1)) + 10 == len(at_zero)
    for labels in at_zero:
        assert f"`{labels['reason']}`" in row
        assert not labels["how"] or f"`{labels['how']}`" in row


def test_a_transport_closed_whose_transport_close_was_filtered_out_is_unknown() -> None:
    """As with a ``--filter`` that lets summaries through but not ``transport-close``
    records: the summaries say why, not how."""
    metrics = Metrics()
    capture = str(ROOT / "tests" / "data" / "clients_mixed.pcap")
    for record in ioproto.decode(capture, classifiers=None):
        if record.type != "transport-close":
            metrics.add(record)
    samples = samples_of(generate_latest(metrics.registry).decode())
    assert by(samples, "ioproto_sessions_ended_total", "reason", "how") == Counter(
        {("transport closed", "unknown"): 7, ("closed", ""): 2}
    )
