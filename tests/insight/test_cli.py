"""`ioproto monitor` / `ioproto stats` through click, and golden outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from insighthelp import DATA, check_golden, plugin_modules

from ioproto.cli import build_cli
from ioproto.cli.state import CliState
from ioproto.plugins import make_plugin_manager

LINES = """\
#! revision=4 sid=abc transport=polling
< 0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}
> 40
< 40{"sid":"xyz"}
> 420["chat","hello",{"n":1}]
< 430[{"ok":true}]
> 42["\\u001b[2J[bold red]evil\\u001b]52;c;aGk=\\u0007","\\r\\u202e"]
< 2
> 3
#! transport=websocket
> 2probe
< 3probe
> 5
> 40/admin,{"token":"t"}
< 44/admin,{"message":"forbidden"}
> 1
"""


def invoke(*args: str) -> Any:
    pm = make_plugin_manager(load_entrypoints=False, plugins=plugin_modules())
    cli = build_cli()
    pm.hook.register_commands(cli=cli)
    runner = CliRunner()
    return runner.invoke(cli, list(args), obj=CliState(plugin_manager=pm), catch_exceptions=False)


@pytest.fixture
def lines_file(tmp_path: Path) -> str:
    path = tmp_path / "traffic.txt"
    path.write_text(LINES, encoding="utf-8")
    return str(path)


def test_monitor_lines(lines_file: str) -> None:
    # (the lines source stamps records with the reading time: no golden for round-trips)
    result = invoke("monitor", "--time", "none", "--no-color", lines_file)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 15
    assert lines[3] == 'abc      → xhr   chat("hello", {"n":1}) #0'
    assert lines[4].startswith("abc      ← xhr   ack #0 for chat (")
    assert lines[5] == ('abc      → xhr   \\x1b[2J[bold red]evil\\x1b]52;c;aGk=\\x07("\\r\\u202e")')
    assert "\x1b" not in result.output


def test_monitor_filters(lines_file: str) -> None:
    result = invoke("monitor", "--time", "none", "--event", "ch*", lines_file)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 2 and "chat(" in lines[0] and "ack #0 for chat" in lines[1]
    hidden = invoke("monitor", "--time", "none", "--hide-control", lines_file)
    shown = [line for line in hidden.output.splitlines() if " session " not in line]
    assert len(shown) == 7
    assert not any(word in line for line in shown for word in (" ping", " pong", " upgrade"))
    admin = invoke("monitor", "--time", "none", "--nsp", "/admin", "--direction", "s2c", lines_file)
    assert admin.output.splitlines() == [
        "abc      ← ws    connect error /admin forbidden",
    ]


def test_monitor_takes_its_sink_options_where_its_flags_are_not_given(lines_file: str) -> None:
    """--sink-option time=… and hide_control=… hold unless --time or --hide-control says
    otherwise (the flags' defaults used to override them)."""
    by_option = invoke(
        "monitor", "--sink-option", "time=none", "--sink-option", "hide_control=true", lines_file
    )
    by_flags = invoke("monitor", "--time", "none", "--hide-control", lines_file)
    assert by_option.exit_code == 0, by_option.output

    def shape(output: str) -> list[str]:  # round-trip times are the run's own
        return [re.sub(r"[\d.]+ ms", "T", line) for line in output.splitlines()]

    assert shape(by_option.output) == shape(by_flags.output)
    assert by_option.output.startswith("abc ")  # no times
    assert " ping" not in by_option.output
    flag_wins = invoke("monitor", "--time", "relative", "--sink-option", "time=none", lines_file)
    assert flag_wins.output.splitlines()[0].lstrip().startswith("+0.000 abc")


def test_monitor_hiding_every_type_it_asks_for_is_a_mistake(lines_file: str) -> None:
    result = invoke("monitor", "--hide-control", "--type", "ping", lines_file)
    assert result.exit_code == 2
    assert "--type ping with --hide-control shows nothing" in result.output
    mixed = invoke(
        "monitor", "--time", "none", "--hide-control", "--type", "ping", "--type", "EVENT",
        lines_file,
    )  # fmt: skip
    assert mixed.exit_code == 0 and "chat(" in mixed.output


def test_monitor_color(lines_file: str) -> None:
    result = invoke("monitor", "--time", "none", "--color", lines_file)
    assert "\x1b[" in result.output
    assert "\x1b[2J" not in result.output and "\x1b]52" not in result.output


def test_stats_lines_text_and_json(lines_file: str) -> None:
    text = invoke("stats", "--no-color", lines_file)
    assert text.exit_code == 0, text.output
    assert "Transports" in text.output and "chat" in text.output
    data = json.loads(invoke("stats", "--format", "json", lines_file).output)
    assert data["upgrade"]["upgraded"] == 1
    assert data["errors"]["by_kind"] == [{"name": "connect-error", "count": 1, "pct": 100.0}]


def test_stats_chart_option(lines_file: str, tmp_path: Path) -> None:
    chart = tmp_path / "chart.html"
    result = invoke("stats", "--format", "md", "--chart", str(chart), lines_file)
    assert result.exit_code == 0 and result.output.startswith("### ioproto stats")
    assert "<svg" in chart.read_text()


def test_sink_option_through_decode(lines_file: str) -> None:
    result = invoke(
        "decode",
        "--sink",
        "monitor",
        "--sink",
        "stats",
        "--sink-option",
        "stats.format=json",
        "--sink-option",
        "monitor.time=none",
        lines_file,
    )
    assert result.exit_code == 0
    assert '"upgrade"' in result.output and "chat(" in result.output


pcap = pytest.mark.skipif(not (DATA / "ws_only.pcap").exists(), reason="no capture")


@pcap
def test_monitor_capture_golden() -> None:
    pytest.importorskip("ioproto_pcap")
    result = invoke("monitor", "--time", "utc", "--no-color", str(DATA / "ws_only.pcap"))
    assert result.exit_code == 0, result.output
    check_golden("monitor_ws_only.txt", result.output)


@pcap
@pytest.mark.parametrize(
    ("fmt", "name"), [("text", "stats_ws_only.txt"), ("json", "stats_ws_only.json")]
)
def test_stats_capture_golden(fmt: str, name: str) -> None:
    pytest.importorskip("ioproto_pcap")
    result = invoke("stats", "--no-color", "--format", fmt, str(DATA / "ws_only.pcap"))
    assert result.exit_code == 0, result.output
    check_golden(name, result.output)
