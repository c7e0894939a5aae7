"""``ioproto.cli.outputs``: output files that a failed run leaves as they were."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from clirun import run_ioproto

from ioproto.cli.outputs import OutputFiles

CHAT = str(Path(__file__).resolve().parents[2] / "examples" / "chat.pcap")


def test_a_file_is_emptied_by_the_first_write_only(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("yesterday's records, a long line\n")
    with ExitStack() as stack:
        stream = OutputFiles(stack).open(str(path))
        assert path.read_text() == "yesterday's records, a long line\n"
        stream.write("today\n")
        stream.flush()
        assert path.read_text() == "today\n"
    assert path.read_text() == "today\n"


def test_a_run_that_wrote_nothing_leaves_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("yesterday\n")
    with ExitStack() as stack:
        OutputFiles(stack).open(str(path))
    assert path.read_text() == ""


def test_an_abandoned_run_leaves_files_as_they_were(tmp_path: Path) -> None:
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text("yesterday\n")
    with ExitStack() as stack:
        files = OutputFiles(stack)
        files.open(str(old))
        files.open(str(new))
        assert new.exists()
        files.abandon()
    assert old.read_text() == "yesterday\n"
    assert not new.exists()


def test_what_was_written_stays_when_the_run_fails_later(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("yesterday\n")
    with pytest.raises(RuntimeError), ExitStack() as stack:
        files = OutputFiles(stack)
        files.open(str(path)).write("part of today\n")
        files.abandon()
        raise RuntimeError("the run failed after writing")
    assert path.read_text() == "part of today\n"


def test_devices_are_written_as_before(tmp_path: Path) -> None:
    with ExitStack() as stack:
        OutputFiles(stack).open("/dev/null").write("nothing\n")
    with ExitStack() as stack:
        OutputFiles(stack).open("/dev/null")


def test_a_run_ending_on_the_given_exception_is_abandoned(tmp_path: Path) -> None:
    old = tmp_path / "old.txt"
    old.write_text("yesterday\n")
    with pytest.raises(LookupError), ExitStack() as stack:
        OutputFiles(stack, abandon_on=LookupError).open(str(old))
        raise KeyError("the input could not be opened")
    assert old.read_text() == "yesterday\n"
    with pytest.raises(ValueError), ExitStack() as stack:
        OutputFiles(stack, abandon_on=LookupError).open(str(old))
        raise ValueError("another failure: the run ran, as with Ctrl-C")
    assert old.read_text() == ""


@pytest.mark.parametrize(
    "args",
    [
        ["decode", "-o", "/dev/stdout", CHAT],
        ["decode", "--sink", "jsonl:/dev/stdout", CHAT],
        ["monitor", "-o", "/dev/fd/1", CHAT],
        ["stats", "--from", "{archive}", "-o", "/dev/stdout"],
    ],
    ids=["-o", "--sink NAME:PATH", "/dev/fd/1", "stats --from"],
)
def test_an_output_named_stdout_appends_as_stdout_does(tmp_path: Path, args: list[str]) -> None:
    """``ioproto … -o /dev/stdout >> log``: opened again, /dev/stdout lost the shell's
    O_APPEND and was emptied, and log's earlier lines with it."""
    if "{archive}" in args:
        archive = tmp_path / "archive"
        made = run_ioproto("decode", "--sink", f"parquet:{archive}", CHAT)
        assert made.returncode == 0, made.stderr
        args = [arg.format(archive=archive) for arg in args]
    log = tmp_path / "log.txt"
    log.write_text("an earlier line\n")
    with open(log, "a") as appended:
        done = run_ioproto(*args, stdout=appended)
    assert done.returncode == 0, done.stderr
    lines = log.read_text().splitlines()
    assert lines[0] == "an earlier line"
    assert len(lines) > 10
