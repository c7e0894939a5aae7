"""A plugin author's and an embedder's mistakes through the Python API: each is an ioproto
error class with one line saying what to change, raised when the plugin is registered or the
pipeline built; a plugin that fails on one message mid-stream is an error record and the
records around it still come."""

from __future__ import annotations

import io
import subprocess
import sys
import types
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ioproto_engineio
import ioproto_socketio
import pytest
from ioproto_socketio.testing import socketio_event, socketio_messages

import ioproto
from ioproto import ErrorRecord, Packet, Pipeline, Record, SinkContext, record_context
from ioproto.errors import PluginLoadWarning
from ioproto.plugins import make_plugin_manager

CHAT = str(Path(__file__).resolve().parents[2] / "examples" / "chat.pcap")


class Words:
    """Layer ``words`` on ``socketio``: one ``word`` per EVENT ``say``; what the argument
    says is what the stream does wrong (``raise``, ``none``, ``one``, ``text``)."""

    name = "words"
    rides_on = "socketio"
    description = "test"

    def accepts(self, record: Record) -> bool:
        return record.layer == "socketio" and getattr(record, "event", None) == "say"

    def open(self, context: Any) -> Words.Stream:
        return Words.Stream()

    class Stream:
        def feed(self, record: Record) -> Any:
            word = record.args[0]  # type: ignore[attr-defined]
            made = Packet(**record_context(record), layer="words", type="word", data=word)
            if word == "raise":
                raise ValueError("cannot say that")
            if word == "none":
                return None
            if word == "one":
                return made
            if word == "text":
                return [record, "word"]
            return [record, made]

        def close(self) -> Iterable[Record]:
            return []


def registering(hook: str, *components: object) -> object:
    """A plugin whose hook ``hook`` (``register_decoders``, …) registers ``components``."""

    def register_all(register: Any) -> None:
        for component in components:
            register(component)

    return types.SimpleNamespace(**{hook: ioproto.hookimpl(register_all)})


def words_plugin() -> object:
    return registering("register_decoders", Words())


def manager(*extra: object) -> ioproto.PluginManager:
    return make_plugin_manager(
        load_entrypoints=False, plugins=[ioproto_engineio, ioproto_socketio, *extra]
    )


def said(*words: str) -> list[Record]:
    messages = [("c2s", "0")] + [("c2s", socketio_event("say", word)) for word in words]
    return socketio_messages(messages)


# -- hooks that cannot work ------------------------------------------------------------------


def test_a_misspelt_hook_name_says_which_hook_was_meant() -> None:
    misspelt = registering("register_decoder", Words())

    with pytest.raises(ioproto.PluginError, match=r"did you mean register_decoders\?"):
        manager(misspelt)


def test_a_hook_argument_the_hook_does_not_give_names_the_ones_it_gives() -> None:
    class WrongArgument:
        @ioproto.hookimpl
        def register_decoders(self, registry):  # type: ignore[no-untyped-def]
            registry(Words())

    with pytest.raises(ioproto.PluginError) as raised:
        manager(WrongArgument())
    message = str(raised.value)
    assert "'registry'" in message and "it gives: register" in message
    assert "\n" not in message


def test_a_hook_without_the_marker_is_reported_not_ignored() -> None:
    class Unmarked:
        def register_decoders(self, register):  # type: ignore[no-untyped-def]
            register(Words())

    with pytest.warns(PluginLoadWarning, match=r"without @ioproto.hookimpl"):
        manager(Unmarked())


class RegisterRaises:
    @ioproto.hookimpl
    def register_decoders(self, register):  # type: ignore[no-untyped-def]
        raise RuntimeError("no decoders today")


class StartRaises:
    @ioproto.hookimpl
    def pipeline_started(self, pipeline):  # type: ignore[no-untyped-def]
        raise RuntimeError("dashboard down")


@pytest.mark.parametrize(
    ("plugin", "says"),
    [
        (RegisterRaises(), r"failed in register_decoders: RuntimeError: no decoders today at "),
        (StartRaises(), r"failed in pipeline_started: RuntimeError: dashboard down at "),
    ],
)
def test_a_hook_that_raises_is_a_warning_naming_the_plugin_and_the_run_goes_on(
    plugin: object, says: str
) -> None:
    with pytest.warns(PluginLoadWarning, match=says):
        records = list(ioproto.decode(said("hi"), plugin_manager=manager(plugin)))
    assert any(getattr(r, "event", None) == "say" for r in records)


