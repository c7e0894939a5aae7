"""``ioproto query "SQL" DIR...``: SQL over Parquet output directories, with DuckDB."""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import io
import json
import os
import shlex
import shutil
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

import click

from ioproto.render import hex_preview, safe_text

FORMATS = ("table", "csv", "json", "jsonl")


@click.command("query")
@click.argument("sql")
@click.argument("roots", nargs=-1, required=True, metavar="DIR...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="table: for people; csv; json: one array; jsonl: one object per line.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(1),
    default=200,
    show_default=True,
    help="Rows the table format shows (csv and json write every row).",
)
def query_command(sql: str, roots: Sequence[str], fmt: str, max_rows: int) -> None:
    """Run SQL over the Parquet tables that `--sink parquet:DIR` wrote.

    Each table is a view: chunks, engineio, socketio, sessions, errors, app, other, and
    records (the columns all tables share). Every view has the partition columns capture
    and date. DIR may also be an object-storage URL DuckDB reads (s3://bucket/archive).
    `DESCRIBE socketio` lists a table's columns; docs/analytics.md has example questions.
    It only reads: statements other than SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW,
    SUMMARIZE and EXPLAIN are refused, and SQL reads no file outside the DIRs.

    \b
    Examples:
      ioproto query "SELECT type, count(*) FROM socketio GROUP BY type" out/
      ioproto query --format csv "SELECT * FROM sessions" out/ > sessions.csv
      ioproto query "SELECT client_name, count(*) FROM sessions
                     WHERE NOT upgraded GROUP BY ALL" out/
    """
    import duckdb

    from .readonly import lock, refusal
    from .store import StoreError, check_roots, connect, incomplete_captures, interruptible

    if _looks_swapped(sql, roots):
        raise click.UsageError(
            f"the SQL comes first, then the directories: ioproto query {shlex.quote(roots[0])} "
            f"{' '.join(shlex.quote(arg) for arg in (sql, *roots[1:]))}"
        )
    if not _has_statement(sql):
        raise click.UsageError(
            "the SQL has no statement (only blanks, comments or ';'); give one, e.g. "
            f"ioproto query 'SELECT count(*) FROM socketio' {' '.join(map(shlex.quote, roots))}"
        )
    refused = refusal(sql)
    if refused is not None:
        raise click.UsageError(refused)
    try:
        check_roots(roots)
    except StoreError as exc:
        raise click.UsageError(str(exc)) from None
    for item in incomplete_captures(roots):
        click.echo(
            f"ioproto: warning: {item} has no completion record (an interrupted run?); "
            "rerun the decode to finish it",
            err=True,
        )
    try:
        connection = connect(roots)
        lock(connection, roots)
        result = interruptible(connection, lambda: connection.execute(sql))
        columns = [column[0] for column in result.description or ()]
        if not columns:
            return  # no result set to show

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            # A batch at a time: the rows of a large result are never all in memory.
            while batch := interruptible(connection, lambda: result.fetchmany(_BATCH_ROWS)):
                yield batch

        if fmt == "table":
            rows = interruptible(connection, lambda: result.fetchmany(max_rows + 1))
            _write_table(columns, rows, max_rows)
            written = len(rows)
        else:
            written = _WRITERS[fmt](sys.stdout, columns, batches())
    except duckdb.PermissionException as exc:
        raise click.UsageError(
            f"query failed: {_one_line(exc)} (ioproto query reads the files under DIR only)"
        ) from None
    except duckdb.Error as exc:
        raise click.UsageError(f"query failed: {_one_line(exc)}") from None
    if not written:
        click.echo("ioproto: the query returned no rows", err=True)


#: Rows fetched from DuckDB at a time by the formats that write every row.
_BATCH_ROWS = 2048

Rows = Iterable[list[tuple[Any, ...]]]


