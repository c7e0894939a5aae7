"""The same job on a Dask cluster: captures → Parquet across 2 worker processes of a
LocalCluster started here, then the stats report computed on a worker. The result equals
the single-machine run's, row for row and report for report."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import run_ioproto
from pqhelp import CAPTURES, ROOT, interrupted, invoke
from test_parallel import contents

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("distributed") is None,
        reason="Dask's distributed is not installed (pip install 'ioproto[cluster]')",
    ),
]

#: A LocalCluster of 2 worker processes, in a process of its own (so that nothing this
#: test process imported or unloaded can change it); it prints its scheduler's address
#: and runs until its standard input closes.
CLUSTER = """
import sys
from distributed import LocalCluster
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                  dashboard_address=None, scheduler_port=0, host="127.0.0.1") as cluster:
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()
"""


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    import distributed

    cluster = subprocess.Popen(
        [sys.executable, "-c", CLUSTER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert cluster.stdout is not None
        address = cluster.stdout.readline().strip()
        assert address.startswith("tcp://127.0.0.1:"), address
        with distributed.Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            yield client
    finally:
        assert cluster.stdin is not None
        cluster.stdin.close()
        try:
            cluster.wait(timeout=60)
        except subprocess.TimeoutExpired:
            cluster.kill()


@pytest.fixture(scope="module")
def single_machine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The captures decoded on this machine by ``ioproto decode`` as the workers run it:
    with the installed plugins only (not the example game protocol the in-process helper
    registers, so game.pcap has no ``app`` table here either)."""
    out = tmp_path_factory.mktemp("local")
    decode_as_a_worker(out, [str(path) for path in CAPTURES])
    return out


#: Seconds a command that runs tasks on the cluster may take.
CLUSTER_TIMEOUT = 600


def decode_as_a_worker(out: Path, inputs: list[str]) -> None:
    done = run_ioproto("decode", "--sink", f"parquet:{out}", *inputs, timeout=CLUSTER_TIMEOUT)
    assert done.returncode == 0, done.stderr


def test_cluster_result_equals_single_machine(
    client: Any, single_machine: Path, tmp_path: Path
) -> None:
    from ioproto_parquet.cluster import decode_on_cluster, stats_on_cluster

    out = tmp_path / "cluster"
    results = decode_on_cluster(client, [str(path) for path in CAPTURES], str(out))
    assert [result.returncode for result in results] == [0] * len(CAPTURES)
    assert len({result.worker for result in results}) == 2, "both workers took tasks"
    assert contents(out) == contents(single_machine)
    for fmt in ("json", "text"):
        code, report, errors = stats_on_cluster(client, [str(out)], fmt=fmt)
        assert code == 0, errors
        local = invoke(["stats", "--format", fmt, "--from", str(single_machine)])
        assert report == local.stdout
    again = decode_on_cluster(client, [str(path) for path in CAPTURES[:3]], str(out))
    assert all("already complete" in result.message for result in again)


def test_cluster_command_against_a_scheduler(
    client: Any, single_machine: Path, tmp_path: Path
) -> None:
    out = tmp_path / "cluster"
    address = client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")
    inputs = [str(path) for path in CAPTURES[:3]]
    done = run_ioproto(
        "cluster", "--scheduler", address, "--out", str(out), "--format", "md", *inputs,
        timeout=CLUSTER_TIMEOUT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    local = tmp_path / "local"
    decode_as_a_worker(local, inputs)
    assert done.stdout == invoke(["stats", "--format", "md", "--from", str(local)]).stdout
    assert contents(out) == contents(local)


def test_cluster_command_needs_a_cluster() -> None:
    result = invoke(["cluster", "--out", "x", str(CAPTURES[0])])
    assert result.exit_code == 2 and "--scheduler ADDRESS or --local-workers N" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--proto", "sio"], "ioproto: error: unknown layer 'sio' (did you mean socketio?)"),
        (["--out", "/proc/ioproto-x"], "ioproto: error: cannot write into /proc/ioproto-x: "),
        (["/nonexistent-ioproto/x.pcap"], "ioproto: error: no such file: /nonexistent-ioproto"),
    ],
    ids=["proto", "out", "input"],
)
def test_a_mistake_in_the_tasks_is_one_line_and_status_2(
    client: Any, tmp_path: Path, args: list[str], expected: str
) -> None:
    """Each task's decode refuses the same mistake: said once, in cluster's words (not
    "ioproto: ioproto: error: …" per input, then "N of N inputs failed; run the same
    command again", status 1)."""
    command = ["cluster", "--scheduler", client.scheduler.address, "--out", str(tmp_path / "o")]
    inputs = [str(path) for path in CAPTURES[:2]]
    done = run_ioproto(*command, *inputs, *args, timeout=CLUSTER_TIMEOUT)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), done.stderr
    assert "ioproto decode --help" not in lines[0]


@pytest.mark.parametrize("scheduler", ["nosuch", "http://127.0.0.1:8786"])
def test_a_scheduler_that_is_no_address_is_one_line(scheduler: str) -> None:
    """Dask's ValueError for an address without a port or of another scheme was a
    traceback."""
    command = ["cluster", "--scheduler", scheduler, "--out", "x", str(CAPTURES[0])]
    done = run_ioproto(*command, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"ioproto: error: --scheduler {scheduler!r} is not a scheduler's")
    assert "give one as tcp://HOST:PORT" in lines[0]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 bound, so that nothing else takes it, where nothing listens."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


