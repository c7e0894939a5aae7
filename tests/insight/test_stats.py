"""The stats sink: figures, formats, charts, snapshot, escaping."""

from __future__ import annotations

import io
import json
import re

import pytest
from insighthelp import eio, handshake, run_classifiers, sio, ws_chunk
from ioproto_stats.collector import StatsCollector
from ioproto_stats.samples import Samples
from ioproto_stats.sink import StatsSinkFactory
from test_monitor import HOSTILE, assert_safe

from ioproto.components import SinkContext
from ioproto.model import ErrorRecord, Record


def session_records() -> list[Record]:
    event = sio("EVENT", 1.1, "c2s", event="chat", args=["hi"], id=1)
    return [
        handshake(1.0),
        event,
        sio("ACK", 1.11, "s2c", id=1, answers=event, data=[True]),
        eio("ping", 1.2, "s2c"),
        eio("pong", 1.203, "c2s"),
        eio("ping", 1.3, "c2s", data="probe", parent=ws_chunk(1.3, "c2s")),
        eio("upgrade", 1.4, "c2s", parent=ws_chunk(1.4, "c2s")),
        sio("EVENT", 1.5, "s2c", event="news", args=[b"\x01\x02"], attachments=1),
        ErrorRecord(ts=1.6, sid="s1", layer="engineio", rule="engineio.packet.empty", reason="x"),
    ]


def run_sink(records: list[Record], *, color: bool = False, **options: object) -> str:
    stream = io.StringIO()
    sink = StatsSinkFactory().open(SinkContext(stream=stream, color=color, options=options))
    for record in records:
        sink.write(record)
    sink.close()
    return stream.getvalue()


def test_samples_percentiles() -> None:
    samples = Samples()
    for value in range(1, 101):
        samples.add(float(value))
    summary = samples.summary()
    assert (summary["p50"], summary["p90"], summary["p99"], summary["max"]) == (50, 90, 99, 100)
    bounded = Samples(cap=10)
    for value in range(1000):
        bounded.add(float(value))
    assert len(bounded.values) == 10 and bounded.count == 1000 and bounded.max == 999


def test_figures() -> None:
    collector = StatsCollector()
    for record in run_classifiers(session_records()):
        collector.add(record)
    figures = collector.figures()
    assert figures["sessions"]["total"] == 1
    assert figures["upgrade"]["upgraded"] == 1 and figures["upgrade"]["upgraded_pct"] == 100.0
    assert figures["upgrade"]["time"]["max"] == pytest.approx(0.4)
    assert figures["transport"]["sessions_final"][0]["name"] == "websocket"
    assert figures["clients"]["browser"][0] == {"name": "Chrome", "count": 1, "pct": 100.0}
    assert figures["latency"]["heartbeat"]["p50"] == pytest.approx(0.003)
    assert figures["latency"]["ack"]["count"] == 1
    assert figures["latency"]["ack_by_event"][0]["event"] == "chat"
    events = {e["event"]: e for e in figures["events"]["by_count"]}
    assert events["chat"]["count_c2s"] == 1 and events["chat"]["acks"] == 1
    assert events["news"]["count_s2c"] == 1 and events["news"]["attachments"] == 1
    assert figures["errors"]["by_kind"][0] == {"name": "decode", "count": 1, "pct": 100.0}


def test_without_classifiers_ack_rtt_still_counted() -> None:
    collector = StatsCollector()
    for record in session_records():
        collector.add(record)
    assert collector.figures()["latency"]["ack"]["count"] == 1


def test_formats() -> None:
    records = run_classifiers(session_records())
    text = run_sink(records)
    assert "Transports" in text and "Top events by count" in text and "chat" in text
    data = json.loads(run_sink(records, format="json"))
    assert data["upgrade"]["upgraded"] == 1
    markdown = run_sink(records, format="md")
    assert "| transport |" in markdown and "---:" in markdown
    rich = run_sink(records, color=True)
    assert "\x1b[" in rich and "Transports" in rich
    with pytest.raises(ValueError):
        StatsSinkFactory().open(SinkContext(stream=io.StringIO(), options={"format": "xml"}))


def test_chart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    chart = tmp_path / "stats.html"
    run_sink(run_classifiers(session_records()), chart=str(chart))
    page = chart.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 5
    assert "<script" not in page


def test_snapshot_before_the_end() -> None:
    sink = StatsSinkFactory().open(SinkContext(stream=io.StringIO(), options={"format": "json"}))
    for record in run_classifiers(session_records()[:3]):
        sink.write(record)
    assert json.loads(sink.snapshot())["latency"]["ack"]["count"] == 1


def hostile_records() -> list[Record]:
    event = sio("EVENT", 1.0, "c2s", event=HOSTILE, args=[HOSTILE], id=1, nsp="/" + HOSTILE)
    return run_classifiers(
        [
            handshake(0.9, parent=ws_chunk(0.9, "s2c", ua=HOSTILE)),
            event,
            sio("ACK", 1.1, "s2c", id=1, answers=event, nsp="/" + HOSTILE),
            sio("CONNECT_ERROR", 1.0, "s2c", data={"message": HOSTILE}),
            ErrorRecord(ts=1.0, sid="s1", layer="x", rule="x.y", reason=HOSTILE),
        ]
    )


@pytest.mark.parametrize(
    ("fmt", "color"), [("text", False), ("text", True), ("md", False), ("json", False)]
)
def test_hostile_names_are_escaped(fmt: str, color: bool) -> None:
    out = run_sink(hostile_records(), format=fmt, color=color)
    assert_safe(out)
    if fmt != "json":
        assert "boom" in out


def test_hostile_names_in_chart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    chart = tmp_path / "c.html"
    run_sink(hostile_records(), chart=str(chart))
    page = chart.read_text()
    assert_safe(page.replace("\n", ""))
    assert "<bold" not in page and not re.search(
        r"<(?!/?(?:svg|text|rect|h1|h2|p|html|head|body|meta|title|style)\b|!DOCTYPE)", page
    )
