"""Decoding captures to Parquet on a Dask cluster, then the stats queries there.

The job is the single-machine one, spread by Dask: every input becomes one task that runs
``ioproto decode --jobs 1 --sink parquet:OUT`` for that input on some worker (a process of
its own, so a worker's threads never share a pipeline), and one more task runs
``ioproto stats --from OUT`` on a worker. Capture names are planned once, on a worker,
before the tasks start (two files called ``server.pcap`` must not race for one name), and
each task is restartable exactly as a local run is: a capture already complete in OUT is
skipped, a task whose worker died is retried by Dask and redoes only its own capture.

Inputs and OUT must be paths every worker sees the same way (a shared file system); see
docs/analytics.md for object storage. Public: ``ioproto cluster`` is a thin layer over
:func:`decode_on_cluster` and :func:`stats_on_cluster`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import attrs

from .manifest import OutputDir, plan_captures


@attrs.frozen
class TaskResult:
    """How one input's task ended: ``returncode`` 0 when its capture is complete in OUT
    (decoded now, or already there), ``message`` the last line the decode printed."""

    input: str
    capture: str
    returncode: int
    message: str
    worker: str  # the Dask worker's address
    #: OUT holds the capture complete (also when its input could not be read: its error
    #: record is stored, and running again would skip it)
    complete: bool = False


def _ioproto(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ioproto", *args], capture_output=True, text=True, check=False
    )


def plan_task(out: str, inputs: Sequence[str]) -> list[str]:
    """On a worker: the capture name of each input (as a local run would name them)."""
    return plan_captures(OutputDir(out), list(inputs))


def decode_task(input: str, capture: str, out: str, arguments: Sequence[str]) -> TaskResult:
    """On a worker: decode ``input`` into ``out`` as capture ``capture``."""
    done = _ioproto(
        "decode",
        "--jobs",
        "1",
        "--sink",
        f"parquet:{out}",
        "--sink-option",
        f"parquet.capture={capture}",
        *arguments,
        input,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return TaskResult(
        input=input,
        capture=capture,
        returncode=done.returncode,
        message=lines[-1] if lines else "",
        worker=_worker_address(),
        complete=OutputDir(out).read_record(capture) is not None,
    )


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return ""


def stats_task(roots: Sequence[str], fmt: str, top: int) -> tuple[int, str, str]:
    """On a worker: ``ioproto stats --from ROOT...``; (returncode, stdout, stderr)."""
    args = ["stats", "--format", fmt, "--top", str(top)]
    for root in roots:
        args += ["--from", root]
    done = _ioproto(*args)
    return done.returncode, done.stdout, done.stderr


def absolute(path: str) -> str:
    """A path as every worker must see it: absolute (URLs are left as they are)."""
    return path if "://" in path else os.path.abspath(path)


def decode_on_cluster(
    client: Any, inputs: Sequence[str], out: str, arguments: Sequence[str] = ()
) -> list[TaskResult]:
    """Decode every input into ``out`` on the cluster of ``client`` (a
    ``distributed.Client``), one task per input; ``arguments`` are more ``ioproto decode``
    options (``--proto``, ``-D``, ``--port`` …). Returns each input's result, in order."""
    paths = [absolute(item) for item in inputs]
    root = absolute(out)
    names = client.submit(plan_task, root, paths, pure=False).result()
    futures = client.map(
        decode_task,
        paths,
        names,
        out=root,
        arguments=list(arguments),
        pure=False,
    )
    results: list[TaskResult] = client.gather(futures)
    return results


def stats_on_cluster(
    client: Any, roots: Sequence[str], *, fmt: str = "text", top: int = 10
) -> tuple[int, str, str]:
    """The stats report of ``roots``, computed by DuckDB on a worker of the cluster."""
    result: tuple[int, str, str] = client.submit(
        stats_task, [absolute(root) for root in roots], fmt, top, pure=False
    ).result()
    return result


def decode_arguments(params: dict[str, Any]) -> list[str]:
    """The ``ioproto decode`` options that the parsed decode/input options stand for."""
    args = ["--proto", params["proto"]]
    flags = (
        ("decode_options", "-D"),
        ("source_options", "--source-option"),
        ("ports", "--port"),
        ("no_classify", "--no-classify"),
        ("sink_options", "--sink-option"),
        ("filters", "--filter"),
    )
    for key, flag in flags:
        for value in params.get(key) or ():
            args += [flag, str(value)]
    if params.get("source") is not None:
        args += ["--source", str(params["source"])]
    if params.get("max_payload"):
        args += ["--max-payload", str(params["max_payload"])]
    for key, flag in (("strict", "--strict"), ("all_layers", "--all-layers")):
        if params.get(key):
            args.append(flag)
    return args
