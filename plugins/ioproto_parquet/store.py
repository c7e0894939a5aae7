"""Opening Parquet output directories in DuckDB: one view per table. Public API.

:func:`connect` gives an in-memory DuckDB connection with a view per table of
:mod:`ioproto_parquet.schema` (``chunks``, ``engineio``, ``socketio``, ``sessions``,
``errors``, ``app``, ``other``) reading every complete capture under the given roots
(those with a completion record; see :mod:`ioproto_parquet.manifest`), plus
``records``: the columns every table has, from all of them. The partition columns
``capture`` (text) and ``date`` come last. A table with no files anywhere is an empty view
of the documented columns, so a query may name any table. Roots may be local directories or
URLs DuckDB reads (``s3://bucket/archive``, ``https://…``; see docs/analytics.md for
credentials). A root given twice (``archive``, ``archive/``, ``./archive`` or a symbolic
link to it) is read once: :func:`distinct_roots`. Times are shown in UTC.

Other plugins (``ioproto stats --from``) and embedding code may import this module.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .manifest import OutputDir
from .schema import COMMON, TABLES, TRAILING, Column, Table

T = TypeVar("T")

if TYPE_CHECKING:
    import duckdb

_SQL_TYPES = {
    "text": "VARCHAR",
    "name": "VARCHAR",
    "json": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "ts": "TIMESTAMPTZ",
    "bytes": "BLOB",
    "texts": "VARCHAR[]",
    "pairs": "STRUCT(name VARCHAR, value VARCHAR)[]",
}
_SQL_TYPES["http"] = (
    "STRUCT(method VARCHAR, target VARCHAR, path VARCHAR, query {pairs}, status BIGINT, "
    "reason VARCHAR, headers {pairs}, request_headers {pairs}, request_ts TIMESTAMPTZ)"
).format(pairs=_SQL_TYPES["pairs"])
_PARTITION_SQL = "CAST(NULL AS VARCHAR) AS capture, CAST(NULL AS DATE) AS date"


class StoreError(Exception):
    """A root that cannot be read as an output directory (the message says what to do)."""


def is_url(root: str) -> bool:
    """Whether ``root`` is a URL (``s3://…``, ``https://…``) rather than a local path."""
    return "://" in root


def distinct_roots(roots: Sequence[str]) -> list[str]:
    """``roots`` without repeats, in the order of their first appearance: local roots that
    are the same directory (same real path) and URLs that differ only in a trailing ``/``
    are one root. A directory is a set of tables; naming it twice must not count its rows
    twice."""
    seen: set[str] = set()
    distinct: list[str] = []
    for root in roots:
        key = root.rstrip("/") if is_url(root) else os.path.realpath(root)
        if key not in seen:
            seen.add(key)
            distinct.append(root)
    return distinct


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _empty_view(table: Table) -> str:
    columns = ", ".join(
        f"CAST(NULL AS {_SQL_TYPES[column.kind]}) AS {_ident(column.name)}"
        for column in table.all_columns()
    )
    return f"SELECT {columns}, {_PARTITION_SQL} WHERE false"


def _sources(roots: Sequence[str], table: Table) -> list[str]:
    """What to read for ``table``: in a local directory with completion records, the files
    of complete captures only (an interrupted capture's files stay invisible); elsewhere
    (a URL, a directory of Parquet copied without them) every file the pattern matches."""
    found: list[str] = []
    for root in roots:
        pattern = f"{root.rstrip('/')}/{table.name}/*/*/*.parquet"
        output = OutputDir(root)
        if not is_url(root) and output.captures_dir.is_dir():
            prefix = f"{table.name}/"
            found.extend(
                str(output.root / name)
                for record in output.records()
                for name in record.get("files", [])
                if isinstance(name, str)
                and name.startswith(prefix)
                and (output.root / name).is_file()
            )
        elif is_url(root) or glob.glob(pattern):
            found.append(pattern)
    return found


def check_roots(roots: Sequence[str], *, file_hint: str = "") -> None:
    """Raise :class:`StoreError` for a local root that is missing or holds no tables;
    ``file_hint`` ends the message for a root that is a file (a capture, say)."""
    for root in roots:
        if is_url(root):
            continue
        if os.path.isfile(root):
            hint = file_hint.format(file=root) or (
                f"`ioproto decode --sink parquet:DIR {root}` writes one"
            )
            raise StoreError(f"{root} is a file, not a directory of Parquet tables; {hint}")
        if not os.path.isdir(root):
            raise StoreError(f"{root}: no such directory")
        has_tables = any(_sources([root], table) for table in TABLES)
        if not has_tables and not OutputDir(root).captures_dir.is_dir():
            raise StoreError(
                f"{root} holds no ioproto Parquet tables; write them with "
                f"`ioproto decode --sink parquet:{root} CAPTURE...`"
            )


def incomplete_captures(roots: Sequence[str]) -> list[str]:
    """``root: capture`` for each capture with files but no completion record (each root
    once: :func:`distinct_roots`)."""
    return [
        f"{root}: {capture}"
        for root in distinct_roots(roots)
        if not is_url(root)
        for capture in OutputDir(root).incomplete_captures()
    ]


def connect(roots: Sequence[str]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the views described in the module docstring
    (each root read once: :func:`distinct_roots`)."""
    import duckdb

    roots = distinct_roots(roots)
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    for table in TABLES:
        patterns = _sources(roots, table)
        source = _empty_view(table)
        if patterns:
            listed = "[" + ", ".join(_literal(pattern) for pattern in patterns) + "]"
            reader = (
                f"SELECT * FROM read_parquet({listed}, hive_partitioning = true, "
                "union_by_name = true, hive_types = {'capture': VARCHAR, 'date': DATE})"
            )
            try:
                connection.execute(f"SELECT * FROM ({reader}) LIMIT 0")
                source = reader
            except duckdb.IOException as exc:
                if "No files found" not in str(exc):
                    raise
        connection.execute(f"CREATE VIEW {_ident(table.name)} AS {source}")
    shared: tuple[Column, ...] = (*COMMON, *TRAILING)
    names = ", ".join(_ident(column.name) for column in shared) + ", capture, date"
    union = " UNION ALL ".join(
        f"SELECT {_literal(table.name)} AS source_table, {names} FROM {_ident(table.name)}"
        for table in TABLES
    )
    connection.execute(f"CREATE VIEW records AS {union}")
    return connection


def interruptible(connection: duckdb.DuckDBPyConnection, work: Callable[[], T]) -> T:
    """``work()`` (DuckDB calls on ``connection``), stopped by Ctrl-C.

    DuckDB runs a query without returning to Python, so Python's Ctrl-C handler would run
    only once the query is done (a long query ran to its end, then printed its rows). The
    work runs in a thread while this one waits; Ctrl-C here interrupts the query and raises
    :class:`KeyboardInterrupt`.
    """
    outcome: list[Any] = []
    # An Event, not Thread.join: a join that Ctrl-C interrupts may take the thread for
    # ended while it still runs (CPython before 3.13), and the interpreter would then exit
    # under DuckDB's feet (an abort: "terminate called ...").
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as exc:  # handed over to the waiting thread, raised there
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="duckdb-query", daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        connection.interrupt()
        done.wait(5)
        raise
    succeeded, value = outcome[0]
    if not succeeded:
        raise value
    result: T = value
    return result
