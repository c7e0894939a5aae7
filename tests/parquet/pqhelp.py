"""Helpers of the Parquet tests: running the CLI, reading tables back, the jsonl mapping."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from clirun import start_ioproto

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))

from ioproto_parquet.schema import TABLES, TAGS, table_named, tag_column  # noqa: E402

from ioproto.cli import build_cli, register_plugin_commands  # noqa: E402
from ioproto.cli.state import CliState  # noqa: E402
from ioproto.jsonform import from_jsonable  # noqa: E402
from ioproto.plugins import make_plugin_manager  # noqa: E402

DATA = ROOT / "tests" / "data"
CAPTURES = sorted(
    [*DATA.glob("*.pcap"), *(DATA / "har").glob("*.har"), ROOT / "examples" / "chat.pcap"]
)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
#: Columns the jsonl form does not have (derived from links; docs/formats.md).
DERIVED = frozenset({"answers_event", "answers_ts"})


def invoke(args: list[str], input: str | None = None) -> Result:
    """``ioproto ARGS`` with the installed plugins and the example game protocol (as a user
    who installed docs/examples/ioproto-game has it: game.pcap decodes to the app layer)."""
    import ioproto_example_game

    pm = make_plugin_manager()
    pm.register(ioproto_example_game)
    cli = build_cli()
    register_plugin_commands(pm, cli)
    return CliRunner().invoke(cli, args, input=input, obj=CliState(plugin_manager=pm))


def assert_mistake(result: Result, *expected: str) -> str:
    """Status 2, nothing on stdout and one line on stderr, ``ioproto: error: …`` holding
    every ``expected`` text (what tests/core/test_mistakes.py checks of the real command)."""
    lines = result.stderr.splitlines()
    assert (result.exit_code, result.stdout, len(lines)) == (2, "", 1), result.output
    assert lines[0].startswith("ioproto: error: "), lines[0]
    assert [text for text in expected if text not in lines[0]] == [], lines[0]
    return lines[0]


def micros(value: Any) -> int | None:
    """A timestamp read back (datetime) as integer microseconds since the epoch."""
    if value is None:
        return None
    delta: datetime.timedelta = value - EPOCH
    return delta // datetime.timedelta(microseconds=1)


def read_rows(root: Path, capture: str) -> dict[int, tuple[str, dict[str, Any]]]:
    """Every row of ``capture`` under ``root``: record_index → (table, row as a dict)."""
    from ioproto_parquet.store import connect

    connection = connect([str(root)])
    rows: dict[int, tuple[str, dict[str, Any]]] = {}
    for table in TABLES:
        result = connection.execute(
            f'SELECT * FROM "{table.name}" WHERE capture = ? ORDER BY record_index', [capture]
        )
        names = [column[0] for column in result.description]
        for values in result.fetchall():
            row = dict(zip(names, values, strict=True))
            assert row["record_index"] not in rows
            rows[row["record_index"]] = (table.name, row)
    return rows


def ts_micros(seconds: float) -> int:
    return round(seconds * 1_000_000)


def _pairs(value: list[list[str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": item} for name, item in value]


def expected_column(kind: str, value: Any) -> Any:
    """A jsonl value as the documented mapping stores it in a column of ``kind``."""
    if value is None:
        return None
    if kind == "ts":
        return ts_micros(value)
    if kind == "bytes":
        return from_jsonable(value)
    if kind == "json":
        return value  # compared after json.loads of the column
    if kind == "name":
        return value if isinstance(value, str) else str(value)
    if kind == "float":
        return float(value)
    if kind == "pairs":
        return _pairs(value)
    if kind == "http":
        return {
            **value,
            "query": _pairs(value["query"]),
            "headers": _pairs(value["headers"]),
            "request_headers": _pairs(value["request_headers"]),
            "request_ts": ts_micros(value["request_ts"])
            if value["request_ts"] is not None
            else None,
        }
    return value


def actual_column(kind: str, value: Any) -> Any:
    """A column value read back, in the form :func:`expected_column` gives."""
    if value is None:
        return None
    if kind == "ts":
        return micros(value)
    if kind == "json":
        return json.loads(value)
    if kind == "http":
        return {**value, "request_ts": micros(value["request_ts"])}
    return value


def compare(obj: dict[str, Any], table_name: str, row: dict[str, Any]) -> None:
    """Assert that ``row`` holds exactly the jsonl object ``obj``, field by field."""
    table = table_named(table_name)
    kinds = {column.name: column.kind for column in table.all_columns()}
    covered = {"record_index", "capture", "date", *DERIVED}
    extra = json.loads(row["extra"]) if row["extra"] is not None else {}
    tags_extra = json.loads(row["tags_extra"]) if row["tags_extra"] is not None else {}
    covered |= {"extra", "tags_extra"}
    for key, value in obj.items():
        where = f"{table_name} row {row['record_index']} field {key}"
        if key == "tags":
            for tag, tag_value in value.items():
                column = tag_column(tag)
                if tag in TAGS and row[column] is not None:
                    assert expected_column(TAGS[tag], tag_value) == row[column], where
                    covered.add(column)
                else:
                    assert tags_extra.pop(tag) == tag_value, where
            continue
        if key == "data" and table_name == "engineio" and isinstance(value, dict):
            assert from_jsonable(value) == row["data_bytes"], where
            covered.add("data_bytes")
            continue
        if key in kinds and (row[key] is not None or key not in extra):
            expected = expected_column(kinds[key], value)
            assert expected == actual_column(kinds[key], row[key]), where
            covered.add(key)
        else:
            assert extra.pop(key) == value, where
    assert extra == {}, f"{table_name}: extra holds more than jsonl: {extra}"
    assert tags_extra == {}, f"{table_name}: tags_extra holds more than jsonl: {tags_extra}"
    if "notes" in kinds and "notes" not in obj:
        assert row["notes"] == [], row["notes"]
        covered.add("notes")
    for name, value in row.items():
        if name not in covered:
            assert value is None, f"{table_name}.{name} = {value!r}, not in jsonl {obj}"


def interrupted(args: list[str], after: float) -> tuple[int, str, str]:
    """``ioproto ARGS`` in a process group of its own, sent Ctrl-C (SIGINT to the group, as
    a terminal sends it) ``after`` seconds: (status, stdout, stderr). The command must still
    be running then."""
    process = start_ioproto(
        *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        time.sleep(after)
        assert process.poll() is None, "the command ended before Ctrl-C"
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    return process.returncode, stdout, stderr
