"""What ``ioproto decode --sink parquet:DIR`` says on stderr for each input: the records its
output got (after the ``--filter``), and, when none, why, in the lines ``decode`` says
without the Parquet sink (docs/cli.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import run_ioproto
from ioproto_parquet.store import connect
from pqhelp import ROOT

CHAT = str(ROOT / "examples" / "chat.pcap")
HAR = str(ROOT / "tests" / "data" / "har" / "chromium-socketio.har")


def rows(out: Path) -> int:
    result = connect([str(out)]).execute("SELECT count(*) FROM records").fetchone()
    assert result is not None
    return int(result[0])


def said_without_parquet(*args: str) -> list[str]:
    result = run_ioproto("decode", "--sink", "jsonl", *args)
    assert result.returncode == 0, result.stderr
    return result.stderr.splitlines()


@pytest.mark.parametrize(
    "given",
    [["--filter", 'sio.event == "zz"'], ["--port", "1"]],
    ids=["filter-lets-nothing-through", "no-connection-on-the-port"],
)
def test_an_empty_output_says_why(tmp_path: Path, given: list[str]) -> None:
    out = tmp_path / "archive"
    result = run_ioproto("decode", "--jobs", "1", "--sink", f"parquet:{out}", *given, CHAT)
    assert result.returncode == 0, result.stderr
    done, *why = result.stderr.splitlines()
    assert done.startswith(f"ioproto: {CHAT}: 0 records into {out} as chat.pcap ("), done
    assert why == said_without_parquet(*given, CHAT)
    assert why != []
    assert rows(out) == 0


def test_the_count_is_what_the_filter_let_through(tmp_path: Path) -> None:
    out = tmp_path / "archive"
    result = run_ioproto(
        "decode", "--sink", f"parquet:{out}", "--filter", 'sio.event == "message"', CHAT
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith(f"ioproto: {CHAT}: 44 records into {out} as chat.pcap (")
    assert len(result.stderr.splitlines()) == 1
    assert rows(out) == 44


def test_inputs_decoded_at_once_each_say_why(tmp_path: Path) -> None:
    """In processes of their own, each input's lines come together, its reasons after its
    count."""
    out = tmp_path / "archive"
    given = ["--filter", 'sio.event == "zz"']
    result = run_ioproto("decode", "--jobs", "2", "--sink", f"parquet:{out}", *given, CHAT, HAR)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    expected = 0
    for item in (CHAT, HAR):
        start = next(i for i, line in enumerate(lines) if line.startswith(f"ioproto: {item}: "))
        assert "0 records into" in lines[start]
        why = said_without_parquet(*given, item)
        assert lines[start + 1 : start + 1 + len(why)] == why
        expected += 1 + len(why)
    assert len(lines) == expected