def test_a_component_without_a_member_it_needs_is_skipped_saying_which() -> None:
    no_rides_on = types.SimpleNamespace(
        name="broken", description="test", accepts=lambda record: False, open=lambda context: None
    )
    registers = registering("register_decoders", no_rides_on, Words)  # Words: the class

    with pytest.warns(PluginLoadWarning) as caught:
        ioproto.plugins.collect_components(manager(registers))
    messages = [str(w.message) for w in caught]
    assert any("SimpleNamespace has no rides_on" in m for m in messages), messages
    assert any("register(Words())" in m for m in messages), messages


def test_a_decoder_whose_open_raises_is_a_plugin_error_naming_it() -> None:
    class OpenRaises(Words):
        def open(self, context: Any) -> Words.Stream:
            raise KeyError("missing setting")

    plugin = registering("register_decoders", OpenRaises())

    with pytest.raises(ioproto.PluginError, match=r"decoder 'words' of plugin .* failed to open"):
        Pipeline.build(proto="words", plugin_manager=manager(plugin))


def test_a_decoder_whose_open_returns_no_stream_is_a_plugin_error_saying_what_it_needs() -> None:
    class OpenForgets(Words):
        def open(self, context: Any) -> Any:
            return None  # forgot ``return Words.Stream()``

    plugin = registering("register_decoders", OpenForgets())

    with pytest.raises(ioproto.PluginError, match=r"open\(\) returned NoneType, which has no feed"):
        Pipeline.build(proto="words", plugin_manager=manager(plugin))


# -- mid-stream failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "says"),
    [
        ("raise", "raised ValueError: cannot say that"),
        ("none", "feed() returned NoneType None; it must return a list of records"),
        ("one", "feed() returned Packet"),
        ("text", "feed() a list holding str 'word'"),
    ],
)
def test_a_decoder_failing_on_one_message_is_an_error_record_between_the_good_ones(
    word: str, says: str
) -> None:
    records = list(
        ioproto.decode(
            said("before", word, "after"), proto="words", plugin_manager=manager(words_plugin())
        )
    )
    words = [r.data for r in records if r.layer == "words" and r.type == "word"]
    assert words == ["before", "after"]
    # the EVENT it failed on goes on as if no decoder had taken it, its failure after it
    events = [r for r in records if getattr(r, "event", None) == "say"]
    assert [event.args for event in events] == [["before"], [word], ["after"]]  # type: ignore[attr-defined]
    assert records.index(events[1]) + 1 == records.index(
        error := next(r for r in records if isinstance(r, ErrorRecord))
    )
    assert [r for r in records if isinstance(r, ErrorRecord)] == [error]
    assert error.rule == "plugin.crash" and error.layer == "words"
    assert says in error.reason, error.reason
    assert error.parent is not None and error.parent.args == [word]  # type: ignore[attr-defined]


def test_a_stream_whose_close_returns_nothing_is_an_error_record_after_the_others() -> None:
    class Closes(Words.Stream):
        def close(self) -> Any:
            return None  # forgot ``return []``

    class ClosesWords(Words):
        def open(self, context: Any) -> Words.Stream:
            return Closes()

    plugin = registering("register_decoders", ClosesWords())
    records = list(ioproto.decode(said("hi"), proto="words", plugin_manager=manager(plugin)))
    assert [r.data for r in records if r.type == "word"] == ["hi"]
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    assert [e.reason for e in errors] == [
        "words (SimpleNamespace): close() returned NoneType None; it must return a list of "
        "records (ioproto.Record), [] for none"
    ]


def test_strict_makes_a_failing_decoder_raise_plugin_failure() -> None:
    with pytest.raises(ioproto.PluginFailure, match="cannot say that"):
        list(
            ioproto.decode(
                said("raise"), proto="words", strict=True, plugin_manager=manager(words_plugin())
            )
        )


def test_a_classifier_returning_nothing_is_an_error_record() -> None:
    class Forgets:
        name = "forgets"
        description = "test"

        def open(self, context: Any) -> Forgets:
            return self

        def classify(self, record: Record) -> None:
            return None  # forgot ``return record``

        def close(self) -> list[Record]:
            return []

    plugin = registering("register_classifiers", Forgets())

    records = list(
        ioproto.decode(said("hi"), classifiers=["forgets"], plugin_manager=manager(plugin))
    )
    errors = [r for r in records if isinstance(r, ErrorRecord)]
    assert errors and "classify() returned NoneType" in errors[0].reason
    assert any(getattr(r, "event", None) == "say" for r in records)


