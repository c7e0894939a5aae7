"""``ioproto demo``: a real python-socketio app with simulated clients, watched the README's
ways (the proxy, a live capture) with no error records; a busy port is a one-line error;
Ctrl-C stops it cleanly; and ``ioproto`` does not import python-socketio or aiohttp unless
the demo runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from clirun import run_ioproto, start_ioproto

RATE = "5"  # events a second per client: plenty of each kind in a few seconds


class Running:
    """A command started with stdout and stderr piped; stopped (and killed if need be)
    by the ``running`` fixture at teardown."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = start_ioproto(
            *args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.seen: list[str] = []

    def wait_for(self, pattern: str, stream: str = "stdout") -> re.Match[str]:
        """Read lines of ``stream`` until one matches ``pattern``."""
        pipe = self.proc.stdout if stream == "stdout" else self.proc.stderr
        assert pipe is not None
        for line in pipe:
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"{pattern!r} never came; got {''.join(self.seen)[-3000:]}")

    def interrupt(self, timeout: float = 30) -> tuple[int, str, str]:
        """Ctrl-C, then the exit status and the rest of stdout and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, "".join(self.seen) + out, err


@pytest.fixture
def running() -> Iterator[Any]:
    started: list[Running] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Running:
        command = Running(list(args), env)
        started.append(command)
        return command

    yield start
    for command in started:
        if command.proc.poll() is None:
            command.proc.kill()
            command.proc.communicate()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def check_traffic(path: Path) -> None:
    """The records of a few seconds of the demo: every feature, no error record."""
    records = [json.loads(line) for line in path.read_text().splitlines()]
    errors = [record for record in records if record["type"] == "error"]
    assert errors == []
    sio = [record for record in records if record["layer"] == "socketio"]
    assert {"/", "/admin"} <= {record["nsp"] for record in sio}
    assert {"CONNECT", "EVENT", "ACK"} <= {record["type"] for record in sio}
    assert {"welcome", "chat message", "upload"} <= {record["event"] for record in sio}
    assert any(record["attachments"] for record in sio), "no binary attachments"
    assert {"polling", "websocket"} <= {record["transport"] for record in records}
    assert any(record["type"] == "upgrade" for record in records)
    browsers = {record.get("tags", {}).get("client.name") for record in records}
    assert {"Chrome", "Firefox", "Mobile Safari", "Edge", "Chrome Mobile"} <= browsers


def test_clients_talk_to_the_server_and_stop_after_duration(running: Any) -> None:
    demo = running("demo", "--port", "0", "--duration", "4s", "--rate", RATE)
    out, err = demo.proc.communicate(timeout=60)
    assert demo.proc.returncode == 0, err
    assert "Traceback" not in err
    match = re.search(
        r"the server saw (\d+) sessions; the clients sent (\d+) events and got "
        r"(\d+) acks",
        out,
    )
    assert match, out
    sessions, events, acks = (int(group) for group in match.groups())
    assert sessions >= 5 and events > 10 and acks > 5
    port = re.search(r"on http://127\.0\.0\.1:(\d+)", out)
    assert port and f"ioproto monitor live:lo --port {port.group(1)}" in out


def test_busy_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_ioproto("demo", "--port", str(port), "--duration", "2s", timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "--port" in done.stderr


def test_ctrl_c_stops_cleanly(running: Any) -> None:
    demo = running("demo", "--port", "0", "--rate", RATE)
    demo.wait_for(r"Ctrl-C stops it")
    time.sleep(2)
    started = time.monotonic()
    code, out, err = demo.interrupt()
    assert code == 0, err
    assert time.monotonic() - started < 15
    assert "demo stopped: the server saw" in out
    assert err == ""


def test_mistakes_are_usage_errors() -> None:
    for args in (["--clients-only", "nope"], ["--server-only", "--via-proxy", "8080"]):
        done = run_ioproto("demo", *args, timeout=60)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr


def test_ioproto_does_not_import_socketio_unless_the_demo_runs() -> None:
    code = (
        "import sys\n"
        "import ioproto_demo.command\n"
        "from ioproto.cli import main\n"
        "try:\n"
        "    main(['--version'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({'socketio', 'aiohttp', 'engineio'} & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_clients_through_the_proxy(running: Any, tmp_path: Path) -> None:
    """The README's proxy way: `ioproto demo --via-proxy PORT`, then the proxy there."""
    proxy_port = free_port()
    demo = running("demo", "--port", "0", "--via-proxy", str(proxy_port), "--rate", RATE)
    upstream = demo.wait_for(r"on (http://127\.0\.0\.1:\d+)").group(1)
    demo.wait_for(re.escape(f"ioproto proxy --listen 127.0.0.1:{proxy_port} --upstream {upstream}"))
    demo.wait_for(r"clients: waiting for http://127\.0\.0\.1:\d+ to answer")
    out = tmp_path / "proxy.jsonl"
    proxy = running(
        "proxy",
        "--listen",
        f"127.0.0.1:{proxy_port}",
        "--upstream",
        upstream,
        "--sink",
        f"jsonl:{out}",
    )
    proxy.wait_for(r"proxy listening on", stream="stderr")
    demo.wait_for(r"clients: connected to")
    time.sleep(6)
    code, _, err = demo.interrupt()
    assert code == 0, err
    time.sleep(0.5)
    code, _, err = proxy.interrupt()
    assert code == 0 and "Traceback" not in err, err
    check_traffic(out)


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to capture")
def test_live_capture_of_the_demo(running: Any, tmp_path: Path) -> None:
    """The README's capture way, with the server and the clients as separate commands so
    the capture sees every connection from its start."""
    server = running("demo", "--port", "0", "--server-only")
    port = server.wait_for(r"on http://127\.0\.0\.1:(\d+)").group(1)
    out = tmp_path / "live.jsonl"
    capture = running("decode", "--sink", f"jsonl:{out}", "live:lo", "--port", port)
    capture.wait_for(r"capturing on lo", stream="stderr")
    clients = running(
        "demo", "--clients-only", f"http://127.0.0.1:{port}", "--duration", "6s", "--rate", RATE
    )
    _, err = clients.proc.communicate(timeout=60)
    assert clients.proc.returncode == 0, err
    time.sleep(0.5)
    code, _, err = capture.interrupt()
    assert code == 0 and "Traceback" not in err, err
    assert "dropped by kernel" not in err
    code, _, err = server.interrupt()
    assert code == 0, err
    check_traffic(out)


