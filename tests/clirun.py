"""Running the ``ioproto`` command as a user runs it: ``python -P -m ioproto ARGS`` in a
subprocess, with this interpreter, from the repository's root (which ``-P`` keeps off
``sys.path``).

Tests that check what a user sees (the exit status, the exact stdout and stderr, what a
signal or a closed pipe does) run the real command through these helpers rather than
click's ``CliRunner``. ``tests/`` is on ``sys.path`` (tests/conftest.py lives there), so
any test imports them with ``from clirun import run_ioproto``.

- ``run_ioproto(*args)`` runs the command to its end, its output as text;
  ``run_ioproto_bytes(*args)`` the same, its output as bytes.
- ``start_ioproto(*args, **popen)`` starts it and returns the ``Popen``, for a test that
  reads it as it runs, signals it or ends it; the test waits for it or ends it.
- ``IOPROTO`` is the command itself, for a test that runs it inside another command.

``env`` is always what is set *on top of* this process's environment, never a whole one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent

#: ``ioproto`` as a user has it: this interpreter, the installed (editable) package. ``-P``
#: leaves the working folder (the repository's root, whose ``ioproto/`` is the source) off
#: ``sys.path``, as the ``ioproto`` script does: the package imported is the one installed,
#: or the compiled build that tests/core/test_compiled.py puts first on ``PYTHONPATH``.
IOPROTO: tuple[str, ...] = (sys.executable, "-P", "-m", "ioproto")

#: Seconds a run may take before the test fails as hung: a bound for a command that
#: never ends, not a check of its speed (benchmarks/ measures that).
TIMEOUT = 120.0

#: Where a run's stdout may go: ``subprocess.PIPE`` (captured, as its stderr always is),
#: ``subprocess.DEVNULL``, a file descriptor or an open file.
Output = int | IO[Any]


def run_ioproto(
    *args: str,
    input: str | None = None,
    timeout: float | None = TIMEOUT,
    env: Mapping[str, str] | None = None,
    stdout: Output = subprocess.PIPE,
) -> subprocess.CompletedProcess[str]:
    """``ioproto ARGS`` run to its end: its status, stdout and stderr as text.

    ``input`` is written to its stdin (else it inherits this process's); ``stdout`` may
    send its output elsewhere (a file, ``subprocess.DEVNULL``), then ``.stdout`` is
    ``None``. A run longer than ``timeout`` raises ``subprocess.TimeoutExpired``. The
    status is not checked: the test asserts what it expects of it."""
    return subprocess.run(
        [*IOPROTO, *args],
        input=input,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=environment(env),
        timeout=timeout,
    )


def run_ioproto_bytes(
    *args: str,
    input: bytes | None = None,
    timeout: float | None = TIMEOUT,
    pass_fds: tuple[int, ...] = (),
) -> subprocess.CompletedProcess[bytes]:
    """``ioproto ARGS`` as ``run_ioproto`` runs it, its stdin, stdout and stderr bytes.

    ``pass_fds`` stay open in it (a ``/dev/fd/N`` input, as a shell's ``<(…)`` gives)."""
    return subprocess.run(
        [*IOPROTO, *args],
        input=input,
        capture_output=True,
        cwd=ROOT,
        timeout=timeout,
        pass_fds=pass_fds,
    )


def start_ioproto(
    *args: str, env: Mapping[str, str] | None = None, **popen: Any
) -> subprocess.Popen[Any]:
    """``ioproto ARGS`` started from the repository's root and not waited for.

    ``popen`` goes to ``subprocess.Popen`` as it is (``stdout``, ``stderr``, ``stdin``,
    ``text``, ``start_new_session`` …): nothing is captured unless it says so. The caller
    owns the process: it waits for it, or ends it, in every case."""
    return subprocess.Popen([*IOPROTO, *args], cwd=ROOT, env=environment(env), **popen)


def environment(extra: Mapping[str, str] | None) -> dict[str, str] | None:
    """This process's environment with ``extra`` set on top (``None``: inherit it)."""
    return None if extra is None else {**os.environ, **extra}
