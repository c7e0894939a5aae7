"""The ``lines`` capture source."""

from __future__ import annotations

from pathlib import Path

from ioproto_http.records import Chunk, ChunkKind
from ioproto_lines.source import LinesSource

from ioproto import ErrorRecord
from ioproto.components import SourceContext
from ioproto.model import InputSummary


def read(tmp_path: Path, text: bytes, **options: object) -> list[object]:
    path = tmp_path / "in.txt"
    path.write_bytes(text)
    records = list(LinesSource().open(str(path), SourceContext(options=options)))
    end = records.pop()  # what marks the input's end, after every record
    assert isinstance(end, InputSummary) and end.empty_reason is None, end
    return records


def test_a_file_of_lines_marks_its_end(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"4a\n\n4b\n")
    *records, end = LinesSource().open(str(path), SourceContext())
    assert len(records) == 2
    assert isinstance(end, InputSummary) and end.input == str(path)
    assert end.empty_reason is None and end.counts == {"lines": 3}


def test_one_chunk_per_line_with_escapes(tmp_path: Path) -> None:
    chunks = read(tmp_path, b"4hello\\x1e2\n\n# a comment\n4\xe2\x82\xac\r\n")
    assert [c.data for c in chunks] == [b"4hello\x1e2", b"4\xe2\x82\xac"]  # type: ignore[attr-defined]
    assert all(isinstance(c, Chunk) and c.kind == ChunkKind.LINE for c in chunks)
    assert [c.seq for c in chunks] == [1, 2]  # type: ignore[attr-defined]


def test_escapes_can_be_turned_off(tmp_path: Path) -> None:
    chunks = read(tmp_path, b"4a\\x1eb\n", escapes="false")
    assert chunks[0].data == b"4a\\x1eb"  # type: ignore[attr-defined]


def test_hex_lines_are_binary_messages(tmp_path: Path) -> None:
    chunks = read(tmp_path, b"hex: 04 01 02\nhex:zz\n")
    assert chunks[0].kind == ChunkKind.LINE_BINARY  # type: ignore[attr-defined]
    assert chunks[0].data == b"\x04\x01\x02"  # type: ignore[attr-defined]
    assert isinstance(chunks[1], ErrorRecord)
    assert chunks[1].rule == "capture.lines.bad-hex"


def test_direction_prefixes_and_directives(tmp_path: Path) -> None:
    chunks = read(tmp_path, b"#! revision=3 sid=abc\n> 2:40\n< 2:42\n4x\n#! bogus=1\n")
    assert [c.direction for c in chunks[:3]] == ["c2s", "s2c", None]  # type: ignore[attr-defined]
    # The settings are what a URL would say, for the Engine.IO layer to read.
    queries = {c.http.query for c in chunks[:3]}  # type: ignore[attr-defined]
    assert queries == {(("EIO", "3"), ("sid", "abc"))}
    assert isinstance(chunks[3], ErrorRecord)
    assert chunks[3].rule == "capture.lines.bad-directive"


def test_probe_refuses_binary_files(tmp_path: Path) -> None:
    pcap = tmp_path / "x.pcap"
    pcap.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(20))
    text = tmp_path / "x.txt"
    text.write_text("4hi\n")
    assert LinesSource().probe(str(pcap)) < 0
    assert LinesSource().probe(str(text)) > 0
    assert LinesSource().probe(str(tmp_path / "missing")) < 0


def test_unreadable_file_is_an_error_record(tmp_path: Path) -> None:
    records = list(LinesSource().open(str(tmp_path), SourceContext()))
    assert isinstance(records[0], ErrorRecord)
    assert records[0].rule == "capture.file.unreadable"


def test_lines_with_only_a_sid_are_engineio(tmp_path: Path) -> None:
    import ioproto

    path = tmp_path / "x.lines"
    path.write_bytes(b"#! sid=abc\n4hello\n")
    records = list(ioproto.decode(str(path), proto="engineio"))
    assert [(r.layer, r.type, r.sid) for r in records] == [("engineio", "message", "abc")]
