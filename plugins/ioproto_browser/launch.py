"""Starting a Chromium of our own for ``ioproto browse``.

Debian's ``chromium`` (or the executable given) runs with a fresh temporary profile,
removed afterwards, and these flags: ``--headless`` (unless headful), ``--disable-gpu``,
``--disable-background-networking``, ``--disable-component-update``, ``--disable-sync``,
``--no-first-run``, ``--no-default-browser-check``, ``--remote-debugging-port=0`` (a free
port, on 127.0.0.1) and, when running as root (where Chromium refuses to start without it),
``--no-sandbox``. It runs in a process group of its own, so that Ctrl-C at the terminal
reaches ioproto, which then stops it after draining. The DevTools endpoint is read from the
``DevToolsActivePort`` file Chromium writes into the profile.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-port=0",
)
INSTALL_HINT = "install it (Debian: apt-get install chromium) or give --chromium PATH"


class LaunchError(Exception):
    """Chromium cannot be found or started; the message says what to do."""


def find_chromium(path: str | None = None) -> str:
    """The executable to run: ``path`` if given (it must exist), else the first of
    :data:`CHROMIUM_NAMES` on ``PATH``."""
    if path:
        found = shutil.which(path)
        if found is None:
            raise LaunchError(f"{path} is not an executable: {INSTALL_HINT}")
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found is not None:
            return found
    raise LaunchError(f"no Chromium or Chrome found on PATH: {INSTALL_HINT}")


def chromium_argv(executable: str, profile: Path, *, headless: bool) -> list[str]:
    """The command line that starts ``executable`` on ``about:blank``."""
    argv = [executable, *(("--headless",) if headless else ()), *FLAGS]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--no-sandbox")
    return [*argv, f"--user-data-dir={profile}", "about:blank"]


class Chromium:
    """One Chromium process with a temporary profile: :meth:`start`, then :meth:`stop`."""

    def __init__(self, executable: str, *, headless: bool = True) -> None:
        self.executable = executable
        self.headless = headless
        self._home = Path(tempfile.mkdtemp(prefix="ioproto-chromium-"))
        self.profile = self._home / "profile"
        self.log = self._home / "chromium.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def start(self, timeout: float = 30.0) -> str:
        """Start it; the browser's DevTools endpoint (``ws://127.0.0.1:PORT/devtools/…``).
        Raises :class:`LaunchError` (with Chromium's last words) if it does not come up."""
        argv = chromium_argv(self.executable, self.profile, headless=self.headless)
        with open(self.log, "wb") as log:
            try:
                self.proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            except OSError as exc:
                self.cleanup()
                raise LaunchError(f"cannot run {self.executable}: {exc}") from None
        active = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                words = self.last_words()
                self.cleanup()
                raise LaunchError(f"{self.executable} exited at start: {words}")
            lines = _read_lines(active)
            if len(lines) >= 2 and lines[0].isdigit():
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        self.stop()
        raise LaunchError(f"{self.executable} did not open its DevTools port in {timeout:.0f} s")

    def exit_status(self) -> str | None:
        """How the process ended (``None`` while it runs, or when ioproto stopped it)."""
        if self.proc is None or self.proc.poll() is None or self.stopping:
            return None
        code = self.proc.returncode
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"chromium was killed by {name}"
        return f"chromium exited with status {code}"

    def stop(self) -> None:
        """Stop the browser (SIGTERM to its process group, SIGKILL after 5 s) and remove
        the temporary profile."""
        self.stopping = self.proc is not None and self.proc.poll() is None
        if self.proc is not None and self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.cleanup()

    def cleanup(self) -> None:
        shutil.rmtree(self._home, ignore_errors=True)

    def last_words(self, lines: int = 5) -> str:
        """The last lines Chromium wrote that say something (D-Bus noise left out)."""
        try:
            text = self.log.read_text("utf-8", "replace")
        except OSError:
            return "no output"
        said = [line for line in text.splitlines() if line.strip() and "dbus" not in line]
        return " | ".join(said[-lines:]) or "no output"


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except OSError:
        return []


def _signal_group(pid: int, number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)