README = Path(__file__).resolve().parents[2] / "README.md"


def commands_in(text: str) -> list[str]:
    """The `ioproto` commands of the sh blocks of ``text`` (up to a pipe or a comment)."""
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    lines = [re.split(r" \| | {2,}#", line)[0].strip() for b in blocks for line in b.splitlines()]
    return [line for line in lines if line.startswith("ioproto ")]


def test_every_live_command_of_the_readme_works_with_the_demo() -> None:
    """The proxies point at the demo's server and listen where `--via-proxy 8080` sends
    its clients; captures filter the demo's port; the collector listens where `--tap`
    sends."""
    live = [
        command
        for command in commands_in(README.read_text())
        if command.startswith(("ioproto proxy", "ioproto collect")) or " live:" in command
    ]
    assert len(live) >= 5
    for command in live:
        words = command.split()
        if words[1] == "proxy":
            assert words[words.index("--upstream") + 1] == "http://127.0.0.1:3000", command
            assert "--listen" not in words or "127.0.0.1:8080" in words, command
        elif words[1] == "collect":
            assert "--listen" not in words or "127.0.0.1:7788" in words, command
        else:
            assert "--port 3000" in command, command


def test_the_banner_counts_its_clients_in_words_that_agree() -> None:
    from ioproto_demo.command import banner
    from ioproto_demo.run import Plan

    one = Plan(serve=True, port=3000, clients=1, rate=0.5, connect=None, duration=None)
    assert "\n1 simulated client talking to http://127.0.0.1:3000," in banner(one, 3000, set())
    five = attrs.evolve(one, clients=5)
    assert "\n5 simulated clients talking to " in banner(five, 3000, set())


def test_the_readme_live_commands_are_what_the_demo_suggests() -> None:
    """Every live command of the README works as written against the demo: the demo,
    started as the README says, prints it (so ports and URLs agree)."""
    from ioproto_demo.command import banner
    from ioproto_demo.run import Plan

    direct = Plan(serve=True, port=3000, clients=5, rate=0.5, connect=None, duration=None)
    via = attrs.evolve(direct, connect="http://127.0.0.1:8080")
    tapped = attrs.evolve(direct, tap=True)
    suggested = "\n".join(banner(plan, 3000, set()) for plan in (direct, via, tapped))
    section = re.split(r"(?i)live ways\n", README.read_text(), maxsplit=1)[1].split("\n### ", 1)[0]
    commands = commands_in(section)
    assert {"ioproto demo", "ioproto demo --via-proxy 8080"} <= set(commands)
    assert "--tap" in section
    for command in commands:
        if command.startswith("ioproto demo") or command.endswith(".har"):
            continue
        assert command in suggested, command


def test_tapped_demo_through_the_collector(running: Any, tmp_path: Path) -> None:
    """The README's tap way: `ioproto demo --tap`, and `ioproto collect`."""
    address = f"127.0.0.1:{free_port()}"
    out = tmp_path / "collect.jsonl"
    collect = running("collect", "--listen", address, "--sink", f"jsonl:{out}")
    collect.wait_for(r"collecting tap streams", stream="stderr")
    demo = running(
        "demo",
        "--tap",
        "--port",
        "0",
        "--duration",
        "6s",
        "--rate",
        RATE,
        env={"IOPROTO_COLLECTOR": address},
    )
    out_text, err = demo.proc.communicate(timeout=60)
    assert demo.proc.returncode == 0, err
    # The hint names where the tap sends, and tells collect to listen there.
    assert f"`ioproto collect` on {address} (" in out_text
    assert f"ioproto collect --listen {address} --sink monitor" in out_text
    time.sleep(0.5)
    code, _, err = collect.interrupt()
    assert code == 0 and "Traceback" not in err, err
    check_traffic(out)
