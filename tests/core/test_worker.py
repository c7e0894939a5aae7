"""Reading a large input in a worker process gives exactly the records of reading it here."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ioproto_engineio.records import CLIENT_SILENT

import ioproto
from core.pendingping import server_timeout_at
from ioproto import worker
from ioproto.components import SourceContext
from ioproto.jsonform import dumps
from ioproto.model import Record
from ioproto.pipeline import Pipeline
from ioproto.worker import connection_layers, source_records, worker_input_size

DATA = Path(__file__).resolve().parents[1] / "data"


def decoded(path: str, jobs: int | None = None, **source_options: str) -> list[str]:
    records = ioproto.decode(path, classifiers=None, source_options=source_options, jobs=jobs)
    return [dumps(record, include_raw=True) for record in records]


@pytest.mark.parametrize("jobs", [2, 3])
@pytest.mark.parametrize(
    "name",
    ["upgrade", "binary", "deflate", "v2_polling", "rejected", "clients_mixed", "polling_silent"],
)
def test_workers_give_the_same_records(name: str, jobs: int) -> None:
    """With a reader process: every record the same, in the same order, as decoding in one
    process (and ``jobs=1`` is one process)."""
    path = str(DATA / f"{name}.pcap")
    alone = decoded(path, parallel="false")
    assert decoded(path, jobs, parallel_min_bytes="0") == alone
    assert decoded(path, 1, parallel_min_bytes="0") == alone


def _generator_name(opened: object) -> str | None:
    """The name of the generator function that made ``opened`` (``None``: not a generator).
    A compiled build's generators are not ``types.GeneratorType``, but are named too."""
    return getattr(opened, "__name__", None)


def test_one_job_reads_here() -> None:
    pipeline = Pipeline.build(proto="socketio")
    pcap = pipeline_source(pipeline)
    context = SourceContext(options={"parallel_min_bytes": "0"})
    opened = source_records(pipeline, pcap, str(DATA / "upgrade.pcap"), context, processes=1)
    assert _generator_name(opened) in (None, "read_capture")


def test_the_worker_runs_the_connection_scoped_layers() -> None:
    pipeline = Pipeline.build(proto="socketio")
    assert [layer.name for layer in pipeline.layers] == ["chunk", "engineio", "socketio"]
    assert connection_layers(pipeline) == 2  # http and engineio; socketio spans connections


def test_small_files_stdin_missing_files_and_all_layers_are_read_here(tmp_path: Path) -> None:
    pipeline = Pipeline.build(proto="socketio")
    pcap = pipeline_source(pipeline)
    big = SourceContext(options={"parallel_min_bytes": "0"})
    upgrade = DATA / "upgrade.pcap"
    assert worker_input_size(pipeline, pcap, str(upgrade), big) == upgrade.stat().st_size
    assert worker_input_size(pipeline, pcap, str(upgrade), SourceContext()) is None
    assert worker_input_size(pipeline, pcap, "-", big) is None
    assert worker_input_size(pipeline, pcap, str(tmp_path / "missing.pcap"), big) is None
    assert worker_input_size(pipeline, pcap, str(tmp_path), big) is None  # a directory
    everything = Pipeline.build(proto="socketio", all_layers=True)
    assert worker_input_size(everything, pcap, str(upgrade), big) is None


class Forkable:
    """A forkable test source, whatever the input."""

    name = "test"
    description = "a test source"
    forkable = True

    def probe(self, input: str) -> float:
        return 1.0


class Broken(Forkable):
    """A forkable source that fails after a while (a bug in a reader)."""

    def open(self, input: str, context: SourceContext) -> Iterator[Record]:
        yield from ()
        raise ValueError("reader bug")


def test_a_reader_failure_in_the_worker_is_raised_here() -> None:
    pipeline = Pipeline.build(proto="socketio")
    context = SourceContext(options={"parallel_min_bytes": "0"})
    with pytest.raises(RuntimeError, match="reader bug"):
        list(source_records(pipeline, Broken(), str(DATA / "upgrade.pcap"), context, 2))


