"""SIGTERM (systemd, ``timeout``, ``docker stop``) ends a live source and a page or endpoint
served after a file's input as Ctrl-C does: quietly, status 0, the sinks flushed. The
dashboard's, the proxy's and ``live:``'s own tests cover theirs; these are the others."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from clirun import start_ioproto

ROOT = Path(__file__).resolve().parents[2]
CHAT = str(ROOT / "examples" / "chat.pcap")

#: A run that goes on until stopped, what its stderr says once it is under way, and the
#: file it must have written completely by the time it has stopped (with ``{out}``).
RUNS = {
    "prometheus-after-a-file": (
        ["decode", "--sink", "prometheus:127.0.0.1:0", "--sink", "jsonl:{out}", CHAT],
        "serving the final metrics",
    ),
    "collect": (["collect", "--listen", "127.0.0.1:0", "--sink", "jsonl:{out}"], "collecting"),
    "browse": (["browse", "about:blank", "--har", "{out}"], "attached to"),
}


def run_until(args: list[str], ready: str, signum: int, tmp_path: Path) -> tuple[int, str]:
    """Start ``ioproto ARGS``, send ``signum`` once stderr says ``ready``, and return its
    exit status and stderr."""
    err = tmp_path / "stderr.txt"
    with err.open("w") as stderr:
        process = start_ioproto(*args, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while ready not in err.read_text():
            assert process.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
        process.send_signal(signum)
        return process.wait(timeout=30), err.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
@pytest.mark.parametrize("name", RUNS)
def test_a_stop_signal_ends_the_run_as_a_success(tmp_path: Path, name: str, signum: int) -> None:
    if name == "browse" and not (shutil.which("chromium") or shutil.which("google-chrome")):
        pytest.skip("no Chromium to browse with")
    args, ready = RUNS[name]
    out = tmp_path / "out"
    status, stderr = run_until([arg.format(out=out) for arg in args], ready, signum, tmp_path)
    assert status == 0 and "Traceback" not in stderr, stderr
    if name == "prometheus-after-a-file":
        assert len(out.read_text().splitlines()) == 123  # every record of chat.pcap
    elif name == "browse":
        assert f"wrote {out}" in stderr and out.read_text().startswith("{")
    else:
        assert out.exists()
