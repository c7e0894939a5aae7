"""A sharded run's capture read once (ioproto.split): the dispatcher hands every frame to
exactly one worker, all frames of a connection to the same one, never below a floor it
told; and the workers' records are those of one process."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_engineio.records import CLIENT_SILENT
from ioproto_pcap import split as pcap_split
from ioproto_pcap.files import FrameReader
from ioproto_pcap.link import parse_frame

import ioproto
from core.pendingping import server_timeout_at
from ioproto import split
from ioproto.components import SourceContext
from ioproto.jsonform import dumps
from ioproto.model import INPUT_SUMMARY_LAYER
from ioproto.pipeline import Pipeline
from ioproto.worker import source_records

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURES = sorted(path.name for path in DATA.glob("*.pcap"))


def sharded(path: str, jobs: int, **options: str) -> list[str]:
    records = ioproto.decode(
        path,
        proto="socketio",
        classifiers=None,
        source_options={"parallel_min_bytes": "0", "shard": "true", **options},
        jobs=jobs,
    )
    return [dumps(record, include_raw=True) for record in records]


def pipeline_source(pipeline: Pipeline) -> Any:
    from ioproto.plugins import collect_components

    assert pipeline.plugin_manager is not None
    return collect_components(pipeline.plugin_manager).sources.get("pcap")


def dispatched(path: str, workers: int, **options: str) -> list[list[tuple[list[Any], Any]]]:
    """What the dispatcher sends each worker: ``[(items, floor), ...]`` per worker."""
    sent: list[list[tuple[list[Any], Any]]] = [[] for _ in range(workers)]

    def send(worker: int, items: list[Any], floor: int | None) -> None:
        sent[worker].append((list(items), floor))

    reading = pcap_split.CaptureSplit(path, SourceContext(options=options))
    reading.dispatch(split.UnitSender(workers, send))
    return sent


def connection_of(unit: Any) -> tuple[Any, ...] | None:
    if type(unit[0]) is not float:
        return None
    segment = parse_frame(unit[1], unit[2])
    if not isinstance(segment, tuple) or len(segment) != 8:
        return None
    src, dst, sport, dport = segment[:4]
    return tuple(sorted([(src, sport), (dst, dport)]))


def check_dispatch(sent: list[list[tuple[list[Any], Any]]], one_owner: bool = True) -> None:
    seen: dict[int, int] = {}
    owner: dict[Any, int] = {}
    for worker, messages in enumerate(sent):
        floor = 0
        for items, next_floor in messages:
            for index, unit in items:
                assert index >= floor, "a unit came below a floor already told"
                assert index not in seen, "a unit went to two workers"
                seen[index] = worker
                connection = connection_of(unit)
                if connection is not None and one_owner:
                    assert owner.setdefault(connection, worker) == worker
            if next_floor is not None:
                assert next_floor >= floor
                floor = next_floor
        assert messages and messages[-1][1] is None  # the end is told


@pytest.mark.parametrize("name", CAPTURES)
def test_every_frame_goes_to_one_worker_with_its_connection(name: str) -> None:
    path = str(DATA / name)
    sent = dispatched(path, 3)
    check_dispatch(sent)
    units = sum(len(items) for messages in sent for items, _ in messages)
    with open(path, "rb") as stream:
        frames = sum(1 for _ in FrameReader(stream))
    assert 0 < units <= frames + 2  # + the end's frame count and notices


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(CAPTURES),
    workers=st.integers(1, 5),
    route_bytes=st.sampled_from(["1", "64", "65536"]),
    route_window=st.sampled_from(["1", "3", "4096"]),
    pending=st.sampled_from(["1", "300", "8388608"]),
    batch=st.sampled_from([1, 2, 512]),
    every=st.sampled_from([1, 5, 2048]),
)
def test_dispatch_keeps_its_promises_whatever_the_budgets(
    name: str,
    workers: int,
    route_bytes: str,
    route_window: str,
    pending: str,
    batch: int,
    every: int,
) -> None:
    """Tiny routing budgets (connections decided by address at once, or kept long), tiny
    batches and floors told at every unit: still one worker per frame and connection, no
    unit below a floor told."""
    saved = split.UNIT_BATCH, split.FLOOR_EVERY
    split.UNIT_BATCH, split.FLOOR_EVERY = batch, every
    try:
        sent = dispatched(
            str(DATA / name),
            workers,
            route_bytes=route_bytes,
            route_window=route_window,
            route_pending_bytes=pending,
        )
    finally:
        split.UNIT_BATCH, split.FLOOR_EVERY = saved
    check_dispatch(sent)


def routers(monkeypatch: pytest.MonkeyPatch) -> list[split.SplitRouter]:
    made: list[split.SplitRouter] = []
    real = split.SplitRouter.__init__

    def keep(self: split.SplitRouter, *args: Any) -> None:
        real(self, *args)
        made.append(self)

    monkeypatch.setattr(split.SplitRouter, "__init__", keep)
    return made


@pytest.mark.parametrize("name", ["clients_mixed.pcap", "upgrade.pcap"])
def test_ended_connections_leave_the_table(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    made = routers(monkeypatch)
    sent = dispatched(str(DATA / name), 3)
    check_dispatch(sent)
    (router,) = made
    assert router.owners == {} and not router.finished and router.ended


def test_a_table_too_small_forgets_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for one connection: running connections are forgotten and decided again
    mid-stream (their records may then differ from one process's, as documented), but every
    frame still goes to one worker and decoding finishes."""
    made = routers(monkeypatch)
    path = str(DATA / "clients_mixed.pcap")
    check_dispatch(dispatched(path, 3, route_table_bytes="1"), one_owner=False)
    assert all(len(router.owners) <= 2 for router in made)
    records = ioproto.decode(
        path,
        proto="chunk",
        classifiers=None,
        source_options={"parallel_min_bytes": "0", "shard": "true", "route_table_bytes": "1"},
        jobs=3,
    )
    assert sum(1 for _ in records) > 0