# -- the embedder's mistakes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"proto": "sockeio"}, "unknown layer 'sockeio' (did you mean socketio?)"),
        ({"classifiers": ["latensy"]}, "unknown classifier 'latensy'"),
        ({"options": {"revison": 3}}, "decoder option 'revison': no decoder takes it"),
        (
            {"options": {"idle_timeout": 60}},
            "; idle_timeout is a source's option: source_options={'idle_timeout': ...}",
        ),
        ({"options": {"revision": "three"}}, "option revision='three'"),
    ],
)
def test_a_wrong_name_or_value_given_to_decode_is_a_usage_error(
    arguments: dict[str, Any], says: str
) -> None:
    with pytest.raises(ioproto.UsageError) as raised:
        ioproto.decode(said("hi"), **arguments)
    assert says in str(raised.value)


def test_an_unknown_source_name_is_a_usage_error_when_decode_is_called() -> None:
    with pytest.raises(ioproto.UsageError, match=r"unknown source 'pcapp'.*did you mean pcap"):
        ioproto.decode(CHAT, source="pcapp")


@pytest.mark.parametrize(
    ("options", "says"),
    [
        (
            {"prot": 3000},
            "source option 'prot': not an option of the pcap source (did you mean port?)",
        ),
        (
            {"all_http": True},
            "; all_http is a decoder's option: options={'all_http': ...}",
        ),
        ({"max_connections": "many"}, "option max_connections='many': give a whole number"),
    ],
)
def test_a_source_option_the_source_does_not_take_is_a_usage_error_before_any_record(
    options: dict[str, Any], says: str
) -> None:
    records = ioproto.decode(CHAT, source_options=options)
    with pytest.raises(ioproto.UsageError) as raised:
        next(records)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("no-such-capture.pcap", "no such file: no-such-capture.pcap"),
        (
            str(Path(CHAT).parent),
            f"{Path(CHAT).parent} is a directory; name the capture files to read, e.g. "
            f"{Path(CHAT).parent / '*.pcap'} (1 file in it looks like a capture)",
        ),
    ],
    ids=["missing", "directory"],
)
def test_an_input_that_is_no_file_says_so_rather_than_to_name_a_source(
    given: str, says: str
) -> None:
    """As the command says it: "name one with source=" would send the caller looking for a
    source that reads what is not there, or a folder."""
    records = ioproto.decode(given)
    with pytest.raises(ioproto.NoSourceError) as raised:
        next(records)
    assert str(raised.value) == says


HAR = str(Path(CHAT).parents[1] / "tests" / "data" / "har" / "chromium-socketio.har")


@pytest.mark.parametrize(
    ("inputs", "source_options", "says"),
    [
        ([CHAT, "no-such-capture.pcap"], {}, "no such file: no-such-capture.pcap"),
        ([CHAT, HAR], {"port": 47020}, "source option 'port': not an option of the har source"),
    ],
    ids=["missing", "option-of-another-source"],
)
def test_a_mistake_in_any_input_of_a_list_is_raised_before_any_record(
    inputs: list[str], source_options: dict[str, Any], says: str
) -> None:
    """docs/embedding.md: raised by the first next(), before any record; the command refuses
    such a list before reading any. Before, the first capture's records came, then the
    mistake."""
    records = ioproto.decode(inputs, source_options=source_options)
    with pytest.raises(ioproto.UsageError) as raised:
        next(records)
    assert says in str(raised.value)


def test_a_path_is_an_input_and_bytes_are_a_usage_error() -> None:
    events = [r for r in ioproto.decode(Path(CHAT)) if r.type == "EVENT"]
    assert events
    with pytest.raises(ioproto.UsageError, match=r"inputs takes a path .* not bytes"):
        ioproto.decode(CHAT.encode())


def test_an_unknown_sink_name_is_a_usage_error() -> None:
    with pytest.raises(ioproto.UsageError, match=r"unknown sink 'jsnl' \(did you mean jsonl\?\)"):
        Pipeline.build(sinks=[("jsnl", SinkContext(stream=io.StringIO()))])


