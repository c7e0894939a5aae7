"""The insight figures on the real captures (tests/data/*.pcap with their application logs)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
from insighthelp import DATA
from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_stats.collector import StatsCollector

import ioproto
from ioproto.model import Record

pytest.importorskip("ioproto_pcap")


def decode(name: str, pm: Any) -> list[Record]:
    path = DATA / f"{name}.pcap"
    if not path.exists():
        pytest.skip(f"{path} not captured")
    return list(ioproto.decode([str(path)], proto="socketio", classifiers=None, plugin_manager=pm))


def figures(records: list[Record]) -> dict[str, Any]:
    collector = StatsCollector()
    for record in records:
        collector.add(record)
    return collector.figures()


def shares(items: list[dict[str, Any]]) -> dict[str, int]:
    return {item["name"]: item["count"] for item in items}


def test_clients_mixed(pm: Any) -> None:
    records = decode("clients_mixed", pm)
    stats = figures(records)
    assert stats["sessions"]["total"] == 9
    assert shares(stats["transport"]["sessions_first"]) == {"websocket": 5, "polling-xhr": 4}
    assert shares(stats["transport"]["sessions_final"]) == {"websocket": 7, "polling-xhr": 2}
    upgrade = stats["upgrade"]
    assert (upgrade["upgraded"], upgrade["failed"], upgrade["stayed_on_polling"]) == (2, 0, 2)
    assert shares(stats["clients"]["kind"]) == {"browser": 5, "library": 3, "tool": 1}
    browsers = shares(stats["clients"]["browser"])
    for name in ("Chrome", "Firefox", "Mobile Safari", "Edge", "Chrome Mobile", "curl", "aiohttp"):
        assert browsers[name] == 1, name
    assert browsers["Node.js engine.io-client"] == 1
    # the "mute" client stops answering pings: the server's last ping times out
    timeouts = [r for r in records if isinstance(r, HeartbeatTimeout)]
    assert len(timeouts) == 1 and timeouts[0].timed_out
    summaries = [r for r in records if isinstance(r, SessionSummary)]
    assert len(summaries) == 9
    mute = next(s for s in summaries if s.ping_unanswered)
    assert mute.client_name == "Android Dalvik"


def app_ack_rtts(name: str) -> dict[tuple[str, str, str], list[float]]:
    """Round-trips the emitting side logged: (side, nsp, event) → sorted seconds."""
    emitted: dict[tuple[str, str, str, str, int | None], float] = {}
    rtts: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for line in (DATA / f"{name}.log.jsonl").read_text().splitlines():
        entry = json.loads(line)
        key = (entry["side"], entry["client"], entry["nsp"], str(entry["event"]), entry["ack_id"])
        if entry["action"] == "emit":
            # python-socketio logs no ack id: the ack answers the last emit of that event
            emitted[key] = entry["t"]
        elif entry["action"] == "ack-recv" and key in emitted:
            side = entry["side"]
            rtts[(side, entry["nsp"], str(entry["event"]))].append(entry["t"] - emitted[key])
    return {key: sorted(values) for key, values in rtts.items()}


@pytest.mark.parametrize("name", ["clients_mixed", "namespaces_acks", "polling_only", "upgrade"])
def test_ack_round_trips_match_the_application_log(name: str, pm: Any) -> None:
    records = decode(name, pm)
    wire: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for record in records:
        rtt = record.tag("latency.ack")
        if rtt is not None:
            event = record.answers  # type: ignore[attr-defined]
            side = "client" if event.direction == "c2s" else "server"
            wire[(side, record.nsp, str(event.event))].append(rtt)  # type: ignore[attr-defined]
    app = app_ack_rtts(name)
    assert app, "the log has acks"
    assert {key: len(values) for key, values in wire.items()} == {
        key: len(values) for key, values in app.items()
    }
    for key, values in app.items():
        for seen, logged in zip(sorted(wire[key]), values, strict=True):
            # the capture sits between the peers: its round-trip is shorter, by little
            assert seen <= logged + 0.002, (key, seen, logged)
            assert logged - seen < 0.050, (key, seen, logged)


def test_upgrade_capture(pm: Any) -> None:
    records = decode("upgrade", pm)
    (summary,) = [r for r in records if isinstance(r, SessionSummary)]
    assert summary.upgraded and summary.transports == ("polling-xhr", "websocket")
    assert summary.upgrade_time is not None and 0 < summary.upgrade_time < 5
    upgrade = next(r for r in records if r.type == "upgrade")
    assert upgrade.tag("upgrade.time") == pytest.approx(summary.upgrade_time)


def test_polling_heartbeats(pm: Any) -> None:
    stats = figures(decode("polling_only", pm))
    heartbeat = stats["latency"]["heartbeat"]
    assert heartbeat["count"] >= 1 and 0 < heartbeat["max"] < 1
    assert shares(stats["transport"]["packets"]) == {"polling-xhr": stats["totals"]["packets"]}


def test_rejected_errors(pm: Any) -> None:
    stats = figures(decode("rejected", pm))
    kinds = shares(stats["errors"]["by_kind"])
    assert kinds["connect-error"] == 2 and kinds["http"] >= 1