def two_captures_in_one(path: Path) -> None:
    """clients_mixed.pcap cut before its server times ``mute`` out (core/pendingping.py),
    then upgrade.pcap one second after, as one capture: the input's last record is then
    another session's than the one waiting for a pong."""
    frames: list[tuple[float, int, bytes]] = []
    cut = server_timeout_at()
    for name in ("clients_mixed.pcap", "upgrade.pcap"):
        with open(DATA / name, "rb") as stream:
            own = [(ts, linktype, bytes(data)) for ts, linktype, data in FrameReader(stream)]
        if name == "clients_mixed.pcap":
            own = [frame for frame in own if frame[0] < cut]
        shift = frames[-1][0] + 1.0 - own[0][0] if frames else 0.0
        frames += [(ts + shift, linktype, data) for ts, linktype, data in own]
    parts = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, frames[0][1])]
    for ts, _, data in frames:
        ticks = round(ts * 1_000_000)
        parts.append(
            struct.pack("<IIII", ticks // 1_000_000, ticks % 1_000_000, len(data), len(data))
        )
        parts.append(data)
    path.write_bytes(b"".join(parts))


def test_the_end_of_input_time_is_the_whole_captures(tmp_path: Path) -> None:
    """Each worker sees only its frames; the input ends at the time of the capture's last
    record, which another worker decoded: by then a client of the first capture, cut
    before its server timed it out, is judged silent past its server's wait (the Engine.IO
    layer's ``input_ended``; by the end of its own frames it was not)."""
    path = tmp_path / "two.pcap"
    two_captures_in_one(path)
    alone = sharded(str(path), 1)
    assert any(CLIENT_SILENT in line for line in alone)
    for jobs in (2, 3, 4):
        assert sharded(str(path), jobs) == alone, f"{jobs} workers"


def test_a_failure_in_the_dispatcher_is_raised_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, sender: split.UnitSender) -> None:
        raise ValueError("dispatcher bug")

    monkeypatch.setattr(pcap_split.CaptureSplit, "dispatch", broken)
    with pytest.raises(ValueError, match="dispatcher bug"):
        sharded(str(DATA / "upgrade.pcap"), 3)


def test_a_missing_file_is_the_users_mistake(tmp_path: Path) -> None:
    from ioproto.errors import UsageError

    reading = pcap_split.CaptureSplit(str(tmp_path / "nothing.pcap"), SourceContext())
    with pytest.raises(UsageError, match="no such file"):
        reading.dispatch(split.UnitSender(2, lambda *_: None))


def test_the_summary_counts_the_whole_capture() -> None:
    """The input summary merged from the workers' counts is the one process's."""
    path = str(DATA / "clients_mixed.pcap")

    def summary(jobs: int) -> Any:
        pipeline = Pipeline.build(proto="socketio", classifiers=None)
        context = SourceContext(options={"parallel_min_bytes": "0", "shard": "true"})
        source = pipeline_source(pipeline)
        records = list(source_records(pipeline, source, path, context, jobs, only_input=True))
        found = [r for r in records if r.layer == INPUT_SUMMARY_LAYER]
        assert len(found) == 1
        return found[0]

    alone, split_up = summary(1), summary(3)
    assert split_up == alone and alone.counts["tcp_connections"] > 1


def test_the_summary_says_why_a_filtered_capture_is_empty() -> None:
    """The port filter's counts, merged: the same hint as one process gives."""
    path = str(DATA / "clients_mixed.pcap")
    assert sharded(path, 3, port="1") == sharded(path, 1, port="1") == []


class _Units:
    """A dispatcher's pipe to one worker: the messages given, then nothing."""

    def __init__(self, messages: list[Any]) -> None:
        self.messages = messages

    def recv(self) -> Any:
        return self.messages.pop(0)


class _Sent:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    def send(self, message: Any) -> None:
        self.messages.append(message)


class _ManyRecords:
    """A unit decoder whose every unit makes ``per_unit`` records (a segment full of small
    WebSocket frames)."""

    def __init__(self, per_unit: int) -> None:
        self.per_unit = per_unit

    def feed(self, index: int, unit: Any) -> list[Any]:
        return [(index, n) for n in range(self.per_unit)]


def test_a_worker_sends_its_output_in_batches_while_a_message_s_units_make_it() -> None:
    """A worker of a split read sends batches as its units make records, with a floor at
    the end of the unit just fed, not everything a message's units make at its end (a
    message of 512 segments of small frames made a million records, held at once: 16 GB)."""
    from ioproto import shard

    sent = _Sent()
    outbox = shard._Outbox(sent)  # type: ignore[arg-type]

    def feed_at(at: Any, record: Any, watermark: int | None) -> None:
        outbox.add(at, [record], watermark)

    units = _Units([("units", [(0, "a"), (1, "b"), (2, "c")], None)])
    shard._feed_units(units, _ManyRecords(shard.BATCH + 1), feed_at, outbox)  # type: ignore[arg-type]
    batches = [message for message in sent.messages if message[0] == "batch"]
    assert len(batches) >= 3  # one at least per unit, before the message's end
    for _, keys, records, floor in batches[:3]:
        assert len(records) <= 2 * shard.BATCH
        assert all(key < floor for key in keys)  # the floor promises nothing below it
