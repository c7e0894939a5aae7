"""Property tests of the Parquet mapping: any record, written and read back, is its jsonl
form (generate, write, read, compare), including values no column can hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_engineio.records import EngineIOPacket
from ioproto_http.records import Chunk, ChunkKind, HttpInfo
from ioproto_parquet.writer import CaptureWriter
from ioproto_socketio.records import SocketIOPacket
from pqhelp import compare, read_rows

from ioproto.jsonform import dumps
from ioproto.model import ErrorRecord, Packet, Record, Tag
from ioproto.testing.strategies import json_values


@attrs.frozen(slots=True, kw_only=True)
class ThirdPartyRecord(Packet):
    """A record of a layer ioproto does not know: it goes to the ``other`` table."""

    layer: str = "mqtt"
    topic: str = ""
    qos: int = 0


texts = st.text(max_size=12)  # includes lone surrogates, which UTF-8 cannot carry
big_ints = st.one_of(st.integers(-(2**70), 2**70), st.none())
times = st.floats(0, 4e9, allow_nan=False)
tags = st.lists(
    st.builds(
        Tag,
        name=st.sampled_from(["transport.kind", "latency.ack", "event.bytes", "x.custom"]),
        value=json_values(max_leaves=2),
    ),
    max_size=4,
).map(tuple)
common = {
    "ts": times,
    "connection": st.one_of(st.none(), texts),
    "direction": st.sampled_from([None, "c2s", "s2c"]),
    "sid": st.one_of(st.none(), texts),
    "tags": tags,
}
records: st.SearchStrategy[Record] = st.one_of(
    st.builds(
        SocketIOPacket,
        **common,
        type=st.sampled_from(["EVENT", "ACK"]),
        data=json_values(binary=True),
        nsp=texts,
        id=big_ints,
        event=st.one_of(st.none(), texts, st.integers(-5, 5)),
        args=st.lists(json_values(binary=True), max_size=3),
        notes=st.lists(texts, max_size=2).map(tuple),
    ),
    st.builds(
        EngineIOPacket,
        **common,
        type=st.sampled_from(["message", "ping"]),
        data=st.one_of(texts, st.binary(max_size=8)),
        index=big_ints.map(lambda value: value or 0),
    ),
    st.builds(
        ErrorRecord,
        **common,
        layer=st.sampled_from(["engineio", "capture"]),
        rule=texts,
        reason=texts,
        raw=st.binary(max_size=8),
        offset=big_ints,
    ),
    st.builds(
        Chunk,
        **common,
        kind=st.sampled_from(list(ChunkKind)),
        data=st.binary(max_size=8),
        http=st.one_of(
            st.none(),
            st.builds(
                HttpInfo,
                method=st.one_of(st.none(), texts),
                query=st.lists(st.tuples(texts, texts), max_size=2).map(tuple),
                status=st.one_of(st.none(), st.integers(100, 599)),
                request_ts=st.one_of(st.none(), times),
            ),
        ),
    ),
    st.builds(ThirdPartyRecord, **common, topic=texts, qos=big_ints.map(lambda v: v or 0)),
)


def write_and_compare(root: Path, batch: list[Record], **writer_options: Any) -> None:
    writer = CaptureWriter(root, "generated", **writer_options)
    for record in batch:
        writer.write(record)
    writer.commit()
    rows = read_rows(root, "generated")
    assert len(rows) == len(batch)
    for index, record in enumerate(batch):
        table, row = rows[index]
        compare(json.loads(dumps(record)), table, row)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batch=st.lists(records, min_size=1, max_size=12))
def test_any_record_reads_back_as_its_jsonl_form(batch: list[Record], tmp_path: Path) -> None:
    root = tmp_path / "generated"
    write_and_compare(root, batch, row_group_rows=3)


def test_a_tiny_byte_budget_still_gives_every_row(tmp_path: Path) -> None:
    batch: list[Record] = [
        SocketIOPacket(ts=1e9 + i * 40_000.0, type="EVENT", event="e", data=["e", "x" * 100])
        for i in range(50)
    ]
    writer = CaptureWriter(tmp_path, "budget", buffer_bytes=2000)
    for record in batch:
        writer.write(record)
    assert writer.peak_buffered_bytes <= 2000 + 2000  # one row over the budget at most
    writer.commit()
    assert writer.row_groups > 10
    rows = read_rows(tmp_path, "budget")
    assert [rows[i][1]["data"] for i in range(50)] == ['["e","' + "x" * 100 + '"]'] * 50
    assert len({rows[i][1]["date"] for i in range(50)}) > 20  # one partition per day


@pytest.mark.parametrize("bad", ["abc", "0", "-3"])
def test_bad_sink_options_are_usage_errors(bad: str, tmp_path: Path) -> None:
    from pqhelp import DATA, invoke

    result = invoke(
        [
            "decode",
            "--sink",
            f"parquet:{tmp_path}",
            "--sink-option",
            f"parquet.buffer_bytes={bad}",
            str(DATA / "ws_only.pcap"),
        ]
    )
    assert result.exit_code == 2, result.output
    assert "buffer_bytes" in result.output
