"""A capture whose header is damaged gets an error record, not a usage error (item 13); as
nothing of it could be read, the command also says so on stderr and exits with status 1."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from ioproto.cli import build_cli
from ioproto.cli.state import CliState
from ioproto.plugins import make_plugin_manager

DATA = Path(__file__).resolve().parents[1] / "data"


def damaged(tmp_path: Path, kind: str) -> Path:
    capture = (DATA / "ws_only.pcap").read_bytes()
    if kind == "gzip header":
        packed = bytearray(gzip.compress(capture))
        packed[3] = 0xFF  # reserved flag bits: gzip refuses the header
        path = tmp_path / "damaged.pcap.gz"
        path.write_bytes(bytes(packed))
    elif kind == "gzip body":
        path = tmp_path / "damaged.bin"
        path.write_bytes(gzip.compress(capture)[:40])
    else:
        path = tmp_path / "damaged.pcap"
        path.write_bytes(b"\x00\x01\x02\x03" + capture[4:])
    return path


@pytest.mark.parametrize("kind", ["gzip header", "gzip body", "pcap magic"])
def test_a_damaged_capture_is_an_error_record(tmp_path: Path, kind: str) -> None:
    path = damaged(tmp_path, kind)
    result = CliRunner().invoke(
        build_cli(),
        ["decode", "--sink", "jsonl", str(path)],
        obj=CliState(plugin_manager=make_plugin_manager()),
    )
    assert result.exit_code == 1, result.output
    assert '"rule":"capture.file.' in result.stdout
    assert result.stderr.startswith(f"ioproto: {path}: ")
    assert len(result.stderr.splitlines()) == 1