@pytest.mark.parametrize(
    ("scheduler", "why"),
    [
        (
            "tcp://no-such-host.invalid:8786",
            "no such host: no-such-host.invalid; check the host name in --scheduler",
        ),
        (
            "tcp://127.0.0.1:{port}",
            "nothing listens on 127.0.0.1:{port} (connection refused); "
            "start the scheduler there (dask scheduler --port {port}) or give the address it "
            "listens on",
        ),
    ],
    ids=["unknown host", "nothing listening"],
)
def test_a_scheduler_that_cannot_be_reached_is_said_at_once(
    closed_port: int, scheduler: str, why: str
) -> None:
    """A misspelt host, or a port nothing listens on, waited Dask's 20 s connect timeout
    before its line."""
    address = scheduler.format(port=closed_port)
    command = ["cluster", "--scheduler", address, "--out", "x", str(CAPTURES[0])]
    started = time.monotonic()
    done = run_ioproto(*command, timeout=120)
    took = time.monotonic() - started
    expected = (
        f"ioproto: error: cannot reach the Dask scheduler {address}: "
        f"{why.format(port=closed_port)} (see 'ioproto cluster --help')"
    )
    assert (2, [expected], "") == (done.returncode, done.stderr.splitlines(), done.stdout)
    assert took < 10, took


@pytest.fixture
def not_a_scheduler(request: pytest.FixtureRequest) -> Iterator[int]:
    """The port of a server that is no Dask scheduler: one that greets with its banner at
    once (``ssh``), or that says nothing until asked (``http``)."""
    banner: bytes = request.param
    with socket.create_server(("127.0.0.1", 0)) as listener:
        accepted: list[socket.socket] = []

        def serve() -> None:
            with contextlib.suppress(OSError):
                while True:
                    conn, _ = listener.accept()
                    accepted.append(conn)
                    conn.sendall(banner)

        threading.Thread(target=serve, daemon=True).start()
        yield listener.getsockname()[1]
    for conn in accepted:
        conn.close()


@pytest.mark.parametrize(
    ("not_a_scheduler", "why"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n", "is not a Dask scheduler (it does not answer as one)"),
        (b"", "said nothing in 10 s, where a Dask scheduler says hello at once"),
    ],
    ids=["ssh", "http"],
    indirect=["not_a_scheduler"],
)
def test_a_server_that_is_no_scheduler_is_said_so(not_a_scheduler: int, why: str) -> None:
    """What answers in other words made Dask read its first eight bytes as a length (a
    MemoryError traceback); what waits to be asked held the command for ever."""
    address = f"tcp://127.0.0.1:{not_a_scheduler}"
    done = run_ioproto(
        "cluster", "--scheduler", address, "--out", "x", str(CAPTURES[0]), timeout=60
    )
    expected = (
        f"ioproto: error: cannot reach the Dask scheduler {address}: what listens on "
        f"127.0.0.1:{not_a_scheduler} {why}; give the scheduler's address (its port is 8786 "
        "by default) (see 'ioproto cluster --help')"
    )
    assert (2, [expected], "") == (done.returncode, done.stderr.splitlines(), done.stdout)


def test_an_unreadable_input_is_said_as_decode_says_it(client: Any, tmp_path: Path) -> None:
    """An empty file is stored complete with its error record: its line, the report of the
    rest, status 1, and nothing to run again (not "1 of 2 inputs failed; run the same
    command again")."""
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    command = ["cluster", "--scheduler", client.scheduler.address, "--out", str(tmp_path / "o")]
    done = run_ioproto(*command, str(empty), str(CAPTURES[0]), timeout=CLUSTER_TIMEOUT)
    assert done.returncode == 1, done.stderr
    assert f"ioproto: {empty}: the file is empty (0 bytes)" in done.stderr.splitlines()
    assert "failed" not in done.stderr and "ioproto: ioproto:" not in done.stderr
    assert "sessions" in done.stdout


def test_ctrl_c_ends_a_local_cluster_run_quietly(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group: the workers printed their KeyboardInterrupt
    and the client its cancelled futures (17 tracebacks); now status 130 and nothing."""
    command = ["cluster", "--local-workers", "1", "--out", str(tmp_path / "o"), "--no-stats"]
    # after the cluster has started, while the tasks run (one at a time)
    status, stdout, stderr = interrupted([*command, *map(str, CAPTURES)], 4)
    assert status == 130, (status, stderr)
    assert (stdout, stderr) == ("", "")


def test_a_local_cluster_beside_another_says_nothing_of_port_8787(tmp_path: Path) -> None:
    """Its scheduler's HTTP server took Dask's default port 8787 even without a dashboard;
    with another cluster (or anything) there, three lines of warning came first."""
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            busy.bind(("127.0.0.1", 8787))
        except OSError:
            pass  # taken already: by another cluster, as in the case this is about
        else:
            busy.listen()
        command = ["cluster", "--local-workers", "1", "--out", str(tmp_path), "--no-stats"]
        done = run_ioproto(*command, str(CAPTURES[0]), timeout=300)
    assert done.returncode == 0, done.stderr
    assert "8787" not in done.stderr and "warning" not in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
