"""``ioproto query``: views, output formats, mistakes, escaping, interrupted captures."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import IOPROTO
from pqhelp import ROOT, assert_mistake, interrupted, invoke

CHAT = ROOT / "examples" / "chat.pcap"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("query")
    assert invoke(["decode", "--jobs", "1", "--sink", f"parquet:{out}", str(CHAT)]).exit_code == 0
    return out


SQL = "SELECT capture, type, count(*) AS n FROM socketio GROUP BY ALL ORDER BY n DESC, type"


def test_formats_agree(archive: Path) -> None:
    as_json = json.loads(invoke(["query", "--format", "json", SQL, str(archive)]).stdout)
    lines = invoke(["query", "--format", "jsonl", SQL, str(archive)]).stdout.splitlines()
    rows = list(
        csv.DictReader(io.StringIO(invoke(["query", "--format", "csv", SQL, str(archive)]).stdout))
    )
    table = invoke(["query", SQL, str(archive)]).stdout
    assert as_json == [json.loads(line) for line in lines]
    assert [{**row, "n": int(row["n"])} for row in rows] == as_json
    assert as_json[0] == {"capture": "chat.pcap", "type": "EVENT", "n": 80}
    assert "chat.pcap" in table and "EVENT" in table and "80" in table


def test_every_table_is_a_view_even_without_files(archive: Path) -> None:
    result = invoke(
        [
            "query",
            "--format",
            "jsonl",
            "SELECT (SELECT count(*) FROM errors) AS errors, (SELECT count(*) FROM app) AS app, "
            "(SELECT count(*) FROM records) AS records",
            str(archive),
        ]
    )
    assert json.loads(result.stdout) == {"errors": 0, "app": 0, "records": 123}
    described = invoke(["query", "--format", "jsonl", "DESCRIBE errors", str(archive)])
    names = [json.loads(line)["column_name"] for line in described.stdout.splitlines()]
    assert names[:3] == ["record_index", "ts", "layer"] and names[-2:] == ["capture", "date"]


def test_the_same_directory_twice_counts_once(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory is a set of tables: naming it again (another spelling, a symbolic link)
    adds nothing; a URL with and without its trailing slash is one root too."""
    from ioproto_parquet.store import distinct_roots

    alias = tmp_path / "alias"
    alias.symlink_to(archive)
    monkeypatch.chdir(archive.parent)
    spellings = [archive.name, f"{archive.name}/", f"./{archive.name}", str(alias), str(archive)]
    sql = "SELECT count(*) AS n FROM records"
    result = invoke(["query", "--format", "jsonl", sql, *spellings])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"n": 123}
    assert result.stderr == ""
    urls = ["s3://b/archive", "s3://b/archive/", "s3://b/other"]
    assert distinct_roots([*urls, *spellings]) == [urls[0], urls[2], archive.name]


def test_times_and_bytes_in_json(archive: Path) -> None:
    result = invoke(
        [
            "query",
            "--format",
            "jsonl",
            "SELECT ts, data FROM chunks ORDER BY record_index LIMIT 1",
            str(archive),
        ]
    )
    row = json.loads(result.stdout)
    assert row["ts"].startswith("2026-11-26T") and row["ts"].endswith("+00:00")
    assert set(row["data"]) == {"$bytes"}