def _write_table(columns: list[str], rows: list[tuple[Any, ...]], max_rows: int) -> None:
    out = sys.stdout
    terminal = out.isatty()
    width = shutil.get_terminal_size().columns if terminal else None
    out.write(render_table(columns, rows[:max_rows], color=terminal, width=width))
    if len(rows) > max_rows:
        click.echo(f"(more than {max_rows} rows; --max-rows N or --format csv)", err=True)


def _write_csv(out: IO[str], columns: list[str], batches: Rows) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for batch in batches:
        writer.writerows([[_csv_cell(value) for value in row] for row in batch])
        count += len(batch)
    return count


def _objects(columns: list[str], batches: Rows) -> Iterator[dict[str, Any]]:
    for batch in batches:
        for row in batch:
            yield dict(zip(columns, map(jsonable, row), strict=True))


def _write_json(out: IO[str], columns: list[str], batches: Rows) -> int:
    """One array, laid out as ``json.dumps(rows, indent=1)`` lays it out, row by row."""
    count = 0
    for count, obj in enumerate(_objects(columns, batches), 1):
        text = json.dumps(obj, indent=1, ensure_ascii=False).replace("\n", "\n ")
        out.write(("[\n " if count == 1 else ",\n ") + text)
    out.write("\n]\n" if count else "[]\n")
    return count


def _write_jsonl(out: IO[str], columns: list[str], batches: Rows) -> int:
    count = 0
    for obj in _objects(columns, batches):
        out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


_WRITERS: dict[str, Callable[[IO[str], list[str], Rows], int]] = {
    "csv": _write_csv,
    "json": _write_json,
    "jsonl": _write_jsonl,
}


def jsonable(value: Any) -> Any:
    """A DuckDB result value as JSON: times as ISO 8601, bytes as ``{"$bytes": …}``."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return str(value)


def _csv_cell(value: Any) -> Any:
    converted = jsonable(value)
    if isinstance(converted, dict | list):
        return json.dumps(converted, ensure_ascii=False, separators=(",", ":"))
    return "" if converted is None else converted


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray | memoryview):
        return hex_preview(bytes(value))
    converted = jsonable(value)
    if isinstance(converted, str):
        text = converted
    else:
        text = json.dumps(converted, ensure_ascii=False, separators=(",", ":"))
    text = safe_text(text)
    return text if len(text) <= 80 else text[:79] + "…"


def render_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], *, color: bool, width: int | None
) -> str:
    """Rows as a rich table, as wide as its cells need, at most ``width`` (a terminal's);
    every cell escaped (text from the wire never reaches the terminal as control
    characters or markup)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    cells = [[_cell(value) for value in row] for row in rows]
    headers = [safe_text(column) for column in columns]
    natural = sum(
        max([len(header), *(len(row[index]) for row in cells)]) + 3
        for index, header in enumerate(headers)
    )
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=min(natural + 1, width or natural + 1),
        highlight=False,
        markup=False,
        emoji=False,
    )
    table = Table(show_lines=False, header_style="bold" if color else None)
    for header in headers:
        table.add_column(Text(header), overflow="fold")
    for row in cells:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    return buffer.getvalue()


def _looks_swapped(sql: str, roots: Sequence[str]) -> bool:
    """Whether the user put a directory where the SQL goes and the SQL after it."""
    return (
        os.path.isdir(sql)
        and not os.path.isdir(roots[0])
        and any(char.isspace() for char in roots[0])
    )


def _has_statement(sql: str) -> bool:
    """Whether ``sql`` holds a statement to run, not only blanks, comments and semicolons
    (DuckDB runs those as nothing and gives no result). SQL that does not parse counts as
    a statement: running it says what is wrong."""
    import duckdb

    try:
        return bool(duckdb.connect(":memory:").extract_statements(sql))
    except (duckdb.Error, ValueError):  # ValueError: a kind the module cannot name
        return True


def _one_line(exc: Exception) -> str:
    """DuckDB's message on one line: the error and its hint (``Did you mean "socketio"?``,
    ``Candidate bindings: ...``), without the query excerpt and its caret."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith("LINE ") and set(line) != {"^"}]
    return " ".join(kept[:2]) or type(exc).__name__
