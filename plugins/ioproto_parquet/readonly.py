"""What keeps ``ioproto query`` an inspection: read-only statements, on a locked connection.

Two guards (docs/analytics.md, "What a query may do"):

* :func:`refusal` reads the SQL with DuckDB's own parser and accepts only statements that
  read: ``SELECT`` and what DuckDB parses as one (``WITH … SELECT``, a ``FROM``-first query,
  ``VALUES``, ``DESCRIBE``, ``SHOW``, ``SUMMARIZE``, ``PIVOT … IN (…)``), and ``EXPLAIN``
  (``ANALYZE`` runs the statement) of such a statement. Every statement of the SQL is checked,
  before any runs.
* :func:`lock` confines the connection's file access to the local roots it reads
  (``enable_external_access`` off, ``allowed_directories`` the roots) and locks the
  configuration, so that no function inside a ``SELECT`` reads or writes a file elsewhere,
  reaches the network or loads an extension.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

READING = "SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN"


def refusal(sql: str) -> str | None:
    """Why ``sql`` may not run (one line naming the statement that does not only read), or
    ``None`` when every statement in it reads. SQL that does not parse gets ``None``:
    running it gives DuckDB's own message."""
    import duckdb

    try:
        statements = duckdb.connect(":memory:").extract_statements(sql)
    except duckdb.Error:
        return None
    several = len(statements) > 1
    for number, statement in enumerate(statements, 1):
        kind = _writing_kind(statement)
        if kind is not None:
            return _refused(f"statement {number} ({kind})" if several else kind, kind)
    return None


def _writing_kind(statement: duckdb.Statement) -> str | None:
    """The kind of ``statement`` (its first word, as written) when it does more than read."""
    import duckdb

    first = _first_word(statement.query)
    try:
        kind = statement.type
    except ValueError:  # a kind this duckdb module has no name for (UPDATE EXTENSIONS)
        return first
    if kind == duckdb.StatementType.SELECT:
        return None
    if kind == duckdb.StatementType.EXPLAIN:
        explained = _explained(statement.query)
        try:
            inner = duckdb.connect(":memory:").extract_statements(explained or "")
        except (duckdb.Error, ValueError):
            inner = []
        if not inner:
            return f"{first} of something that is not a query"
        for each in inner:
            refused = _writing_kind(each)
            if refused is not None:
                return f"{first} {refused}"
        return None
    if kind == duckdb.StatementType.MULTI:
        # PIVOT without IN (…): DuckDB first creates a type of the values it finds
        return f"{first} that DuckDB runs as several statements (PIVOT: list the values, IN (…))"
    return first


def _tokens(sql: str) -> list[tuple[int, str]]:
    """``(offset, text)`` of each token of ``sql``, comments left out, by DuckDB's tokenizer."""
    import duckdb

    found = duckdb.tokenize(sql)
    ends = [offset for offset, _ in found[1:]] + [len(sql)]
    return [
        (offset, sql[offset:end].strip())
        for (offset, kind), end in zip(found, ends, strict=True)
        if kind != duckdb.token_type.comment
    ]


def _first_word(sql: str) -> str:
    tokens = _tokens(sql)
    return tokens[0][1].upper() if tokens else "?"


def _explained(sql: str) -> str | None:
    """The statement an ``EXPLAIN [ANALYZE] [(options)]`` statement explains."""
    tokens = _tokens(sql)
    index = 1  # past EXPLAIN
    if index < len(tokens) and tokens[index][1].upper() in ("ANALYZE", "ANALYSE"):
        index += 1
    if index < len(tokens) and tokens[index][1] == "(":
        depth = 0
        while index < len(tokens):
            depth += {"(": 1, ")": -1}.get(tokens[index][1], 0)
            index += 1
            if depth == 0:
                break
    return sql[tokens[index][0] :] if index < len(tokens) else None


def _refused(where: str, kind: str) -> str:
    said = f"{where}: ioproto query only reads (statements {READING})"
    if {"COPY", "EXPORT"} & set(kind.split()):
        said += (
            "; to write rows to a file, redirect its output: "
            "ioproto query --format csv 'SELECT …' DIR > rows.csv (or json, jsonl)"
        )
    return said


def lock(connection: duckdb.DuckDBPyConnection, roots: Sequence[str]) -> None:
    """Confine ``connection``'s file access to the local ``roots`` and lock its settings.

    With a URL among the roots, file access is left open: the object store's file system
    (DuckDB's ``httpfs``) reads through it; the settings are locked all the same. A DuckDB
    without ``allowed_directories`` (before 1.2) keeps file access open too.
    """
    import duckdb

    if not any("://" in root for root in roots):
        allowed: list[str] = []
        for root in roots:
            for form in (os.path.abspath(root), os.path.realpath(root)):
                allowed.append(os.path.join(form, ""))
        listed = ", ".join("'" + path.replace("'", "''") + "'" for path in dict.fromkeys(allowed))
        try:
            connection.execute(f"SET allowed_directories = [{listed}]")
        except duckdb.Error:
            pass
        else:
            connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
