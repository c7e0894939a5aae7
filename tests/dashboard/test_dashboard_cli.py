"""``ioproto dashboard`` as a user runs it: mistakes, the report, and the sink on any command."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import run_ioproto
from dashhelp import CHAT, DATA, ROOT, Dashboard, stats_json

CAPTURES = [CHAT, *sorted(DATA.glob("*.pcap"))]


def _embedded(report: Path) -> dict[str, object]:
    text = report.read_text()
    pattern = r'<script type="application/json" id="ioproto-data">(.*?)</script>'
    match = re.search(pattern, text, re.S)
    assert match is not None
    data: dict[str, object] = json.loads(match.group(1))
    return data


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda path: path.name)
def test_the_report_carries_the_stats_of_its_capture(capture: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    done = run_ioproto("dashboard", "--export", str(report), str(capture))
    assert done.returncode == 0, done.stderr
    assert f"wrote {report}" in done.stderr
    data = _embedded(report)
    assert stats_json(str(capture)) == data["summary"]
    text = report.read_text()
    assert "http://" not in text.split("<script", 1)[0]  # nothing fetched from anywhere
    assert 'src="static/' not in text and 'href="static/' not in text


def test_the_report_cannot_be_broken_out_of(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    done = run_ioproto("dashboard", "--export", str(report), str(DATA / "injection.pcap"))
    assert done.returncode == 0
    data_block = report.read_text().split('id="ioproto-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data_block and ">" not in data_block


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "nonsense", str(CHAT)], "'nonsense' is not [HOST:]PORT"),
        (["--listen", "127.0.0.1:70000", str(CHAT)], "0-65535"),
        (["--speed", "-1", str(CHAT)], "--speed"),
        (["--sink-option", "dashboard.packets=lots", str(CHAT)], "whole number"),
        (
            ["--sink", "dashboard:report.html", str(CHAT)],
            "dashboard: 'report.html' is not [HOST:]PORT (e.g. 127.0.0.1:8080); to write a "
            "report: --sink-option dashboard.export=report.html (ioproto dashboard --export "
            "report.html)",
        ),
        (
            ["--sink", "dashboard:127.0.0.1:8050", "--listen", "8051", str(CHAT)],
            "give the address to serve on once (listen and dashboard:HOST:PORT differ",
        ),
    ],
)
def test_a_mistake_says_what_to_do_in_one_line(args: list[str], message: str) -> None:
    done = run_ioproto("dashboard", "--no-browser", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_ioproto("dashboard", "--no-browser", "--listen", f"127.0.0.1:{port}", str(CHAT))
        address = f"--sink dashboard:127.0.0.1:{port}"
        as_sink = run_ioproto("decode", *address.split(), "--sink-option", "browser=0", str(CHAT))
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert as_sink.returncode == 2
    assert as_sink.stderr.endswith("pick another with --sink dashboard:HOST:PORT\n")


def test_sink_dashboard_host_port_is_where_the_page_is_served_not_a_file() -> None:
    """``--sink dashboard:HOST:PORT`` means what ``prometheus:HOST:PORT`` means: the
    address (the sink writes nothing to a stream). It made an empty file named X."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"127.0.0.1:{port}"
    stray = ROOT / address  # where the command runs
    try:
        done = decode_into_dashboard(f"dashboard:{address}")
        assert done.returncode == 0, done.stderr
        assert f"serving http://{address}/" in done.stderr
        assert not stray.exists()
    finally:
        stray.unlink(missing_ok=True)


def test_the_sink_rides_on_any_command(tmp_path: Path) -> None:
    report = tmp_path / "monitor.html"
    done = run_ioproto(
        "monitor",
        "--no-color",
        "--sink",
        "monitor",
        "--sink",
        "dashboard",
        "--sink-option",
        f"dashboard.export={report}",
        str(CHAT),
    )
    assert done.returncode == 0, done.stderr
    assert "set-avatar" in done.stdout
    assert stats_json(str(CHAT)) == _embedded(report)["summary"]
    done = decode_into_dashboard("dashboard")
    assert done.returncode == 0, done.stderr
    assert re.search(r"serving http://127\.0\.0\.1:\d+/", done.stderr)


def decode_into_dashboard(sink: str) -> subprocess.CompletedProcess[str]:
    """``decode --sink SINK CHAT`` with no browser, the page gone as the input ends."""
    return run_ioproto(
        "decode",
        "--sink",
        sink,
        "--sink-option",
        "dashboard.browser=false",
        "--sink-option",
        "dashboard.hold=false",
        str(CHAT),
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_after_the_input_the_page_stays_until_ctrl_c(
    dashboard: Callable[[list[str]], Dashboard], signum: int
) -> None:
    """Until Ctrl-C or SIGTERM, either of which ends the command quietly, once."""
    board = dashboard(["--speed", "1", str(CHAT)])
    snapshot = board.wait_finished()
    assert snapshot["meta"]["mode"] == "replay" and snapshot["meta"]["speed"] == 1.0
    first, last = snapshot["meta"]["first_ts"], snapshot["meta"]["last_ts"]
    assert last - first > 0.5
    assert board.proc.poll() is None  # still serving the final state
    assert board.proc.stderr is not None
    said = board.proc.stderr.readline()  # the line is said once the signals are taken
    assert "showing it until Ctrl-C" in said
    stderr = board.stop(signum)
    assert board.proc.returncode == 0, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_replay_ends_it_as_ctrl_c_does(
    dashboard: Callable[[list[str]], Dashboard], signum: int
) -> None:
    """While a file is still being replayed (slowed down 100 times: well over a minute),
    Ctrl-C and SIGTERM alike end the command quietly with status 130, not killed by the
    signal (143), and the page does not hold on."""
    board = dashboard(["--speed", "0.01", str(CHAT)])
    assert not board.get("api/snapshot")["meta"]["finished"]
    stderr = board.stop(signum)
    assert board.proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "showing it until Ctrl-C" not in stderr, stderr
    assert stderr == "", stderr  # the serving line was read by the helper


def test_an_empty_result_says_why_while_the_page_stays(
    dashboard: Callable[[list[str]], Dashboard],
) -> None:
    """Why nothing matched is said when the input ends, not only after Ctrl-C: the page
    holds the command open until then."""
    board = dashboard(["--filter", 'sio.event == "no-such-event"', str(CHAT)])
    assert board.proc.stderr is not None
    said = []
    for line in board.proc.stderr:  # up to the line the page holds on
        said.append(line)
        if "showing it until Ctrl-C" in line:
            break
    assert board.proc.poll() is None  # still serving
    assert any("no record matched the filter" in line for line in said), said
    board.stop()
    assert board.proc.returncode == 0
