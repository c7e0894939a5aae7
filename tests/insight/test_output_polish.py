"""The text, monitor and stats views read well (issue 11, item 6): durations rounded to
about three digits, times of day instead of epoch seconds, no empty WebSocket control
frames unless asked for, session summaries in time order, plurals right, each command's
``--help`` naming its real default sink and ``--proto`` offering layers only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ioproto_classify.records import SessionSummary
from ioproto_monitor.render import summary_text
from ioproto_stats.report import heading

from ioproto.cli import build_cli
from ioproto.cli.state import CliState
from ioproto.plugins import make_plugin_manager
from ioproto.render import format_duration, plural

CHAT = str(Path(__file__).resolve().parents[2] / "examples" / "chat.pcap")
TIME = r"\d\d:\d\d:\d\d\.\d{3}"


def invoke(*args: str) -> Any:
    pm = make_plugin_manager()
    cli = build_cli()
    pm.hook.register_commands(cli=cli)
    result = CliRunner().invoke(cli, list(args), obj=CliState(plugin_manager=pm))
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0000394, "0.04 ms"),
        (0.000394, "0.39 ms"),
        (0.0011248588562011719, "1.12 ms"),
        (0.02912116050720215, "29.1 ms"),
        (0.5666170120239258, "567 ms"),
        (1.2345, "1.23 s"),
        (12.34, "12.3 s"),
        (125, "2 min 05 s"),
        (3725, "1 h 02 min"),
        (-0.0004, "-0.40 ms"),
    ],
)
def test_durations_have_sensible_precision(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_plurals() -> None:
    assert [plural(n, "session") for n in (0, 1, 2)] == ["0 sessions", "1 session", "2 sessions"]
    figures = {
        "sessions": {"total": 1},
        "totals": {"packets": 1, "records": 1, "duration": 0.25, "packets_per_second": 4.0},
    }
    assert heading(figures) == "1 session, 1 packet (1 record) over 250 ms, 4.0 packets/s"
    summary = SessionSummary(ts=1.0, unanswered_acks=1, errors=1, duration=0.5)
    assert "1 unanswered ack, 1 error, 500 ms" in summary_text(summary)


def test_text_lines_round_latencies_and_show_times_of_day() -> None:
    lines = invoke("decode", "--sink", "text", CHAT).stdout.splitlines()
    acks = [line for line in lines if "latency.ack=" in line]
    assert acks and all(re.search(r"latency\.ack=\d+\.\d\dms( |$)", line) for line in acks)
    summaries = [line for line in lines if " session summary " in line]
    assert len(summaries) == 3
    for line in summaries:
        assert re.search(rf"started={TIME} duration=\d+ms ", line), line
        assert re.search(r"ack_rtt_mean=\d\.\d\dms", line) and "e-0" not in line


def test_no_empty_control_frame_lines_unless_all_layers() -> None:
    for command in (["decode", "--sink", "text"], ["monitor", "--no-color"]):
        # the server's answering close frame (the client's became the session's
        # transport-close) says nothing more
        assert "ws-close" not in invoke(*command, CHAT).stdout
        assert "ws-close <empty>" in invoke(*command, "--all-layers", CHAT).stdout


def test_session_summaries_come_in_time_order() -> None:
    for command in (["decode", "--sink", "text"], ["monitor", "--no-color", "--type", "summary"]):
        lines = invoke(*command, CHAT).stdout.splitlines()
        summaries = [line for line in lines if re.search(r" session (summary|\w)", line)]
        assert len(summaries) == 3
        times = [line.split()[0] for line in summaries]
        assert times == sorted(times), summaries


@pytest.mark.parametrize(
    ("command", "default"),
    [
        ("decode", "Default: monitor on a terminal, text otherwise."),
        ("monitor", "Default: monitor."),
        ("stats", "Default: stats."),
        ("proxy", "Default: monitor (text when the monitor plugin is not installed)."),
        ("collect", "Default: monitor (text when the monitor plugin is not installed)."),
        ("dashboard", "Default: dashboard."),
        ("browse", "Default: monitor (text when the monitor plugin is not installed)."),
    ],
)
def test_help_states_the_real_default_sink(command: str, default: str) -> None:
    text = " ".join(invoke(command, "--help").stdout.split())
    assert default in text


def test_proto_help_offers_layers_only() -> None:
    text = " ".join(invoke("decode", "--help").stdout.split())
    offered = re.search(r"--proto LAYER Decode up to this layer: ([a-z, -]+)\.", text)
    assert offered, text
    layers = offered.group(1).split(", ")
    assert {"chunk", "engineio", "socketio"} <= set(layers)
    assert not [name for name in layers if name.startswith(("socketio-", "app-"))], layers
