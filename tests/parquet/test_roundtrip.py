"""A capture decoded to Parquet and read back gives the same records as jsonl.

For every bundled capture, each jsonl record is compared field by field with its row,
through the mapping documented in docs/formats.md ("Parquet"): times in microseconds, bytes
as binary, JSON payloads as JSON text, tags as typed columns, anything else in ``extra``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pqhelp import CAPTURES, compare, invoke, read_rows


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
def test_parquet_gives_the_jsonl_records(capture: Path, tmp_path: Path) -> None:
    jsonl = invoke(["decode", "--sink", "jsonl", str(capture)])
    assert jsonl.exit_code == 0, jsonl.output
    expected = [json.loads(line) for line in jsonl.stdout.splitlines()]
    out = tmp_path / "out"
    result = invoke(["decode", "--jobs", "1", "--sink", f"parquet:{out}", str(capture)])
    assert result.exit_code == 0, result.output
    rows = read_rows(out, capture.name)
    assert sorted(rows) == list(range(len(expected)))
    for index, obj in enumerate(expected):
        table, row = rows[index]
        compare(obj, table, row)


@pytest.mark.parametrize(
    "capture",
    [path for path in CAPTURES if path.name in ("chat.pcap", "game.pcap", "chromium-socketio.har")],
    ids=lambda path: path.name,
)
def test_every_layer_with_raw_bytes(capture: Path, tmp_path: Path) -> None:
    options = ["--all-layers", "--proto", "app", "--sink-option", "raw=true"]
    jsonl = invoke(["decode", *options, "--sink", "jsonl", str(capture)])
    assert jsonl.exit_code == 0, jsonl.output
    expected = [json.loads(line) for line in jsonl.stdout.splitlines()]
    out = tmp_path / "out"
    result = invoke(["decode", "--jobs", "1", *options, "--sink", f"parquet:{out}", str(capture)])
    assert result.exit_code == 0, result.output
    rows = read_rows(out, capture.name)
    tables = {table for table, _row in rows.values()}
    assert {"chunks", "engineio", "socketio", "sessions"} <= tables
    assert len(rows) == len(expected)
    for index, obj in enumerate(expected):
        table, row = rows[index]
        compare(obj, table, row)