@pytest.mark.parametrize(
    ("sink", "options", "says"),
    [
        (
            "monitor",
            {"widht": 100},
            "sink option 'widht': not an option of the monitor sink (did you mean width?); "
            "valid: empty_control, flush, hide_control, time, utc, width",
        ),
        (
            "jsonl",
            {"paht": "out.jsonl"},
            "sink option 'paht': not an option of the jsonl sink; valid: flush, raw; it writes "
            "to its SinkContext's stream: SinkContext(stream=open(PATH, 'w', encoding='utf-8'))",
        ),
        (
            "jsonl",
            {"utc": True},
            "sink option 'utc': not an option of the jsonl sink; valid: flush, raw",
        ),
    ],
)
def test_a_sink_option_the_sink_does_not_take_is_a_usage_error(
    sink: str, options: dict[str, Any], says: str
) -> None:
    """As ``--sink-option`` is refused: a misspelt option was silently ignored."""
    context = SinkContext(stream=io.StringIO(), options=options)
    with pytest.raises(ioproto.UsageError) as raised:
        Pipeline.build(sinks=[(sink, context)])
    assert says == str(raised.value)


@pytest.mark.parametrize(
    ("sink", "options", "says"),
    [
        ("parquet", {}, "in Python: SinkContext(stream=sys.stdout, options={'path': DIR})"),
        ("stats", {"format": "xml"}, "xml"),
    ],
)
def test_a_setting_a_sink_refuses_is_a_usage_error(
    sink: str, options: dict[str, Any], says: str
) -> None:
    """A sink's open() raises ValueError for it: the library says it as a UsageError, as
    its other mistakes are, in words a program can follow."""
    context = SinkContext(stream=io.StringIO(), options=options)
    with pytest.raises(ioproto.UsageError) as raised:
        Pipeline.build(sinks=[(sink, context)])
    assert says in str(raised.value)


def test_the_options_a_sink_declares_and_its_private_ones_are_taken(tmp_path: Path) -> None:
    """The dashboard command's ``feed``, the parquet folder as ``path``: what a plugin's own
    code passes besides the declared options."""
    out = io.StringIO()
    jsonl = SinkContext(stream=out, options={"raw": True, "flush": False})
    parquet = SinkContext(stream=io.StringIO(), options={"path": str(tmp_path), "raw": True})
    pipeline = Pipeline.build(sinks=[("jsonl", jsonl), ("parquet", parquet)])
    pipeline.run(said("hi"))
    assert '"raw"' in out.getvalue()
    assert list(tmp_path.iterdir())


def test_the_old_key_error_of_an_unknown_name_still_catches_it() -> None:
    with pytest.raises(KeyError):
        Pipeline.build(proto="sockeio")


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"sinks": ["jsonl"]}, "sinks takes (name, SinkContext) pairs"),
        ({"classifiers": "latency"}, "classifiers takes a list of names"),
        ({"options": "revision=3"}, "options takes a mapping of names to values"),
        ({"options": ["revision=3"]}, "e.g. options={'revision': 3}, not list"),
        ({"limits": {"max_payload": 10}}, "limits takes an ioproto.Limits"),
        ({"guards": "engineio"}, "guards takes a mapping"),
        ({"plugin_manager": "pm"}, "plugin_manager takes a manager from"),
        (
            {"sinks": [("jsonl", SinkContext(stream="out.jsonl"))]},  # type: ignore[arg-type]
            "sink 'jsonl': SinkContext(stream=...) takes an open text stream, not str "
            "'out.jsonl': SinkContext(stream=open(PATH, 'w', encoding='utf-8'))",
        ),
        (
            {"sinks": [("jsonl", SinkContext(stream=io.BytesIO()))]},  # type: ignore[arg-type]
            "sink 'jsonl': its stream is open in binary mode",
        ),
    ],
)
def test_an_argument_of_the_wrong_shape_says_the_right_one(
    arguments: dict[str, Any], says: str
) -> None:
    with pytest.raises(ioproto.UsageError) as raised:
        Pipeline.build(**arguments)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"classifiers": "latency"}, "classifiers takes a list of names: classifiers=['latency']"),
        ({"source_options": "port=3000"}, "source_options takes a mapping of names to values"),
        ({"options": "revision=3"}, "options takes a mapping of names to values"),
        ({"jobs": "2"}, "jobs takes a whole number of processes"),
        ({"limits": {"max_payload": 10}}, "limits takes an ioproto.Limits"),
        (
            {"filter": ['sio.event == "chat"', 'direction == "c2s"']},
            "filter takes an expression, e.g. filter='sio.event == \"chat\"' (several joined "
            "with and), or a Filter from ioproto.compile_filter, not list",
        ),
        ({"filter": lambda record: True}, "filter takes an expression"),
    ],
)
def test_an_argument_of_decode_of_the_wrong_shape_says_the_right_one(
    arguments: dict[str, Any], says: str
) -> None:
    """``classifiers="latency"`` was read letter by letter: 'unknown classifier 'l''."""
    with pytest.raises(ioproto.UsageError) as raised:
        ioproto.decode(CHAT, **arguments)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda p: p.feed(b"4hello"), "a record goes in (an ioproto.Record, as a source makes"),
        (lambda p: p.run([b"4hello"]), "not bytes b'4hello'"),
        (lambda p: p.run(said("hi")[0]), "feed(Chunk(...)) takes one record, run([...]) a list"),
        (lambda p: p.run(b"4hello"), "run takes an iterable of records"),
    ],
)
def test_what_is_no_record_fed_to_a_pipeline_says_what_goes_in(call: Any, says: str) -> None:
    """It was an AttributeError ('bytes' object has no attribute 'layer') from inside."""
    with pytest.raises(ioproto.UsageError) as raised:
        call(Pipeline.build(proto="engineio"))
    assert says in str(raised.value)


