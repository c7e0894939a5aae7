"""Docs and code cannot drift apart: hooks are documented with their exact signatures and
the Python snippets in the docs run."""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import pytest

from ioproto import hookspecs
from ioproto.plugins import make_plugin_manager

DOCS = Path(__file__).resolve().parents[2] / "docs"


def hook_names() -> list[str]:
    pm = make_plugin_manager(load_entrypoints=False)
    return sorted(name for name in dir(pm.hook) if not name.startswith("_"))


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_is_documented_with_its_exact_signature(name: str) -> None:
    spec = getattr(hookspecs, name)
    parameters = ", ".join(inspect.signature(spec).parameters)
    heading = f"### {name}({parameters})"
    assert heading in (DOCS / "plugin-hooks.md").read_text(), f"missing: {heading}"


def test_every_documented_hook_exists() -> None:
    documented = re.findall(r"^### (\w+)\(", (DOCS / "plugin-hooks.md").read_text(), re.M)
    assert sorted(documented) == hook_names()


def test_every_optional_member_is_documented() -> None:
    from ioproto.components import OPTIONAL_MEMBERS

    text = (DOCS / "plugin-hooks.md").read_text()
    section = text[text.index("## Optional members") :]
    documented = set(re.findall(r"^\| [a-z ]+ \| `(\w+)", section, re.M))
    declared = {member for members in OPTIONAL_MEMBERS.values() for member in members}
    assert documented == declared


def test_the_readme_lists_every_page_of_the_docs() -> None:
    """README.md's "Documentation" names each docs/*.md, so a newcomer finds every page."""
    readme = (DOCS.parent / "README.md").read_text()
    listed = readme[readme.index("## Documentation") :].split("\n## ")[0]
    named = set(re.findall(r"^- docs/([\w-]+\.md) — ", listed, re.M))
    assert named == {page.name for page in DOCS.glob("*.md")}


def python_snippets(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), re.S)


def test_embedding_snippets_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    snippets = python_snippets(DOCS / "embedding.md")
    assert snippets
    namespace: dict[str, object] = {}
    for snippet in snippets:
        exec(compile(snippet, str(DOCS / "embedding.md"), "exec"), namespace)


def test_every_limit_is_documented_with_its_default() -> None:
    """docs/cli.md's table of limits names every ioproto.Limits field with its default."""
    import attrs

    from ioproto.cli.options import parse_limits
    from ioproto.components import Limits

    text = (DOCS / "cli.md").read_text()
    rows = dict(re.findall(r"^\| `(max_\w+)` \| (\w+) \|", text, re.M))
    defaults = attrs.asdict(Limits())
    assert sorted(rows) == sorted(defaults)
    for name, default in rows.items():
        assert attrs.asdict(parse_limits([f"{name}={default}"]))[name] == defaults[name], name


def test_session_snippet_counts_the_events_of_each_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docs/plugin-hooks.md's session example, registered as a plugin, on a real capture."""
    import types

    import ioproto

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    (snippet,) = [s for s in python_snippets(DOCS / "plugin-hooks.md") if "EventCounter" in s]
    module = types.ModuleType("event_counter")
    exec(compile(snippet, str(DOCS / "plugin-hooks.md"), "exec"), module.__dict__)
    states: list[object] = []
    opened = module.EventCounter.open

    def keep(self: object, context: object) -> object:
        states.append(opened(self, context))
        return states[-1]

    monkeypatch.setattr(module.EventCounter, "open", keep)
    pm = make_plugin_manager(plugins=[module])
    records = list(
        ioproto.decode("examples/chat.pcap", classifiers=["event-counter"], plugin_manager=pm)
    )
    events: dict[str, int] = {}
    for record in records:
        if record.layer == "socketio" and record.type == "EVENT":
            events[record.sid] = events.get(record.sid, 0) + 1
    (state,) = states
    reports = state.reports  # type: ignore[attr-defined]
    assert {key: count for key, count, _ in reports} == events
    assert {reason for _, _, reason in reports} <= {"closed", "transport closed", "input ended"}


def test_lazy_registration_snippet_lists_without_importing(
    recwarn: pytest.WarningsRecorder,
) -> None:
    """docs/plugin-hooks.md's "Registering lazily" example, as a plugin whose modules do not
    even exist: listed (plugins, --proto, --help) without importing them; a use reports it."""
    import types

    import click

    from ioproto.cli import build_cli, register_plugin_commands
    from ioproto.cli.state import CliState
    from ioproto.layers import layer_names
    from ioproto.plugins import collect_components, describe_plugins

    (snippet,) = [s for s in python_snippets(DOCS / "plugin-hooks.md") if "LazyCommand" in s]
    module = types.ModuleType("game_plugin")
    exec(compile(snippet, str(DOCS / "plugin-hooks.md"), "exec"), module.__dict__)
    pm = make_plugin_manager(plugins=[module])
    components = collect_components(pm)
    (described,) = [
        entry for entry in describe_plugins(pm, components) if "csv" in entry.get("sinks", ())
    ]
    assert described["decoders"] == ["game"]
    assert "app" in layer_names(components)
    cli = build_cli()
    register_plugin_commands(pm, cli)
    context = click.Context(cli, obj=CliState(pm, components))
    replay = cli.get_command(context, "replay")
    assert (
        replay is not None
        and replay.get_short_help_str() == "Replay a capture at its recorded pace."
    )
    assert not [name for name in sys.modules if name.startswith("ioproto_game")]
    assert "csv" not in [item.component.name for item in components.sinks.items()]
    assert any("failed to make sink 'csv'" in str(warning.message) for warning in recwarn)
