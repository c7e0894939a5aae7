"""Components registered as :class:`ioproto.LazyComponent`: listed without being made, made
once on first real use, their declarations equal to the real components' attributes, a
broken one reported and skipped; and the listing commands import no component's module."""

from __future__ import annotations

import subprocess
import sys
import types
import warnings
from pathlib import Path

import pytest

import ioproto
from ioproto.components import OPTIONAL_MEMBERS, optional
from ioproto.errors import PluginLoadWarning
from ioproto.lazycomponents import LazyComponent, declarations, made
from ioproto.plugins import UnknownComponentError, collect_components, make_plugin_manager

KINDS = {
    "sources": "Source",
    "decoders": "Decoder",
    "classifiers": "Classifier",
    "sinks": "SinkFactory",
}


def test_bundled_declarations_equal_the_real_components() -> None:
    components = collect_components(make_plugin_manager())
    checked = 0
    for registry_name, kind in KINDS.items():
        registry = getattr(components, registry_name)
        for entry in registry.entries():
            described = entry.component
            if not isinstance(described, LazyComponent):
                continue
            real = registry.get(described.name)
            for member, value in declarations(described).items():
                if member in OPTIONAL_MEMBERS[kind]:
                    assert optional(real, kind, member) == value, (described, member)
                else:
                    assert getattr(real, member) == value, (described, member)
                checked += 1
    assert checked >= 25  # every bundled component is lazy: names, and decoders' layers


class Counted:
    made = 0

    def __init__(self) -> None:
        Counted.made += 1
        self.name = "counted"
        self.description = "a sink made on first use"
        self.extra = "undeclared"

    def open(self, context: object) -> object:
        raise NotImplementedError


def _plugin(**hooks: object) -> types.SimpleNamespace:
    marked = {name: ioproto.hookimpl(function) for name, function in hooks.items()}
    return types.SimpleNamespace(**marked)


def test_a_lazy_component_is_made_once_on_first_use() -> None:
    Counted.made = 0

    def register_sinks(register):  # type: ignore[no-untyped-def]
        register(LazyComponent(f"{__name__}:Counted", name="counted"))

    pm = make_plugin_manager(
        load_entrypoints=False, plugins=[_plugin(register_sinks=register_sinks)]
    )
    components = collect_components(pm)
    assert components.sinks.names() == ["counted"] and "counted" in components.sinks
    assert Counted.made == 0
    entry = components.sinks.entries()[0].component
    assert entry.name == "counted" and Counted.made == 0
    assert entry.extra == "undeclared" and Counted.made == 1  # undeclared: made to answer
    first = components.sinks.get("counted")
    assert isinstance(first, Counted) and first is made(entry)
    assert [item.component for item in components.sinks.items()] == [first]
    assert Counted.made == 1


def test_a_lazy_component_that_cannot_be_made_is_reported_and_skipped() -> None:
    def register_decoders(register):  # type: ignore[no-untyped-def]
        register(LazyComponent("ioproto_no_such_module:Decoder", name="ghost", rides_on="x"))

    pm = make_plugin_manager(
        load_entrypoints=False, plugins=[_plugin(register_decoders=register_decoders)]
    )
    components = collect_components(pm)
    assert components.decoders.names() == ["ghost"]  # listed: nothing is imported for that
    with pytest.warns(PluginLoadWarning, match="failed to make decoder 'ghost'.*ModuleNotFound"):
        assert components.decoders.items() == []
    assert "ghost" not in components.decoders
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reported once
        with pytest.raises(UnknownComponentError):
            components.decoders.get("ghost")


def test_a_made_component_must_have_the_declared_name() -> None:
    described = LazyComponent(f"{__name__}:Counted", name="other")
    with pytest.raises(ValueError, match="named 'counted', registered as 'other'"):
        made(described)


def test_a_target_names_module_and_attribute() -> None:
    with pytest.raises(ValueError, match="module:attribute"):
        LazyComponent("just_a_module", name="x")


HEAVY = (
    "construct",
    "ioproto_engineio.decoder",
    "ioproto_socketio.decoder",
    "ioproto_msgpack.decoder",
    "ioproto_http.decoder",
    "ioproto_pcap.source",
    "ioproto_pcap.capture",
    "ioproto_browser.source",
    "ioproto_live.source",
    "ioproto_classify.latency",
    "ioproto_dashboard.sink",
    "ioproto_stats.sink",
    "pyarrow",
    "rich",
    "ioproto.pipeline",
    "ioproto.worker",
    "ioproto_dashboard.command",
    "ioproto_monitor.command",
    "ioproto_stats.command",
    "ioproto_proxy.command",
)