def test_feeding_a_finished_pipeline_says_to_build_another() -> None:
    """Its layers and sinks are closed: the records went into closed streams, or nowhere."""
    out = io.StringIO()
    pipeline = Pipeline.build(proto="socketio", sinks=[("jsonl", SinkContext(stream=out))])
    pipeline.feed(said("hi")[0])
    pipeline.finish()
    with pytest.raises(ioproto.UsageError, match=r"this pipeline is finished .* build another"):
        pipeline.feed(said("hi")[0])
    pipeline.close()
    with pytest.raises(ioproto.UsageError, match="this pipeline is finished"):
        pipeline.feed(said("hi")[0])


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"plugins": ["ioproto_jsonl"]}, "not the name 'ioproto_jsonl': import it and pass it"),
        ({"plugins": "ioproto_jsonl"}, "plugins takes plugin objects"),
        ({"only": "jsonl"}, "only takes a list of names: only=['jsonl']"),
    ],
)
def test_a_name_where_make_plugin_manager_takes_plugins_or_a_list_says_so(
    arguments: dict[str, Any], says: str
) -> None:
    """A name in plugins was registered as a plugin with no hooks, silently; one string
    as plugins, each of its letters ('Plugin already registered')."""
    with pytest.raises(ioproto.UsageError) as raised:
        make_plugin_manager(**arguments)
    assert says in str(raised.value)


@pytest.mark.parametrize("value", ["1M", -1, 0, 1.5, True])
def test_a_limit_that_is_no_whole_number_of_at_least_one_is_a_usage_error(value: Any) -> None:
    """A string failed every message later (an engineio.internal record each); 0 or less
    made every message 'too large'."""
    with pytest.raises(ioproto.UsageError, match=r"Limits\(max_payload=.*\): give a whole"):
        ioproto.Limits(max_payload=value)


UNGUARDED = """\
import ioproto

try:
    for record in ioproto.decode("proxy:127.0.0.1:0", source_options={"upstream": "http://127.0.0.1:9"}):
        print("record", record.layer, record.type)
except ioproto.UsageError as mistake:
    print("UsageError:", mistake)
"""


def test_a_script_that_starts_the_proxy_at_its_top_level_is_told_to_guard_it(
    tmp_path: Path,
) -> None:
    """docs/embedding.md: the proxy relays in a process started as multiprocessing's "spawn"
    does, which runs the main module again. A script with no ``if __name__ == "__main__":``
    gets a UsageError saying so, with no traceback from that process, not an error record
    saying its relay ended before it listened."""
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("UsageError: ") and 'if __name__ == "__main__":' in line, line
    assert "Traceback" not in done.stderr, done.stderr


def test_no_warning_for_the_bundled_plugins() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginLoadWarning)
        ioproto.plugins.collect_components(make_plugin_manager())