def test_a_reader_process_that_dies_mid_batch_is_an_error_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pipe ends in the middle of a message (the reader was killed): the parent stops
    reading and says that the reader process failed, with its exit code."""

    def die(*args: object) -> None:
        writing = args[5]
        assert isinstance(writing, int)
        os.write(writing, b"\0\0\0\0\0\1\0\0cut short")  # a 65,536-byte message, cut
        os._exit(7)

    monkeypatch.setattr(worker, "_work", die)
    pipeline = Pipeline.build(proto="socketio")
    context = SourceContext(options={"parallel_min_bytes": "0"})
    source = pipeline_source(pipeline)
    with pytest.raises(RuntimeError, match="exited with code 7"):
        list(source_records(pipeline, source, str(DATA / "upgrade.pcap"), context, 2))


def pipeline_source(pipeline: Pipeline):  # type: ignore[no-untyped-def]
    from ioproto.plugins import collect_components

    assert pipeline.plugin_manager is not None
    return collect_components(pipeline.plugin_manager).sources.get("pcap")


def test_running_now_counts_this_process() -> None:
    running = worker.running_now()
    assert running is None or running >= 1


def test_the_default_counts_the_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "available_cores", lambda: 2)
    monkeypatch.setattr(worker, "running_now", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (0.3, 0.0, 0.0))
    assert worker.idle_cores() == 2
    monkeypatch.setattr(os, "getloadavg", lambda: (0.7, 0.0, 0.0))
    assert worker.idle_cores() == 2  # one core partly busy (say, the user's last run): free
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 0.0, 0.0))
    assert worker.idle_cores() == 1
    monkeypatch.setattr(os, "getloadavg", lambda: (3.5, 0.0, 0.0))
    assert worker.idle_cores() == 1  # the cores are busy: read in this process
    monkeypatch.setattr(worker, "running_now", lambda: 1)
    assert worker.idle_cores() == 2  # the load was the user's last runs: nothing runs now
    monkeypatch.setattr(worker, "running_now", lambda: 4)
    assert worker.idle_cores() == 1  # other work runs now and did for a minute
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.0, 0.0))
    assert worker.idle_cores() == 2  # a moment's burst on a quiet machine
    monkeypatch.setattr(os, "getloadavg", lambda: (3.5, 0.0, 0.0))
    pipeline = Pipeline.build(proto="socketio")
    pcap = pipeline_source(pipeline)
    context = SourceContext(options={"parallel_min_bytes": "0"})
    opened = source_records(pipeline, pcap, str(DATA / "upgrade.pcap"), context)
    assert _generator_name(opened) in (None, "read_capture")


# -- sharding by session (ioproto.shard) ------------------------------------------------------

CAPTURES = sorted(path.name for path in DATA.glob("*.pcap"))


def sharded(path: str, jobs: int, proto: str = "socketio", **options: str) -> list[str]:
    """The records of ``path`` decoded by ``jobs`` sharded workers, classifiers on."""
    records = ioproto.decode(
        path,
        proto=proto,
        classifiers=None,
        source_options={"parallel_min_bytes": "0", "shard": "true", **options},
        jobs=jobs,
    )
    return [dumps(record, include_raw=True) for record in records]


@pytest.mark.parametrize("split", ["true", "false"])
@pytest.mark.parametrize("name", CAPTURES)
def test_sharded_workers_give_the_records_of_one_process(name: str, split: str) -> None:
    """2, 3 and 4 workers, each decoding the sessions of its share with every layer and
    classifier: every record, in the order of one process (``jobs=1``); the capture read
    once by a dispatcher (``split``, the default) or whole by every worker."""
    path = str(DATA / name)
    alone = sharded(path, 1)
    for jobs in (2, 3, 4):
        assert sharded(path, jobs, split=split) == alone, f"{jobs} workers"


@pytest.mark.parametrize("split", ["true", "false"])
def test_sharded_records_with_a_tiny_routing_budget(split: str) -> None:
    """Connections decided by their addresses at once (budgets of a byte) split sessions:
    their session-level records may then differ, but the connection-level ones (chunks,
    numbered as by one process) are all there, once, in order, and nothing crashes."""
    path = str(DATA / "upgrade.pcap")
    tiny = {"route_bytes": "1", "route_window": "1", "route_pending_bytes": "1", "split": split}
    assert sharded(path, 3, "chunk", **tiny) == sharded(path, 1, "chunk")
    assert sharded(path, 3, **tiny)


def cli_lines(*args: str) -> list[str]:
    from click.testing import CliRunner

    from ioproto.cli import build_cli
    from ioproto.cli.state import CliState

    result = CliRunner().invoke(
        build_cli(),
        ["decode", "--sink", "jsonl", "--source-option", "parallel_min_bytes=0", *args],
        obj=CliState(plugin_manager=ioproto.make_plugin_manager()),
    )
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


@pytest.mark.parametrize("more", [[], ["--filter", 'sio.event == "hello"']])
def test_the_cli_shards_from_three_jobs_or_with_the_shard_option(more: list[str]) -> None:
    path = str(DATA / "clients_mixed.pcap")
    alone = cli_lines("--jobs", "1", *more, path)
    assert alone
    assert cli_lines("--jobs", "3", *more, path) == alone
    assert cli_lines("--jobs", "2", "--source-option", "shard=true", *more, path) == alone


@pytest.mark.parametrize("jobs", ["1", "2", "3"])
@pytest.mark.parametrize("option", ["max_connections=x", "idle_timeout=soon", "route_bytes=1x"])
def test_a_bad_number_in_a_source_option_is_one_line(jobs: str, option: str) -> None:
    """In this process, the reader process or the dispatcher and workers alike."""
    from click.testing import CliRunner

    from ioproto.cli import build_cli
    from ioproto.cli.state import CliState

    result = CliRunner().invoke(
        build_cli(),
        [
            "decode",
            "--jobs",
            jobs,
            "--source-option",
            "parallel_min_bytes=0",
            "--source-option",
            option,
            str(DATA / "clients_mixed.pcap"),
        ],
        obj=CliState(plugin_manager=ioproto.make_plugin_manager()),
    )
    name = option.split("=")[0]
    assert result.exit_code == 2, result.output  # also where only sharding would read it
    assert f"option {name}=" in result.output and ": give a" in result.output
    assert "Traceback" not in result.output


def test_chunk_numbers_with_few_marks_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the workers render, the merge keeps only the last numbering marks (memory flat
    whatever the capture's size): the chunks, written as records, still get the numbers of
    one process."""
    from ioproto import shard

    monkeypatch.setattr(shard, "MARKS_KEPT", 1)
    path = str(DATA / "clients_mixed.pcap")
    for args in (["--proto", "chunk"], ["--all-layers"]):
        alone = cli_lines("--jobs", "1", *args, path)
        assert any('"layer":"chunk"' in line for line in alone)
        assert cli_lines("--jobs", "3", *args, path) == alone


