"""The dashboard's aggregates: the stats figures unchanged, fixed-size series and
histograms, and every table within its byte budget."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest
from dashhelp import CHAT, DATA
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_dashboard.aggregate import Aggregate
from ioproto_dashboard.budgets import Budgets
from ioproto_dashboard.hub import Hub, dump_json
from ioproto_dashboard.series import LogHistogram, TimeSeries
from ioproto_socketio.records import SocketIOPacket
from ioproto_stats.collector import StatsCollector

import ioproto
from ioproto.contexts import Limits
from ioproto.model import Record

CAPTURES = [CHAT, *sorted(DATA.glob("*.pcap"))]


@cache
def _records(path: Path) -> list[Record]:
    import ioproto_example_game
    import ioproto_msgpack

    pm = ioproto.make_plugin_manager()
    for name, module in (("msgpack", ioproto_msgpack), ("example_game", ioproto_example_game)):
        if pm.get_plugin(name) is None and not pm.is_registered(module):
            pm.register(module, name=name)
    return list(ioproto.decode(str(path), proto="socketio", plugin_manager=pm))


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
def test_the_summary_is_the_stats_collectors_and_the_snapshot_is_json(capture: Path) -> None:
    records = _records(capture)
    aggregate = Aggregate()
    stats = StatsCollector()
    for record in records:
        aggregate.add(record)
        stats.add(record)
    figures = aggregate.stats.figures()
    assert stats.figures() == figures
    snapshot = json.loads(dump_json(aggregate.snapshot(figures, aggregate.last_ts)))
    sessions = snapshot["sessions"]
    assert sum(sessions["by_transport"].values()) == sessions["open"]
    assert sessions["open"] + sum(sessions["ends"].values()) == figures["sessions"]["total"]
    series = snapshot["series"]
    width = series["width"]
    connects = sum(rate * width for rate in series["rate"]["connects"][:-1])
    assert connects <= figures["sessions"]["total"]
    assert len(series["t"]) <= 240
    assert aggregate.ack.count == figures["latency"]["ack"]["count"]


def test_a_session_limit_leaves_no_session_open_at_the_end() -> None:
    """Under ``max_sessions=2`` the WebSocket closes of clients_mixed still end their
    sessions (the Engine.IO layer keeps a connection's sid past its session's eviction):
    the gauge of open sessions ends at 0 and the ends are those of an unlimited run."""

    def sessions(**limits: int) -> dict[str, object]:
        aggregate = Aggregate()
        capture = str(DATA / "clients_mixed.pcap")
        for record in ioproto.decode(capture, proto="socketio", limits=Limits(**limits)):
            aggregate.add(record)
        snapshot = aggregate.snapshot(aggregate.stats.figures(), aggregate.last_ts)
        return {key: snapshot["sessions"][key] for key in ("open", "ends")}

    unlimited = sessions()
    assert unlimited["open"] == 0
    assert sessions(max_sessions=2) == unlimited


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1_000_000, allow_nan=False), st.integers(1, 5)),
        min_size=1,
        max_size=300,
    )
)
def test_series_keep_their_totals_in_fixed_memory(points: list[tuple[float, int]]) -> None:
    series = TimeSeries(["n"], ["g"], ["h"], capacity=16)
    ordered = sorted(points)
    for ts, amount in ordered:
        series.add("n", ts, amount)
        series.set("g", ts, amount)
        series.observe("h", ts, amount / 1000)
    view = series.view()
    assert len(view["t"]) <= 16
    total = sum(rate * view["width"] for rate in view["rate"]["n"])
    assert total == pytest.approx(sum(amount for _, amount in points))
    last_values = {amount for ts, amount in ordered if ts == ordered[-1][0]}
    assert view["gauge"]["g"][-1] in last_values
    assert view["t"] == sorted(view["t"])


@given(st.lists(st.floats(1e-5, 500, allow_nan=False), min_size=1, max_size=200))
def test_histogram_percentiles_are_within_a_bin(values: list[float]) -> None:
    histogram = LogHistogram.latency()
    for value in values:
        histogram.add(value)
    ordered = sorted(values)
    exact = ordered[max(0, -(-len(ordered) // 2) - 1)]
    median = histogram.percentile(0.5)
    assert median is not None
    low = min(max(exact, 1e-4), 100.0)
    assert low / 1.34 <= median <= low * 1.34 or exact < 1e-4 or exact > 100


def _event(sid: str, ts: float, text: str) -> SocketIOPacket:
    return SocketIOPacket(
        ts=ts,
        sid=sid,
        direction="c2s",
        transport="websocket",
        type="EVENT",
        event="chat",
        args=[text],
        data=["chat", text],
        raw=b"x" * len(text),
    )


def test_every_table_stays_within_its_budget() -> None:
    budgets = Budgets(
        sessions=64 * 1024, packets=128 * 1024, timelines=256 * 1024, rows_per_second=10_000
    )
    aggregate = Aggregate(budgets)
    for index in range(30_000):
        aggregate.add(_event(f"s{index % 5000}", 1000.0 + index / 100, "é" * (index % 300)))
    assert aggregate.ring.bytes <= budgets.packets
    assert aggregate.timelines.bytes <= budgets.timelines
    assert len(aggregate.sessions) <= budgets.max_sessions
    assert aggregate.sessions.forgotten > 0
    figures = aggregate.stats.figures()
    assert figures["events"]["total"] == 30_000


def test_the_hub_publishes_immutable_snapshots_at_its_interval() -> None:
    hub = Hub(interval=3600)
    first = hub.published
    for index in range(100):
        hub.write(_event("a", 1000.0 + index, "hi"))
    assert hub.published.version == first.version + 1  # once, at the first record
    assert hub.needs_refresh() is False
    hub.finish()
    final = json.loads(hub.published.snapshot)
    assert final["meta"]["finished"] is True
    assert final["summary"]["events"]["total"] == 100
    assert final["meta"]["records"] == 100


def test_an_empty_snapshot_has_every_series() -> None:
    aggregate = Aggregate()
    snapshot = aggregate.snapshot(aggregate.stats.figures(), None)
    assert snapshot["series"]["rate"]["connects"] == []
    assert snapshot["series"]["gauge"]["websocket"] == []
    assert snapshot["series"]["percentiles"]["ack"]["p50"] == []


_WIRE_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40)


@settings(max_examples=80, deadline=None)
@given(
    st.data(),
    st.lists(
        st.tuples(
            st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
            st.one_of(st.none(), _WIRE_TEXT),
            st.sampled_from([None, "c2s", "s2c"]),
            _WIRE_TEXT,
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_any_records_in_any_order_never_break_the_aggregate(
    data: st.DataObject, changes: list[tuple[float, str | None, str | None, str]]
) -> None:
    """Times out of order or absurd, sessions and names with any character (lone surrogates
    too): the aggregate goes on and the snapshot is still JSON."""
    import attrs

    records = _records(DATA / "clients_mixed.pcap")
    hub = Hub()
    for ts, sid, direction, name in changes:
        record = data.draw(st.sampled_from(records))
        changed = attrs.evolve(record, ts=ts, sid=sid, direction=direction)
        if isinstance(changed, SocketIOPacket) and changed.type == "EVENT":
            changed = attrs.evolve(changed, event=name, nsp="/" + name)
        hub.write(changed)
    hub.finish()
    snapshot = json.loads(hub.published.snapshot)
    assert snapshot["meta"]["records"] == len(changes)
    for row in hub.published.rows:
        dump_json(row)


def test_a_time_far_ahead_moves_the_series_at_once() -> None:
    series = TimeSeries(["n"], capacity=16)
    series.add("n", 1000.0)
    shifts = []
    original = series._shift
    series._shift = lambda drop: (shifts.append(drop), original(drop))  # type: ignore[method-assign]
    series.add("n", 1e12)  # a corrupted capture time, 30,000 years ahead
    assert len(shifts) == 1  # one move, not one per bucket
    view = series.view()
    assert len(view["t"]) <= 16 and view["t"][-1] <= 1e12 < view["t"][-1] + view["width"]
