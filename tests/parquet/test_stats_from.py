"""``ioproto stats --from DIR`` (SQL over Parquet) gives the report of ``ioproto stats`` on
the captures themselves: figures equal (floats to 1e-9), text and Markdown identical."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto
from pqhelp import CAPTURES, invoke


def assert_same(streamed: Any, stored: Any, where: str = "") -> None:
    if isinstance(streamed, float) or isinstance(stored, float):
        assert math.isclose(streamed, stored, rel_tol=1e-9, abs_tol=1e-9), where
    elif isinstance(streamed, dict):
        assert list(streamed) == list(stored), where
        for key in streamed:
            assert_same(streamed[key], stored[key], f"{where}.{key}")
    elif isinstance(streamed, list):
        assert len(streamed) == len(stored), f"{where}: {streamed} != {stored}"
        for index, (a, b) in enumerate(zip(streamed, stored, strict=True)):
            assert_same(a, b, f"{where}[{index}]")
    else:
        assert streamed == stored, f"{where}: {streamed!r} != {stored!r}"


def reports(captures: list[Path], out: Path, fmt: str) -> tuple[str, str]:
    streamed = invoke(["stats", "--format", fmt, *map(str, captures)])
    assert streamed.exit_code == 0, streamed.output
    stored = invoke(["stats", "--format", fmt, "--from", str(out)])
    assert stored.exit_code == 0, stored.output
    return streamed.stdout, stored.stdout


def pending_ping_at_end(capture: Path) -> bool:
    result = invoke(["stats", "--format", "json", str(capture)])
    latency = json.loads(result.stdout)["latency"]
    return bool(latency["heartbeat_timeouts"] or latency["heartbeat_pending_at_end"])


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """Every capture but those that end with a ping pending, in one output directory.

    An archive decodes each capture on its own, while `ioproto stats a b` reads its
    captures as one input: a ping still pending when a capture ends is judged there against
    the end of *all* input (the last record of another day's capture). Those captures are
    compared one by one above.
    """
    archived = [capture for capture in CAPTURES if not pending_ping_at_end(capture)]
    out = tmp_path_factory.mktemp("archive")
    result = invoke(["decode", "--sink", f"parquet:{out}", *map(str, archived)])
    assert result.exit_code == 0, result.output
    return out, archived


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
def test_stats_from_parquet_equal_streaming_stats(capture: Path, tmp_path: Path) -> None:
    decoded = invoke(["decode", "--jobs", "1", "--sink", f"parquet:{tmp_path}", str(capture)])
    assert decoded.exit_code == 0, decoded.output
    streamed, stored = reports([capture], tmp_path, "json")
    assert_same(json.loads(streamed), json.loads(stored))
    for fmt in ("text", "md"):
        assert reports([capture], tmp_path, fmt)[0] == reports([capture], tmp_path, fmt)[1]


def test_stats_from_an_archive_of_every_capture(archive: tuple[Path, list[Path]]) -> None:
    out, archived = archive
    assert len(archived) >= len(CAPTURES) - 2
    streamed, stored = reports(archived, out, "json")
    assert_same(json.loads(streamed), json.loads(stored))
    text_streamed, text_stored = reports(archived, out, "text")
    assert text_streamed == text_stored
    assert "Top events by count" in text_stored
    # the sessions' ends, from the sessions and engineio tables, are among what is equal
    # (clients_mixed.pcap, whose WebSockets end in every way, is compared on its own)
    ends = json.loads(stored)["ends"]
    assert {"closed", "transport closed", "input ended"} <= {e["name"] for e in ends["by_reason"]}
    assert {"poll cut off", "close frame from the client"} <= {
        e["name"] for e in ends["transport_closed_by"]
    }


def test_the_same_directory_twice_counts_once(
    archive: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    out, _archived = archive
    alias = tmp_path / "alias"
    alias.symlink_to(out)
    once = invoke(["stats", "--format", "json", "--from", str(out)])
    twice = invoke(
        ["stats", "--format", "json", "--from", f"{out}/", "--from", str(alias), "--from", str(out)]
    )
    assert (once.exit_code, twice.exit_code) == (0, 0), twice.output
    assert json.loads(once.stdout) == json.loads(twice.stdout)
    assert twice.stderr == ""


def test_stats_from_needs_a_directory_with_tables(tmp_path: Path) -> None:
    missing = invoke(["stats", "--from", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such directory" in missing.output
    empty = invoke(["stats", "--from", str(tmp_path)])
    assert empty.exit_code == 2 and "holds no ioproto Parquet tables" in empty.output
    capture = invoke(["stats", "--from", str(CAPTURES[0])])
    assert capture.exit_code == 2 and f"`ioproto stats {CAPTURES[0]}`" in capture.output
    neither = invoke(["stats"])
    assert neither.exit_code == 2 and "--from DIR" in neither.output


def test_an_unreadable_input_does_not_stretch_the_span(tmp_path: Path) -> None:
    """An empty file's error record has no capture time (ts 0): beside a real capture the
    report spans the capture (567 ms), not 56 years at 0.0 packets/s, streamed or stored."""
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    chat = next(path for path in CAPTURES if path.name == "chat.pcap")
    out = tmp_path / "out"
    invoke(["decode", "--sink", f"parquet:{out}", str(empty), str(chat)])
    for args in ([str(empty), str(chat)], ["--from", str(out)]):
        report = json.loads(invoke(["stats", "--format", "json", *args]).stdout)
        assert report["totals"]["records"] == 124
        assert 0.5 < report["totals"]["duration"] < 0.6, report["totals"]
        text = invoke(["stats", *args]).stdout.splitlines()[0]
        assert text.endswith("over 567 ms, 201.2 packets/s"), text


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-o", "{tmp}/nope/report.txt"], "-o/--output: cannot write {tmp}/nope/report.txt"),
        (["--chart", "{tmp}/nope/chart.html"], "cannot write the chart {tmp}/nope/chart.html"),
        (["--chart", "{tmp}/chart.png"], "the chart is an HTML page; name it {tmp}/chart.html"),
        (["--chart", "/proc/chart.html"], "the folder /proc takes no new files"),
    ],
    ids=["-o in a missing folder", "--chart in a missing folder", "--chart .png", "/proc"],
)
def test_an_output_that_cannot_be_written_is_refused_up_front(
    archive: tuple[Path, list[Path]], tmp_path: Path, args: list[str], expected: str
) -> None:
    """As ``stats INPUT`` says it: one line, status 2, before the query runs, the ``-o``
    file kept as it was and nothing left behind; ``--from`` emptied ``-o``, then failed
    on the chart with 'No such file or directory: …', status 1 (a .png was written)."""
    out, _ = archive
    kept = tmp_path / "kept.txt"
    kept.write_text("yesterday's report\n")
    given = [arg.format(tmp=tmp_path) for arg in args]
    if "-o" not in given:
        given += ["-o", str(kept)]
    process = run_ioproto("stats", "--from", str(out), *given)
    assert process.returncode == 2, process.stderr
    assert process.stderr.startswith("ioproto: error: "), process.stderr
    assert expected.format(tmp=tmp_path) in process.stderr
    assert len(process.stderr.splitlines()) == 1, process.stderr
    assert process.stdout == ""
    assert kept.read_text() == "yesterday's report\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kept.txt"]
