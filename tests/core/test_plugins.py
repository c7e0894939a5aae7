"""Plugin loading: bundled plugins, entry points, IOPROTO_LOAD_PLUGINS, validation."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import ioproto
from ioproto.plugins import (
    PluginLoadWarning,
    UnknownComponentError,
    collect_components,
    describe_plugins,
    make_plugin_manager,
)

BUNDLED = {"lines", "engineio", "jsonl", "text"}


def test_bundled_plugins_load_through_entry_points() -> None:
    pm = make_plugin_manager()
    names = {name for name, _ in pm.list_name_plugin()}
    assert names >= BUNDLED
    components = collect_components(pm)
    assert "lines" in components.sources
    assert {"jsonl", "text"} <= set(components.sinks.names())


def test_each_call_builds_a_fresh_manager() -> None:
    first = make_plugin_manager()
    second = make_plugin_manager()
    assert first is not second
    first.set_blocked("text")
    assert second.get_plugin("text") is not None


def test_load_plugins_environment_restricts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOPROTO_LOAD_PLUGINS", "lines,jsonl")
    pm = make_plugin_manager()
    names = {name for name, _ in pm.list_name_plugin()}
    assert names == {"lines", "jsonl"}


def test_load_plugins_warns_of_a_name_no_plugin_has(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOPROTO_LOAD_PLUGINS", "lines,jsnl")
    meant = r"'jsnl', which no installed plugin is \(did you mean jsonl\?\)"
    with pytest.warns(PluginLoadWarning, match=meant):
        pm = make_plugin_manager()
    assert {name for name, _ in pm.list_name_plugin()} == {"lines"}


def test_load_plugins_empty_loads_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOPROTO_LOAD_PLUGINS", "")
    pm = make_plugin_manager()
    assert pm.list_name_plugin() == []


def test_misspelt_hook_fails_loudly() -> None:
    class Misspelt:
        @ioproto.hookimpl
        def register_decoder(self, register):  # type: ignore[no-untyped-def]
            """register_decoders is the real name."""

    with pytest.raises(ioproto.PluginError, match="did you mean register_decoders"):
        make_plugin_manager(load_entrypoints=False, plugins=[Misspelt()])


def _install_fake_distribution(tmp_path: Path, name: str, module_source: str) -> None:
    """A real (if tiny) installed distribution with an ``ioproto`` entry point."""
    module = f"{name}_plugin"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(module_source))
    dist_info = tmp_path / f"{name}-0.3.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.3\n")
    (dist_info / "entry_points.txt").write_text(f"[ioproto]\n{name} = {module}\n")


@pytest.fixture
def site_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on ``sys.path`` to install distributions into; every entry point loads, not
    only the bundled ones the suite loads elsewhere (tests/conftest.py)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("IOPROTO_LOAD_PLUGINS", raising=False)
    yield tmp_path
    for module in [name for name in sys.modules if name.endswith("_plugin")]:
        sys.modules.pop(module, None)


def test_throwaway_entry_point_plugin_is_loaded_and_described(site_dir: Path) -> None:
    _install_fake_distribution(
        site_dir,
        "throwaway",
        """
        import ioproto

        class Shout:
            name = "shout"
            description = "upper-cases nothing"
            def open(self, context):
                return None

        @ioproto.hookimpl
        def register_sinks(register):
            register(Shout())
        """,
    )
    pm = make_plugin_manager()
    assert pm.get_plugin("throwaway") is not None
    described = {entry["name"]: entry for entry in describe_plugins(pm)}
    assert described["throwaway"]["version"] == "0.3"
    assert described["throwaway"]["distribution"] == "throwaway"
    assert described["throwaway"]["hooks"] == ["register_sinks"]
    assert described["throwaway"]["sinks"] == ["shout"]


def test_plugin_that_fails_to_import_is_a_warning(site_dir: Path) -> None:
    _install_fake_distribution(site_dir, "broken", "raise RuntimeError('boom at import')\n")
    with pytest.warns(PluginLoadWarning, match="'broken'.*boom at import"):
        pm = make_plugin_manager()
    assert pm.get_plugin("broken") is None
    assert pm.get_plugin("lines") is not None


def test_register_hook_that_raises_is_reported_and_skipped() -> None:
    class Faulty:
        @ioproto.hookimpl
        def register_sinks(self, register):  # type: ignore[no-untyped-def]
            raise ValueError("cannot register")

    pm = make_plugin_manager(load_entrypoints=False, plugins=[Faulty()])
    with pytest.warns(PluginLoadWarning, match="register_sinks.*cannot register"):
        components = collect_components(pm)
    assert len(components.sinks) == 0


def test_duplicate_names_keep_the_first() -> None:
    class Sink:
        def __init__(self, description: str) -> None:
            self.name = "dup"
            self.description = description

        def open(self, context: object) -> None:
            raise NotImplementedError

    class First:
        @ioproto.hookimpl
        def register_sinks(self, register):  # type: ignore[no-untyped-def]
            register(Sink("first"))

    class Second:
        @ioproto.hookimpl
        def register_sinks(self, register):  # type: ignore[no-untyped-def]
            register(Sink("second"))

    pm = make_plugin_manager(load_entrypoints=False, plugins=[First(), Second()])
    with pytest.warns(PluginLoadWarning, match="already registered"):
        components = collect_components(pm)
    assert components.sinks.get("dup").description == "first"


def test_unknown_name_lists_valid_ones() -> None:
    components = collect_components(make_plugin_manager())
    with pytest.raises(UnknownComponentError) as info:
        components.sinks.get("nope")
    assert "unknown sink 'nope'" in str(info.value)
    assert "jsonl" in str(info.value)


@pytest.mark.parametrize("group", ["ioproto", "console_scripts", "pytest11"])
def test_entry_points_are_those_importlib_metadata_finds(group: str) -> None:
    """ioproto.entrypoints reads the distribution directories itself (start-up time); it
    must find what importlib.metadata finds, in the same order."""
    import importlib.metadata

    from ioproto.entrypoints import entry_points

    def described(found: Iterable[Any]) -> list[tuple[str, str, str, str]]:
        return [(item.name, item.value, item.dist.name, item.dist.version) for item in found]

    expected = described(importlib.metadata.entry_points(group=group))
    assert described(entry_points(group)) == expected
    if group == "ioproto":
        assert len(expected) >= 22


def test_entry_points_in_a_zip_on_the_path_are_left_to_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import zipfile

    from ioproto.entrypoints import entry_points

    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("zipped_plugin.py", "VALUE = 1\n")
        bundle.writestr("zipped-1.0.dist-info/METADATA", "Name: zipped\nVersion: 1.0\n\n")
        bundle.writestr("zipped-1.0.dist-info/entry_points.txt", "[ioproto]\nzipped = x:y\n")
    monkeypatch.syspath_prepend(str(archive))
    found = {item.name: item.dist.version for item in entry_points("ioproto")}
    assert found["zipped"] == "1.0" and "engineio" in found


class Configured:
    """A plugin that keeps the ``configure`` calls it gets."""

    def __init__(self) -> None:
        self.configs: list[dict[str, Any]] = []

    @ioproto.hookimpl
    def configure(self, config: dict[str, Any]) -> None:
        self.configs.append(config)


def test_configure_reaches_each_pipeline_and_a_later_plugin_gets_the_latest_once() -> None:
    early = Configured()
    pm = make_plugin_manager(plugins=[early])
    for revision in (3, 4):
        ioproto.Pipeline.build(plugin_manager=pm, options={"revision": revision}).close()
    assert [config["options"]["revision"] for config in early.configs] == [3, 4]
    late = Configured()
    pm.register(late)
    assert [config["options"]["revision"] for config in late.configs] == [4]
    assert len(early.configs) == 2


def test_pipelines_built_on_one_manager_do_not_grow_it() -> None:
    """pluggy's historic call kept every pipeline's config (about 750 bytes each) for
    plugins registered later: 2,000 pipelines held 1.5 MB."""
    import gc
    import tracemalloc

    pm = make_plugin_manager()
    components = collect_components(pm)
    for _ in range(20):  # caches filled
        ioproto.Pipeline.build(plugin_manager=pm, components=components).close()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(2_000):
            ioproto.Pipeline.build(plugin_manager=pm, components=components).close()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 100_000


def test_a_plugin_installed_besides_the_bundled_ones_changes_no_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's tour installs an example plugin (docs/examples/ioproto-game) where the
    tests then run; the suite loads only ioproto's own entry points (tests/conftest.py), in
    this process and in the commands it runs, so such a plugin adds no layer, sink or
    import to what the tests compare."""
    import json
    import os

    from clirun import run_ioproto

    module = tmp_path / "extra_thirdparty.py"
    module.write_text("import ioproto\n\n@ioproto.hookimpl\ndef register_sinks(register): ...\n")
    dist_info = tmp_path / "extra-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: extra\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[ioproto]\nextra = extra_thirdparty\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "extra" not in {name for name, _ in make_plugin_manager().list_name_plugin()}
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    done = run_ioproto("plugins", "--json", env={"PYTHONPATH": path})
    assert done.returncode == 0, done.stderr
    listed = {entry["name"] for entry in json.loads(done.stdout)}
    assert "extra" not in listed and {"engineio", "socketio", "jsonl"} <= listed


def test_an_input_when_no_source_is_loaded_says_what_leaves_them_out() -> None:
    """``IOPROTO_LOAD_PLUGINS`` naming no source: not "name one with --source", which none
    would take, but which plugins are loaded and what restricts them."""
    from clirun import run_ioproto

    chat = str(Path(__file__).resolve().parents[2] / "examples" / "chat.pcap")
    done = run_ioproto("decode", chat, env={"IOPROTO_LOAD_PLUGINS": "engineio,socketio,text"})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        f"ioproto: error: no capture source can read {chat!r}: no plugin that registers one "
        "is loaded (IOPROTO_LOAD_PLUGINS=a,b loads only those; `ioproto plugins` lists what "
        "is loaded)"
    ]