def test_mistakes_are_usage_errors(archive: Path, tmp_path: Path) -> None:
    bad_sql = invoke(["query", "SELEC 1", str(archive)])
    assert bad_sql.exit_code == 2 and "query failed: Parser Error" in bad_sql.output
    assert "Traceback" not in bad_sql.output
    missing = invoke(["query", "SELECT 1", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such directory" in missing.output
    empty = invoke(["query", "SELECT * FROM socketio WHERE false", str(archive)])
    assert empty.exit_code == 0 and "no rows" in empty.stderr


@pytest.mark.parametrize("sql", ["", "   ", ";", "/* c */", "-- c", " ; -- c\n;"])
def test_sql_without_a_statement_is_one_line(archive: Path, sql: str) -> None:
    """DuckDB runs such SQL as nothing and gives no result to read."""
    line = assert_mistake(invoke(["query", "--", sql, str(archive)]), "the SQL has no statement")
    assert f"e.g. ioproto query 'SELECT count(*) FROM socketio' {archive}" in line


def test_a_capture_or_swapped_arguments_say_what_to_type(archive: Path) -> None:
    capture = invoke(["query", "SELECT 1", str(CHAT)])
    assert capture.exit_code == 2 and "is a file, not a directory" in capture.output
    assert f"ioproto decode --sink parquet:DIR {CHAT}" in capture.output
    swapped = invoke(["query", str(archive), "SELECT count(*) FROM socketio"])
    assert swapped.exit_code == 2 and len(swapped.output.strip().splitlines()) == 1
    assert f"ioproto query 'SELECT count(*) FROM socketio' {archive}" in swapped.output


def test_a_misspelt_name_is_one_line_with_duckdbs_hint(archive: Path) -> None:
    table = invoke(["query", "SELECT * FROM socketoi", str(archive)])
    assert table.exit_code == 2 and 'Did you mean "socketio"?' in table.output
    column = invoke(["query", "SELECT evnt FROM socketio", str(archive)])
    assert column.exit_code == 2 and 'Candidate bindings: "event"' in column.output
    for result in (table, column):
        assert len(result.output.strip().splitlines()) == 1 and "LINE 1" not in result.output


def test_wire_text_is_escaped_in_tables(archive: Path) -> None:
    result = invoke(["query", "SELECT chr(27) || '[31mred' AS hostile", str(archive)])
    assert "\x1b" not in result.stdout and "\\x1b[31mred" in result.stdout


def test_an_interrupted_capture_is_named(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke(["decode", "--jobs", "1", "--sink", f"parquet:{out}", str(CHAT)]).exit_code == 0
    (out / "_ioproto" / "captures" / "chat.pcap.json").unlink()
    count = ["query", "--format", "jsonl", "SELECT count(*) AS n FROM records", str(out)]
    result = invoke(count)
    assert "chat.pcap has no completion record" in result.stderr
    assert json.loads(result.stdout) == {"n": 0}  # its files are not read
    again = invoke(["decode", "--sink", f"parquet:{out}", str(CHAT)])
    assert "records into" in again.output
    result = invoke(count)
    assert "completion record" not in result.stderr
    assert json.loads(result.stdout) == {"n": 123}


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("COPY (SELECT * FROM socketio) TO '{out}'", "COPY:"),
        ("COPY socketio TO '{out}' (FORMAT parquet)", "COPY:"),
        ("EXPORT DATABASE '{out}'", "EXPORT:"),
        ("SELECT 1; DROP VIEW socketio", "statement 2 (DROP):"),
        ("SELECT 1;\n/* then */ copy socketio TO '{out}';", "statement 2 (COPY):"),
        ("INSTALL httpfs", "INSTALL:"),
        ("LOAD httpfs", "LOAD:"),
        ("ATTACH '{out}' AS other", "ATTACH:"),
        ("SET enable_external_access = true", "SET:"),
        ("PRAGMA version", "PRAGMA:"),
        ("CALL pragma_version()", "CALL:"),
        ("CREATE TABLE t AS SELECT 1", "CREATE:"),
        ("EXPLAIN ANALYZE COPY (SELECT 42) TO '{out}'", "EXPLAIN COPY:"),
        ("EXPLAIN (FORMAT json) CREATE TABLE t AS SELECT 1", "EXPLAIN CREATE:"),
        ("PIVOT socketio ON type", "PIVOT that DuckDB runs as several statements"),
        ("UPDATE EXTENSIONS", "UPDATE:"),
    ],
)
def test_statements_that_do_more_than_read_are_refused(
    archive: Path, tmp_path: Path, sql: str, named: str
) -> None:
    """`query` is an inspection: a statement that writes, installs, attaches or changes a
    setting is refused before anything runs, naming its kind; nothing is written."""
    out = tmp_path / "out"
    line = assert_mistake(
        invoke(["query", "--", sql.format(out=out), str(archive)]), named, "query only reads"
    )
    assert ("--format csv" in line) == ("COPY" in named or "EXPORT" in named)
    assert not out.exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) AS n FROM socketio",
        "WITH e AS (SELECT * FROM socketio) SELECT count(*) AS n FROM e",
        "FROM socketio SELECT count(*) AS n",
        "VALUES (1), (2)",
        "DESCRIBE socketio",
        "SHOW TABLES",
        "SUMMARIZE sessions",
        "EXPLAIN SELECT count(*) FROM socketio",
        "EXPLAIN ANALYZE SELECT count(*) FROM socketio",
        "EXPLAIN (FORMAT json) SELECT 1",
        "PIVOT socketio ON type IN ('EVENT', 'ACK') USING count(*) GROUP BY capture",
        "SELECT 1; -- a comment\nSELECT 2 AS two;",
    ],
)
def test_statements_that_read_run(archive: Path, sql: str) -> None:
    result = invoke(["query", "--format", "jsonl", sql, str(archive)])
    assert result.exit_code == 0, result.output
    assert result.stdout


def test_sql_reads_no_file_outside_the_directories(archive: Path, tmp_path: Path) -> None:
    """Functions inside a SELECT reach only the files under the DIRs given: no other file
    is read or listed, and the lock cannot be undone from the SQL."""
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    for sql in (
        f"SELECT * FROM read_csv('{secret}')",
        f"SELECT * FROM read_text('{secret}')",
        f"SELECT * FROM glob('{tmp_path}/*')",
        "SELECT * FROM read_parquet('https://127.0.0.1:1/x.parquet')",
    ):
        assert_mistake(invoke(["query", sql, str(archive)]), "Permission Error", "under DIR only")
    inside = next(archive.glob("socketio/*/*/*.parquet"))
    sql = f"SELECT (FROM '{inside}' SELECT count(*)) = (FROM socketio SELECT count(*)) AS same"
    result = invoke(["query", "--format", "jsonl", sql, str(archive)])
    assert json.loads(result.stdout) == {"same": True}


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_ctrl_c_stops_a_long_query(archive: Path, fmt: str) -> None:
    """DuckDB runs a query without returning to Python: Ctrl-C used to wait for its end
    (minutes) and then print the rows. It interrupts the query: quietly, status 130."""
    sql = "SELECT sum(range) FROM range(100000000000)"  # minutes of work
    status, stdout, stderr = interrupted(["query", "--format", fmt, sql, str(archive)], 3)
    assert status == 130, (status, stderr)
    assert stdout == "" and stderr == ""


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_a_large_result_is_written_in_bounded_memory(archive: Path, fmt: str) -> None:
    """Every row used to be fetched into Python objects before the first was written
    (about 300 bytes a row: 3 GB for 10 million); rows now go out a batch at a time."""
    sql = "SELECT range, repeat('x', 40) AS text FROM range(1000000)"
    measure = (
        "import resource, subprocess, sys\n"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    command = [*IOPROTO, "query", "--format", fmt, sql, str(archive)]
    done = subprocess.run(
        [sys.executable, "-c", measure, *command], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    peak_mib = int(done.stdout) / 1024
    assert peak_mib < 160, peak_mib  # 250 MiB (csv) to 1 GiB (json) before; 85 now
