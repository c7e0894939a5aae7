"""Output buffering follows the source: a live source's records are in the output file as
soon as the source has yielded them; a file source's may wait in a block buffer. The sinks
are told which it is (``SinkContext.live``)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

from click.testing import CliRunner

import ioproto
from ioproto.cli import build_cli
from ioproto.cli.decode import _buffering
from ioproto.cli.state import CliState
from ioproto.components import SinkContext, SinkFactory, Source, SourceContext
from ioproto.model import ErrorRecord, Record
from ioproto.plugins import make_plugin_manager


class Watching:
    """A source of three records that, before each next one, notes the lines the output
    files already hold (what a reader of those files would see at that moment)."""

    description = "test source"

    def __init__(
        self, name: str, live: bool, outputs: list[Path], *, caught_up_after: int | None = None
    ) -> None:
        self.name = name
        self.live = live
        self.outputs = outputs
        self.seen: list[list[int]] = []
        #: with a value: says_caught_up, and calls context.caught_up() after that record
        self.caught_up_after = caught_up_after
        self.says_caught_up = caught_up_after is not None

    def probe(self, input: str) -> float:
        return 1.0 if input == self.name else -1.0

    def open(self, input: str, context: SourceContext) -> Iterator[Record]:
        for n in range(3):
            if n:
                self.seen.append([len(path.read_text().splitlines()) for path in self.outputs])
            yield ErrorRecord(ts=1.0 + n, layer="test", rule="test.tick", reason=f"tick {n}")
            if n == self.caught_up_after:
                context.caught_up()


def run(source: Watching, tmp_path: Path) -> list[list[int]]:
    class Plugin:
        @ioproto.hookimpl
        def register_sources(self, register: Callable[[Source], None]) -> None:
            register(source)

    pm = make_plugin_manager()
    pm.register(Plugin(), name="watching")
    cli = build_cli()
    jsonl, text, monitor = source.outputs
    args = ["decode", "--sink", f"jsonl:{jsonl}", "--sink", f"text:{text}"]
    args += ["--sink", f"monitor:{monitor}", source.name]
    result = CliRunner().invoke(cli, args, obj=CliState(plugin_manager=pm))
    assert result.exit_code == 0, result.output
    assert [len(path.read_text().splitlines()) for path in source.outputs] == [3, 3, 3]
    return source.seen


def test_live_source_records_are_written_through(tmp_path: Path) -> None:
    outputs = [tmp_path / name for name in ("a.jsonl", "a.txt", "a.monitor")]
    assert run(Watching("live-test", True, outputs), tmp_path) == [[1, 1, 1], [2, 2, 2]]


def test_file_source_records_may_wait_in_a_buffer(tmp_path: Path) -> None:
    outputs = [tmp_path / name for name in ("b.jsonl", "b.txt", "b.monitor")]
    assert run(Watching("file-test", False, outputs), tmp_path) == [[0, 0, 0], [0, 0, 0]]


def test_block_buffering_also_undoes_write_through_for_the_run() -> None:
    # PYTHONUNBUFFERED=1 makes stdout write-through: a system call per line unless undone.
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    with _buffering(stream, line=False):
        assert not stream.write_through
        stream.write("a\n")
        assert raw.getvalue() == b""  # waiting in the buffer
    assert stream.write_through and not stream.line_buffering
    assert raw.getvalue() == b"a\n"


def test_line_buffering_leaves_write_through_alone() -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="utf-8", write_through=True)
    with _buffering(stream, line=True):
        assert stream.write_through and stream.line_buffering
        stream.write("a\n")
        assert raw.getvalue() == b"a\n"
    assert stream.write_through and not stream.line_buffering


def test_a_live_source_that_says_when_it_caught_up_is_written_at_those_calls(
    tmp_path: Path,
) -> None:
    """Block-buffered (a flood leaves in blocks), written out when the source caught up."""
    outputs = [tmp_path / name for name in ("c.jsonl", "c.txt", "c.monitor")]
    source = Watching("caught-up-test", True, outputs, caught_up_after=0)
    assert run(source, tmp_path) == [[1, 1, 1], [1, 1, 1]]


class Telling:
    """A sink factory that notes what each sink it opens is told of the source's liveness."""

    name = "telling"
    description = "notes SinkContext.live"

    def __init__(self) -> None:
        self.told: list[bool] = []

    def open(self, context: SinkContext) -> Telling:
        self.told.append(context.live)
        return self

    def write(self, record: Record) -> None:
        pass

    def close(self) -> None:
        pass


def told_by(source: Watching, tmp_path: Path) -> list[bool]:
    """What the sinks of ``decode`` reading ``source`` are told: ``SinkContext.live``."""
    sink = Telling()

    class Plugin:
        @ioproto.hookimpl
        def register_sources(self, register: Callable[[Source], None]) -> None:
            register(source)

        @ioproto.hookimpl
        def register_sinks(self, register: Callable[[SinkFactory], None]) -> None:
            register(sink)

    pm = make_plugin_manager()
    pm.register(Plugin(), name="telling")
    args = ["decode", "--sink", "telling", "--sink", f"jsonl:{tmp_path / 'x'}", source.name]
    result = CliRunner().invoke(build_cli(), args, obj=CliState(plugin_manager=pm))
    assert result.exit_code == 0, result.output
    return sink.told


def test_the_sinks_are_told_whether_the_records_come_from_a_live_source(
    tmp_path: Path,
) -> None:
    assert told_by(Watching("live-test", True, []), tmp_path) == [True]
    assert told_by(Watching("file-test", False, []), tmp_path) == [False]