def test_closing_the_sharded_records_early_leaves_no_process() -> None:
    import multiprocessing

    records = ioproto.decode(
        str(DATA / "clients_mixed.pcap"),
        source_options={"parallel_min_bytes": "0", "shard": "true"},
        jobs=3,
    )
    next(records)
    records.close()  # `| head -1`
    assert multiprocessing.active_children() == []


def test_a_failure_in_a_sharded_worker_is_raised_here() -> None:
    pipeline = Pipeline.build(proto="socketio")
    context = SourceContext(options={"parallel_min_bytes": "0", "shard": "true"})
    with pytest.raises(ValueError, match="reader bug"):
        list(
            source_records(
                pipeline, Broken(), str(DATA / "upgrade.pcap"), context, 3, only_input=True
            )
        )


@pytest.mark.parametrize("split", ["true", "false"])
@pytest.mark.parametrize("cut", [100, 5000, 20000, -7])
def test_a_cut_or_damaged_capture_with_sharded_workers(
    tmp_path: Path, cut: int, split: str
) -> None:
    """A capture cut short or with garbage inside: no hang, no crash, the records of one
    process."""
    capture = (DATA / "clients_mixed.pcap").read_bytes()
    if cut > 0:
        data = capture[:cut]
    else:
        middle = len(capture) // 2
        data = capture[:middle] + bytes(range(256)) * 4 + capture[middle:]
    path = tmp_path / "damaged.pcap"
    path.write_bytes(data)
    alone = sharded(str(path), 1)
    assert sharded(str(path), 3, split=split) == alone


def _mode(processes: int | None, only: bool = True, **options: str) -> str:
    """How ``source_records`` reads upgrade.pcap: the name of the generator it gives."""
    pipeline = Pipeline.build(proto="socketio")
    pcap = pipeline_source(pipeline)
    context = SourceContext(options={"parallel_min_bytes": "0", **options})
    path = str(DATA / "upgrade.pcap")
    opened = source_records(pipeline, pcap, path, context, processes, only_input=only)
    name = _generator_name(opened)
    assert name is not None
    opened.close()
    return name


