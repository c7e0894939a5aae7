"""ioproto.writable: asking whether a path can be written leaves it as it was."""

from __future__ import annotations

import os
from pathlib import Path

from ioproto.writable import file_problem, folder_problem, why_not


def test_a_file_that_can_be_written_is_left_as_it_was(tmp_path: Path) -> None:
    existing = tmp_path / "old.txt"
    existing.write_text("kept\n")
    assert file_problem(str(existing)) is None
    assert existing.read_text() == "kept\n"
    assert file_problem(str(tmp_path / "new.txt")) is None
    assert folder_problem(str(tmp_path / "a" / "b")) is None
    assert sorted(os.listdir(tmp_path)) == ["old.txt"]


def test_a_named_pipe_is_not_opened(tmp_path: Path) -> None:
    """Opening a pipe for writing would wait for a reader."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert file_problem(str(fifo)) is None


def test_what_stands_in_the_way_is_named(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    under = str(tmp_path / "file" / "deeper" / "x")
    assert file_problem(str(tmp_path)) == "that is a folder; give a file name"
    blocked = f"{tmp_path / 'file'} is a file, not a folder; choose another path"
    assert file_problem(under) == blocked
    assert folder_problem(under) == file_problem(under)
    assert folder_problem(str(tmp_path / "file")) == (
        "that is a file, not a folder; give a folder's path"
    )
    missing = tmp_path / "no" / "x.html"
    assert file_problem(str(missing)) == (
        f"the folder {missing.parent} does not exist; create it or choose another path"
    )
    proc = "the folder /proc takes no new files; choose another path"
    assert file_problem("/proc/x.html") == proc


def test_an_empty_path_is_said_to_be_empty() -> None:
    """``-o "$OUT"`` with ``OUT`` unset: not 'the folder /tmp takes no new files'."""
    empty = "the path is empty; give a file name"
    assert file_problem("") == empty
    assert folder_problem("") == empty
    assert why_not("", FileNotFoundError(2, "No such file or directory")) == empty