PROBE = """
import sys
from click.testing import CliRunner
from ioproto.cli import build_cli
from ioproto.cli.state import CliState
result = CliRunner().invoke(build_cli(), sys.argv[1:], obj=CliState())
assert result.exit_code == 0, result.output
print(",".join(name for name in {heavy!r} if name in sys.modules))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["plugins"],
        ["plugins", "--json"],
        ["fields"],
        ["fields", "--json"],
        ["--help"],
        ["decode", "--help"],
    ],
)
def test_listing_commands_import_no_heavy_module(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("command", ["plugins", "fields"])
def test_the_listings_load_json_only_for_json(command: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=("json",)), command],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize(
    "args", [["plugins"], ["plugins", "--json"], ["fields"], ["fields", "--json"]]
)
def test_the_listings_import_no_attrs(args: list[str]) -> None:
    """attrs' import is about a fifth of `ioproto plugins`: the registry, the fields and
    ioproto.components (whose attrs contexts load on first use) do without it."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=("attrs", "attr")), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""


def test_a_small_decode_loads_no_process_machinery_nor_construct() -> None:
    """A capture decoded in this process (under 1 MB) needs neither multiprocessing (the
    reader and shard processes) nor ctypes.util (whose find_library runs ldconfig), and
    packets that all take the fast paths do not load construct's declarations."""
    chat = str(Path(__file__).resolve().parents[2] / "examples" / "chat.pcap")
    heavy = (
        "multiprocessing",
        "ctypes.util",
        "ioproto.shard",
        "ioproto.routing",
        "construct",
        "ioproto_engineio.wire",
        "ioproto_socketio.wire",
    )
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy), "decode", "--sink", "jsonl", chat],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize(
    ("fields", "records"),
    [
        ("ioproto_tcp.fields", "ioproto_tcp.records"),
        ("ioproto_http.fields", "ioproto_http.records"),
        ("ioproto_engineio.fields", "ioproto_engineio.records"),
        ("ioproto_socketio.fields", "ioproto_socketio.records"),
        ("ioproto_appproto.fields", "ioproto_appproto.records"),
    ],
)
def test_fields_modules_name_their_layer_as_their_records_do(fields: str, records: str) -> None:
    """The fields modules do not import their records (start-up): their layer names are
    copies, checked here."""
    from importlib import import_module

    named = import_module(fields)
    layer = getattr(named, "LAYER", None) or named.CHUNK_LAYER
    assert layer == import_module(records).LAYER
    if fields == "ioproto_tcp.fields":
        assert import_module(fields).CHUNK_LAYER == import_module("ioproto_http.records").LAYER


def test_chunk_opcodes_are_keyed_by_the_chunk_kinds() -> None:
    from ioproto_http.fields import _OPCODES
    from ioproto_http.records import ChunkKind

    assert _OPCODES == {ChunkKind.WS_TEXT: 1, ChunkKind.WS_BINARY: 2}


def test_lazy_commands_summarise_their_commands_as_click_would() -> None:
    """A LazyCommand's summary is the first paragraph of its command's help, so that
    ``ioproto --help`` lists the same line as it would with the command imported."""
    import click

    from ioproto.cli import build_cli
    from ioproto.cli.lazycommand import LazyCommand
    from ioproto.cli.state import CliState

    cli = build_cli()
    context = click.Context(cli, obj=CliState())
    lazy = []
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        if isinstance(command, LazyCommand):
            real = command.command()
            assert real.name == name
            first = (real.help or "").split("\n\n")[0].split()
            assert (command.help or "").split() == first, name
            assert command.get_short_help_str(40) == real.get_short_help_str(40)
            lazy.append(name)
    assert {"monitor", "stats", "dashboard", "proxy", "query"} <= set(lazy)


def test_sources_with_prefixes_read_only_such_inputs() -> None:
    """``prefixes`` lets the choice of a source skip making those that cannot read an input:
    their probe must refuse every input without one of them."""
    components = collect_components(make_plugin_manager())
    with_prefixes = 0
    for item in components.sources.items():
        prefixes = optional(item.component, "Source", "prefixes")
        if prefixes is None:
            continue
        with_prefixes += 1
        for other in ("examples/chat.pcap", "capture.har", "x" + prefixes[0], "lines.txt"):
            assert item.component.probe(other) < 0, (item.component.name, other)
        for prefix in prefixes:
            assert item.component.probe(prefix + "lo") >= 0, (item.component.name, prefix)
    assert with_prefixes >= 4


CHOOSE = """
import sys
from ioproto.pipeline import resolve_source
from ioproto.plugins import collect_components, make_plugin_manager
chosen = resolve_source(collect_components(make_plugin_manager()), sys.argv[1])
print(chosen.name)
print(",".join(sorted(m for m in sys.modules if m.endswith(".source"))))
"""


def test_choosing_the_source_of_a_file_makes_no_live_source() -> None:
    capture = str(Path(__file__).resolve().parents[2] / "examples" / "chat.pcap")
    done = subprocess.run(
        [sys.executable, "-c", CHOOSE, capture], capture_output=True, text=True, check=True
    )
    name, made_sources = done.stdout.split()
    assert name == "pcap"
    assert set(made_sources.split(",")) == {
        "ioproto_har.source",
        "ioproto_lines.source",
        "ioproto_pcap.source",
    }
