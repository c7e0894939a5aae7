"""Reading a capture in a worker process gives exactly the records of reading it here."""

from __future__ import annotations

from pathlib import Path

import pytest
from ioproto_pcap.source import PcapSource
from ioproto_pcap.worker import use_worker

from ioproto.components import SourceContext
from ioproto.jsonform import dumps

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.mark.parametrize("name", ["upgrade", "binary", "deflate", "v2_polling", "rejected"])
def test_worker_gives_the_same_records(name: str) -> None:
    path = str(DATA / f"{name}.pcap")
    here = SourceContext(options={"parallel": "false"})
    worker = SourceContext(options={"parallel_min_bytes": "0"})
    assert use_worker(path, worker) and not use_worker(path, here)
    expected = [dumps(record, include_raw=True) for record in PcapSource().open(path, here)]
    actual = [dumps(record, include_raw=True) for record in PcapSource().open(path, worker)]
    assert actual == expected


def test_small_files_stdin_and_missing_files_are_read_here(tmp_path: Path) -> None:
    assert not use_worker(str(DATA / "upgrade.pcap"), SourceContext())
    assert not use_worker("-", SourceContext(options={"parallel_min_bytes": "0"}))
    missing = str(tmp_path / "missing.pcap")
    assert not use_worker(missing, SourceContext(options={"parallel_min_bytes": "0"}))


def test_a_reader_failure_in_the_worker_is_raised_here(monkeypatch: pytest.MonkeyPatch) -> None:
    import ioproto_pcap.worker as worker

    def broken(input: str, context: SourceContext):  # type: ignore[no-untyped-def]
        yield from ()
        raise ValueError("reader bug")

    monkeypatch.setattr(worker, "read_capture", broken)
    context = SourceContext(options={"parallel_min_bytes": "0"})
    with pytest.raises(RuntimeError, match="reader bug"):
        list(worker.read_capture_in_worker(str(DATA / "upgrade.pcap"), context))
