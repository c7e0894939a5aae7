"""The pipeline: layer chaining, consumption, plugin isolation, --strict, streaming."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs
import pytest
from ioproto_http.records import Chunk, ChunkKind

import ioproto
from ioproto import ErrorRecord, Packet, Pipeline, Record, record_context
from ioproto.components import DecodeContext
from ioproto.plugins import UnknownComponentError, make_plugin_manager


class Upper:
    """Test layer 'upper' on chunks: one packet per chunk, upper-cased text."""

    name = "upper"
    rides_on = "chunk"
    description = "test"

    def accepts(self, record: Record) -> bool:
        return isinstance(record, Chunk) and record.kind == ChunkKind.LINE

    def open(self, context: DecodeContext) -> Upper.Stream:
        return Upper.Stream()

    class Stream:
        def feed(self, record: Record) -> Iterable[Record]:
            assert isinstance(record, Chunk)
            if record.data == b"boom":
                raise RuntimeError("decoder bug")
            text = record.data.decode()
            return [Packet(**record_context(record), layer="upper", type="word", data=text.upper())]

        def close(self) -> Iterable[Record]:
            return []


class Count:
    """Test layer 'count' on 'upper': consumes words, emits their count at the end."""

    name = "count"
    rides_on = "upper"
    description = "test"

    def accepts(self, record: Record) -> bool:
        return record.layer == "upper"

    def open(self, context: DecodeContext) -> Count.Stream:
        return Count.Stream()

    class Stream:
        def __init__(self) -> None:
            self.seen = 0

        def feed(self, record: Record) -> Iterable[Record]:
            self.seen += 1
            if record.data == "PASS":
                return [record]
            return []

        def close(self) -> Iterable[Record]:
            return [Packet(ts=0.0, layer="count", type="total", data=self.seen)]


class Plugin:
    @ioproto.hookimpl
    def register_decoders(self, register):  # type: ignore[no-untyped-def]
        register(Upper())
        register(Count())


class Collect:
    name = "collect"
    description = "test sink"

    def __init__(self) -> None:
        self.written: list[Record] = []
        self.closed = False

    def open(self, context):  # type: ignore[no-untyped-def]
        return self

    def write(self, record: Record) -> None:
        self.written.append(record)

    def close(self) -> None:
        self.closed = True


def chunk(text: str) -> Chunk:
    return Chunk(ts=1.0, kind=ChunkKind.LINE, data=text.encode(), connection="t")


def pipeline(proto: str, **kwargs: object) -> Pipeline:
    pm = make_plugin_manager(load_entrypoints=False, plugins=[Plugin()])
    return Pipeline.build(proto=proto, plugin_manager=pm, **kwargs)  # type: ignore[arg-type]


def test_decodes_up_to_the_requested_layer() -> None:
    out = pipeline("upper").feed(chunk("hi"))
    assert [(r.layer, r.data) for r in out] == [("upper", "HI")]


def test_chunk_proto_decodes_nothing() -> None:
    out = pipeline("chunk").feed(chunk("hi"))
    assert out == [chunk("hi")]


def test_consumed_records_are_not_emitted_and_close_flushes() -> None:
    p = pipeline("count")
    assert p.feed(chunk("a")) == []
    assert p.feed(chunk("b")) == []
    flushed = p.close()
    assert [(r.layer, r.data) for r in flushed] == [("count", 2)]


def test_pass_through_and_parent_links() -> None:
    out = pipeline("count").feed(chunk("pass"))
    assert [(r.layer, r.data) for r in out] == [("upper", "PASS")]
    assert [r.layer for r in out[0].lineage()] == ["upper", "chunk"]


def test_all_layers_emits_consumed_records_too() -> None:
    out = pipeline("upper", all_layers=True).feed(chunk("x"))
    assert [r.layer for r in out] == ["chunk", "upper"]


def test_unknown_proto_lists_valid_layers() -> None:
    with pytest.raises(UnknownComponentError, match=r"unknown layer .*valid: chunk, upper, count"):
        pipeline("socketio-typo")


def test_a_crashing_decoder_becomes_an_error_record_and_decoding_goes_on() -> None:
    p = pipeline("upper")
    out = p.feed(chunk("boom")) + p.feed(chunk("ok"))
    # what the decoder failed on goes on as if no decoder had taken it, then its failure
    assert out[0] == chunk("boom")
    assert isinstance(out[1], ErrorRecord)
    assert out[1].rule == "plugin.crash"
    assert "decoder bug" in out[1].reason
    assert out[1].parent == chunk("boom")
    assert out[2].data == "OK"
    assert p.summary.plugin_failures
    assert p.summary.errors["plugin.crash"] == 1


def test_leaving_a_stream_early_ends_its_source_and_the_pipeline() -> None:
    ended: list[str] = []

    def endless() -> Iterator[Record]:
        try:
            while True:
                yield chunk("tick")
        finally:
            ended.append("source")

    p = pipeline("upper")
    records = p.stream(endless())
    for record in records:
        assert record.data == "TICK"
        break
    records.close()  # what leaving a for loop over ioproto.decode() does, when collected
    assert ended == ["source"] and p.summary.records["upper"] == 1


def test_strict_makes_a_crash_fatal() -> None:
    p = pipeline("upper", strict=True)
    with pytest.raises(ioproto.PluginFailure, match="decoder bug"):
        p.feed(chunk("boom"))


def collecting(collect: Collect, classifiers: Iterable[object] = ()) -> Pipeline:
    """A pipeline up to ``upper`` whose one sink is ``collect``, with ``classifiers``."""
    from ioproto.components import SinkContext

    class Registers:
        @ioproto.hookimpl
        def register_sinks(self, register):  # type: ignore[no-untyped-def]
            register(collect)

        @ioproto.hookimpl
        def register_classifiers(self, register):  # type: ignore[no-untyped-def]
            for classifier in classifiers:
                register(classifier)

    pm = make_plugin_manager(load_entrypoints=False, plugins=[Plugin(), Registers()])
    return Pipeline.build(
        proto="upper",
        plugin_manager=pm,
        sinks=[("collect", SinkContext(stream=None))],  # type: ignore[arg-type]
    )


def test_sinks_receive_every_record_and_are_closed() -> None:
    collect = Collect()
    p = collecting(collect)
    summary = p.run([chunk("a"), chunk("b")])
    assert [r.data for r in collect.written] == ["A", "B"]
    assert collect.closed
    assert summary.inputs == 2
    assert summary.records["upper"] == 2


class Tagger:
    """Test classifier ``tagger``: tags each record with its data's length, and emits an
    ``end`` packet at close."""

    name = "tagger"
    description = "test"

    def open(self, context):  # type: ignore[no-untyped-def]
        return self

    def classify(self, record: Record) -> Record:
        return record.with_tags([ioproto.Tag("test.len", len(str(record.data)))])

    def close(self) -> Iterable[Record]:
        return [Packet(ts=0.0, layer="tagger", type="end")]


def test_finish_flushes_and_leaves_the_sinks_open_for_close() -> None:
    collect = Collect()
    p = collecting(collect, [Tagger()])
    p.feed(chunk("a"))
    flushed = p.finish()
    assert [r.type for r in flushed] == ["end"]
    assert [r.type for r in collect.written] == ["word", "end"]  # written, the summary final
    assert p.summary.records == {"upper": 1, "tagger": 1}
    assert not collect.closed
    assert p.finish() == []
    assert p.close() == []  # only closes the sinks now
    assert collect.closed and [r.type for r in collect.written] == ["word", "end"]


def test_classifiers_tag_records_and_may_emit_at_close() -> None:
    class ClassifierPlugin:
        @ioproto.hookimpl
        def register_classifiers(self, register):  # type: ignore[no-untyped-def]
            register(Tagger())

    pm = make_plugin_manager(load_entrypoints=False, plugins=[Plugin(), ClassifierPlugin()])
    p = Pipeline.build(proto="upper", plugin_manager=pm)
    out = p.feed(chunk("abc"))
    assert out[0].tag("test.len") == 3
    assert [r.type for r in p.close()] == ["end"]


def test_stream_is_lazy() -> None:
    p = pipeline("upper")
    produced: list[str] = []

    def chunks() -> Iterable[Chunk]:
        for word in ("a", "b"):
            produced.append(word)
            yield chunk(word)

    iterator = p.stream(chunks())
    first = next(iterator)
    assert first.data == "A"
    assert produced == ["a"]


def test_records_are_frozen() -> None:
    record = chunk("x")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        record.data = b"y"  # type: ignore[misc]


class TypedStream:
    """A stream giving one 'upper' packet of ``type`` per record it is fed."""

    def __init__(self, type: str) -> None:
        self.type = type

    def feed(self, record: Record) -> Iterable[Record]:
        return [Packet(**record_context(record), layer="upper", type=self.type)]

    def close(self) -> Iterable[Record]:
        return []


def decoders(*registered: object) -> object:
    """A plugin registering ``registered`` decoders, in that order."""

    class Plugin:
        @ioproto.hookimpl
        def register_decoders(self, register):  # type: ignore[no-untyped-def]
            for decoder in registered:
                register(decoder)

    return Plugin()


def test_several_decoders_can_share_a_layer() -> None:
    class Shout(Upper):
        """Claims only lines ending in '!', before Upper does."""

        name = "shout"
        layer = "upper"
        priority = 10

        def accepts(self, record: Record) -> bool:
            return isinstance(record, Chunk) and record.data.endswith(b"!")

        def open(self, context: DecodeContext) -> TypedStream:  # type: ignore[override]
            return TypedStream("shout")

    pm = make_plugin_manager(load_entrypoints=False, plugins=[decoders(Upper(), Shout())])
    for proto in ("upper", "shout"):
        p = Pipeline.build(proto=proto, plugin_manager=pm)
        assert [r.type for r in p.feed(chunk("hey!")) + p.feed(chunk("hey"))] == ["shout", "word"]


def test_a_stream_may_decide_what_it_accepts() -> None:
    class Claiming(Upper):
        """Claims a connection once it saw 'claim!' on it; state lives in the stream."""

        name = "claiming"
        layer = "upper"
        priority = 5

        def accepts(self, record: Record) -> bool:
            raise AssertionError("the stream's accepts is used instead")

        def open(self, context: DecodeContext) -> Claiming.Stream:  # type: ignore[override]
            return Claiming.Stream("claimed")

        class Stream(TypedStream):
            def __init__(self, type: str) -> None:
                super().__init__(type)
                self.claimed: set[str | None] = set()

            def accepts(self, record: Record) -> bool:
                if isinstance(record, Chunk) and record.data == b"claim!":
                    self.claimed.add(record.connection)
                return record.connection in self.claimed

    pm = make_plugin_manager(load_entrypoints=False, plugins=[decoders(Upper(), Claiming())])
    p = Pipeline.build(proto="upper", plugin_manager=pm)
    types = [r.type for text in ("a", "claim!", "b") for r in p.feed(chunk(text))]
    assert types == ["word", "claimed", "claimed"]
