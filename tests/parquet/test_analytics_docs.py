"""The questions of docs/analytics.md run, as written, against the bundled captures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pqhelp import CAPTURES, ROOT, invoke

DOC = ROOT / "docs" / "analytics.md"
SNIPPETS = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)
#: Snippets for one's own DuckDB session against a bucket (they need the network).
QUESTIONS = [sql for sql in SNIPPETS if "s3://" not in sql]
#: The questions the bundled captures have answers to (the others may be empty).
ANSWERED = ("client_kind = 'browser'", "answers_event = 'chat'", "heartbeat-timeout", "rule")


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("analytics")
    result = invoke(["decode", "--sink", f"parquet:{folder / 'archive'}", *map(str, CAPTURES)])
    assert result.exit_code == 0, result.output
    return folder


def test_the_doc_has_the_promised_questions() -> None:
    assert len(QUESTIONS) >= 6
    for marker in ANSWERED:
        assert any(marker in sql for sql in QUESTIONS), marker


@pytest.mark.parametrize("sql", QUESTIONS, ids=lambda sql: sql.split("\n")[0][:40])
def test_question_runs(sql: str, archive: Path) -> None:
    result = invoke(["query", "--format", "jsonl", sql, str(archive / "archive")])
    assert result.exit_code == 0, result.output
    if any(marker in sql for marker in ANSWERED):
        assert result.stdout.strip(), f"no rows for:\n{sql}"


def test_python_snippet_runs(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(archive)
    snippets = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert snippets
    for snippet in snippets:
        exec(compile(snippet, str(DOC), "exec"), {})
