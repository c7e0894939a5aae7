"""Third-party plugins on the command line: a working one is listed next to the bundled
ones; one that fails to import, or whose hook raises, is reported by name on stderr and the
command still works."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioproto.cli import main


def install(tmp: Path, name: str, source: str) -> None:
    """A tiny installed distribution ``name`` with an ``ioproto`` entry point."""
    module = f"{name.replace('-', '_')}_thirdparty"
    (tmp / f"{module}.py").write_text(textwrap.dedent(source))
    dist_info = tmp / f"{name}-1.2.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.2\n")
    (dist_info / "entry_points.txt").write_text(f"[ioproto]\n{name} = {module}\n")


GOOD = """
import ioproto

class Shout:
    name = "shout"
    description = "upper-cases record types"
    def open(self, context):
        stream = context.stream
        class Sink:
            def write(self, record):
                stream.write(record.type.upper() + "\\n")
            def close(self):
                pass
        return Sink()

@ioproto.hookimpl
def register_sinks(register):
    register(Shout())
"""

IMPORT_ERROR = """
import ioproto_no_such_module
"""

HOOK_RAISES = """
import ioproto

@ioproto.hookimpl
def register_decoders(register):
    raise RuntimeError("boom in register_decoders")
"""

COMMAND_RAISES = """
import ioproto

@ioproto.hookimpl
def register_commands(cli):
    raise RuntimeError("boom in register_commands")
"""


WRONG_ARGUMENT = """
import ioproto

@ioproto.hookimpl
def register_sinks(registry):
    pass
"""


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    install(tmp_path, "good", GOOD)
    install(tmp_path, "badimport", IMPORT_ERROR)
    install(tmp_path, "badhook", HOOK_RAISES)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("IOPROTO_LOAD_PLUGINS", raising=False)
    yield tmp_path
    for module in [name for name in sys.modules if name.endswith("_thirdparty")]:
        sys.modules.pop(module, None)


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plugins_json_lists_third_party_plugins_and_reports_broken_ones(
    plugins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(["plugins", "--json"], capsys)
    assert code == 0
    described = {entry["name"]: entry for entry in json.loads(out)}
    assert described["good"]["distribution"] == "good" and described["good"]["version"] == "1.2"
    assert described["good"]["sinks"] == ["shout"]
    assert "socketio" in described and "jsonl" in described
    assert "badimport" not in described
    assert "plugin 'badimport'" in err and "ModuleNotFoundError" in err
    assert "plugin 'badhook' failed in register_decoders" in err and "boom" in err


def test_decoding_still_works_and_the_good_plugin_sink_runs(
    plugins: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "input.txt"
    lines.write_text("4hello\n2\n")
    code, out, err = cli(
        ["decode", "--proto", "engineio", "--no-classify", "all", "--sink", "shout", str(lines)],
        capsys,
    )
    assert code == 0, err
    assert out.splitlines() == ["MESSAGE", "PING"]
    assert "badimport" in err and "badhook" in err


def test_a_raising_register_commands_hook_does_not_take_the_tool_down(
    plugins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(plugins, "badcommand", COMMAND_RAISES)
    # Plugins' commands are registered when a command is looked for that the core does not
    # have, or for --help (not for --version or the core's own commands: start-up time).
    code, out, err = cli(["--help"], capsys)
    assert code == 0, err
    assert "badcommand" in err and "boom in register_commands" in err
    assert "decode" in out
    code, out, err = cli(["plugins", "--json"], capsys)
    assert code == 0, err
    assert "good" in {entry["name"] for entry in json.loads(out)}


def test_an_installed_plugin_with_a_hook_ioproto_cannot_call_is_skipped_saying_what_to_change(
    plugins: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(plugins, "wronghook", WRONG_ARGUMENT)
    code, out, err = cli(["plugins", "--json"], capsys)
    assert code == 0, err
    assert "wronghook" not in {entry["name"] for entry in json.loads(out)}
    said = [line for line in err.splitlines() if "wronghook" in line]
    assert said == [
        "ioproto: warning: ioproto plugin 'wronghook' (wronghook_thirdparty) was skipped: "
        "register_sinks() takes 'registry', which the hook does not give (did you mean "
        "register?); it gives: register (see docs/plugin-hooks.md)"
    ]