def test_three_jobs_shard_two_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule of ``--jobs`` (ioproto.worker): from 3 asked for, a lone input is sharded;
    2 runs the reader process; ``shard=`` forces either way."""
    monkeypatch.setattr(worker, "idle_cores", lambda: 8)
    assert _mode(3) == "shard_records"
    assert _mode(2) == "_read_in_worker"
    assert _mode(3, only=False) == "_read_in_worker"  # one of several inputs
    assert _mode(2, shard="true") == "shard_records"
    assert _mode(4, shard="false") == "_read_in_worker"


def test_the_default_shards_a_large_file_where_five_cores_are_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The default (no ``--jobs``): sharded from 5 idle cores for a file of
    ``SHARD_DEFAULT_MIN_BYTES`` or more, else the reader process; ``shard=`` still decides."""
    idle = {"cores": 8}
    monkeypatch.setattr(worker, "idle_cores", lambda: idle["cores"])
    # upgrade.pcap is far below 4 MB: the reader process, whatever the cores
    assert _mode(None) == "_read_in_worker"
    monkeypatch.setattr(worker, "SHARD_DEFAULT_MIN_BYTES", 0)
    assert _mode(None) == "shard_records"
    assert _mode(None, only=False) == "_read_in_worker"
    assert _mode(None, shard="false") == "_read_in_worker"
    idle["cores"] = 4
    assert _mode(None) == "_read_in_worker"
    assert _mode(None, shard="true") == "shard_records"  # among the 4 idle cores


def test_how_many_workers_the_default_shards_among() -> None:
    large = worker.SHARD_DEFAULT_MIN_BYTES
    workers = worker.default_shard_workers
    expected = {1: 0, 2: 0, 4: 0, 5: 3, 6: 4, 10: 8, 11: 8, 64: 8}
    assert {idle: workers(idle, large) for idle in expected} == expected
    assert workers(8, large - 1) == 0


def test_the_default_sharded_gives_the_records_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a machine of 7 idle cores does by default with a large capture (5 workers),
    here on a small one: the records of one process, in its order."""
    monkeypatch.setattr(worker, "idle_cores", lambda: 7)
    monkeypatch.setattr(worker, "SHARD_DEFAULT_MIN_BYTES", 0)
    path = str(DATA / "clients_mixed.pcap")
    assert _mode(None) == "shard_records"

    def records(jobs: int | None) -> list[str]:
        found = ioproto.decode(
            path, classifiers=None, source_options={"parallel_min_bytes": "0"}, jobs=jobs
        )
        return [dumps(record, include_raw=True) for record in found]

    assert records(None) == records(1)


def test_a_strict_failure_in_a_sharded_worker_is_raised_here_as_it_is() -> None:
    from ioproto.errors import PluginFailure

    pipeline = Pipeline.build(proto="socketio", strict=True)
    stage = pipeline.classifiers[0]

    def broken(record: Record) -> Record:
        raise ValueError("classifier bug")

    stage.component.classify = broken  # the forked workers inherit it
    stage.tagger = None
    context = SourceContext(options={"parallel_min_bytes": "0"})
    opened = source_records(
        pipeline, pipeline_source(pipeline), str(DATA / "upgrade.pcap"), context, 3, only_input=True
    )
    with pytest.raises(PluginFailure, match="classifier bug"):
        for record in opened:
            pipeline.feed(record)


class TwoCaptures(Forkable):
    """A forkable source: clients_mixed.pcap cut before its server times ``mute`` out
    (core/pendingping.py), then upgrade.pcap a second later (its last record then comes
    from another session than the one still waiting for a pong)."""

    def open(self, input: str, context: SourceContext) -> Iterator[Record]:
        import attrs
        from ioproto_pcap.capture import read_capture

        cut = server_timeout_at()
        whole = list(read_capture(str(DATA / "clients_mixed.pcap"), context))
        first = [record for record in whole[:-1] if record.ts < cut] + whole[-1:]
        end = max(record.ts for record in first)
        yield from first[:-1]  # its InputSummary last
        second = read_capture(str(DATA / "upgrade.pcap"), context)
        start: float | None = None
        for record in second:
            if record.layer != "input":
                start = record.ts if start is None else start
                yield attrs.evolve(record, ts=record.ts - start + end + 1.0)
        yield first[-1]


def two_captures(jobs: int) -> list[str]:
    pipeline = Pipeline.build(proto="socketio", classifiers=None)
    context = SourceContext(options={"parallel_min_bytes": "0", "shard": "true"})
    out = []
    for record in source_records(pipeline, TwoCaptures(), __file__, context, jobs, only_input=True):
        out += pipeline.feed(record)
    out += pipeline.close()
    return [dumps(record, include_raw=True) for record in out]


def test_the_end_of_input_time_is_the_whole_runs() -> None:
    """The end of the input is the time of the run's last record, which another worker may
    have decoded: ``mute``, cut before its server timed it out, is judged silent past its
    server's wait by that time (the Engine.IO layer's ``input_ended``; by the end of its
    own capture it was not), and its ping still waiting is reported then."""
    alone = two_captures(1)
    assert any(CLIENT_SILENT in line for line in alone)
    assert any('"heartbeat-timeout"' in line for line in alone)
    for jobs in (2, 3, 4):
        assert two_captures(jobs) == alone, f"{jobs} workers"
