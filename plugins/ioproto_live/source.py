"""Source ``live``: capture an interface with tcpdump and decode the packets as they arrive.

Input: ``live:IFACE`` or ``iface:IFACE`` (or, with ``--source live``, a bare ``IFACE``; the
source option ``iface=IFACE`` wins over the input). Source options: ``port`` (what
``--port`` sets: only these TCP ports), ``filter=BPF`` (extra capture filter, and-ed),
``duration=SECONDS`` (stop by itself), ``count=N`` (stop after N packets), ``buffer=BYTES``
(the kernel's capture buffer, default 32 MiB), ``tcpdump=PATH``, and the ``pcap`` source's
options.

It runs ``tcpdump -i IFACE -U -w - --immediate-mode -B KiB <filter>`` (installing nothing)
and hands its standard output, as ``/dev/fd/N``, to the ``pcap`` source, which reads
captures as streams and yields each frame as soon as it has arrived. In immediate mode each
packet takes a slot of the kernel's ring buffer as large as the interface's MTU (64 KiB on
loopback), so tcpdump's default of 2 MiB holds about 32 packets and a short stall of tcpdump
on a busy machine lost packets (gaps in the demo's traffic); 32 MiB holds about 500. Without
capture rights, for an interface that does not exist or a filter tcpdump rejects, tcpdump
fails at once; ``open`` then raises :class:`~ioproto.errors.UsageError` saying what to do
(the command exits with status 2 and that one line, no traceback). The pcap source's
summary of what it read is passed on, told about the interface, so that an empty result
says why (nothing captured, or no Engine.IO traffic among what was). The first
Ctrl-C or SIGTERM stops tcpdump, so the pcap reader sees the end of the stream, flushes its
connections and the pipeline closes every sink; a second one interrupts at once. That holds
from tcpdump's start on, its start-up (waiting for its "listening on") included: whatever
ends the source, an error, an exception or a signal, tcpdump is stopped and waited for.
"""

from __future__ import annotations

import functools
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

import attrs
from ioproto_tcp.records import RECORD_TYPES

from ioproto.components import (
    Source,
    SourceContext,
    declared_options,
    number_option,
    optional,
    ports_option,
)
from ioproto.errors import UsageError
from ioproto.model import InputSummary, Record

PREFIXES = ("live:", "iface:")
#: The kernel's capture buffer (tcpdump -B): about 500 loopback packets in immediate mode.
DEFAULT_BUFFER = 32 * 1024 * 1024
OWN_OPTIONS = {
    "iface": "the interface to capture (instead of the one in the input)",
    "port": "only TCP connections on these ports (--port)",
    "filter": "a BPF capture filter, and-ed with the port filter",
    "duration": "stop by itself after this many seconds",
    "count": "stop after this many packets",
    "buffer": "the kernel's capture buffer in bytes (default 32 MiB)",
    "tcpdump": "the tcpdump program to run",
}
PERMISSION_HELP = (
    "capturing needs root or capture capabilities: run as root, or once "
    "`sudo setcap cap_net_raw,cap_net_admin=eip $(which tcpdump)`"
)


def capture_filter(ports: Collection[int] | None, extra: str | None) -> str:
    """The BPF filter: TCP on ``ports`` (any when none), and ``extra`` when given."""
    text = "tcp"
    if ports:
        text += " and (" + " or ".join(f"port {number}" for number in sorted(ports)) + ")"
    if extra:
        text += f" and ({extra})"
    return text


def tcpdump_argv(
    tcpdump: str, iface: str, bpf: str, count: int | None, buffer: int = DEFAULT_BUFFER
) -> list[str]:
    argv = [tcpdump, "-i", iface, "-U", "-w", "-", "-s", "0", "-n", "--immediate-mode"]
    argv += ["-B", str(max(1, buffer // 1024))]
    if count:
        argv += ["-c", str(count)]
    return [*argv, bpf]


class LiveSource:
    """Source ``live``: see the module docstring."""

    name = "live"
    live = True  # records arrive as traffic happens: the CLI keeps output line-buffered
    prefixes = PREFIXES
    description = "capture an interface with tcpdump: live:IFACE (e.g. live:lo), --port to filter"

    types = RECORD_TYPES

    def __init__(self, pcap_finder: Callable[[], Source | None] | None = None) -> None:
        self._find_pcap = pcap_finder or find_pcap_source

    @functools.cached_property
    def options(self) -> dict[str, str]:
        """Its own options, then the pcap source's, which read what tcpdump captured."""
        return {**OWN_OPTIONS, **(declared_options(self._find_pcap(), "Source") or {})}

    def probe(self, input: str) -> float:
        return 1.0 if input.startswith(PREFIXES) else -1.0

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` for an option value not taken (its own
        or the pcap source's)."""
        _own_options(options)
        check = optional(self._find_pcap(), "Source", "check_options")
        if check is not None:
            check(options)

    def open(self, input: str, context: SourceContext) -> Iterator[Record]:
        """The capture's records as packets arrive. Raises
        :class:`~ioproto.errors.UsageError` when the capture cannot start (no tcpdump, no
        capture rights, no such interface, a filter tcpdump rejects, a bad option)."""
        options = context.options
        iface = str(options.get("iface") or _strip_prefix(input))
        tcpdump = str(options.get("tcpdump") or shutil.which("tcpdump") or "")
        if not tcpdump:
            raise UsageError(
                "tcpdump is not installed: install it (Debian: apt-get install tcpdump)"
            )
        pcap = self._find_pcap()
        if pcap is None:
            raise UsageError("the pcap source is not installed: reinstall ioproto")
        ports, count, duration, buffer = _own_options(options)
        bpf = capture_filter(ports, options.get("filter"))
        capture = Capture(tcpdump_argv(tcpdump, iface, bpf, count, buffer))
        try:  # from its start on, whatever happens, tcpdump is stopped and waited for
            with _stop_on_signals(capture.stop):
                yield from _captured(capture, pcap, input, f"{iface} ({bpf})", duration, context)
        finally:
            capture.stop()
            capture.wait()
        if capture.summary:
            _say(capture.summary)


def _captured(
    capture: Capture,
    pcap: Source,
    input: str,
    where: str,
    duration: float,
    context: SourceContext,
) -> Iterator[Record]:
    """Start ``capture`` and yield what the pcap source reads of it, until it ends (stopped,
    ``duration`` elapsed, tcpdump's ``count``); the caller stops and waits for tcpdump.
    Stopped while tcpdump started: only a summary saying so."""
    problem = capture.start()
    if problem is not None:
        raise UsageError(problem)
    if capture.stopped:
        reason = f"stopped before tcpdump was capturing on {where}"
        yield InputSummary(ts=time.time(), input=input, empty_reason=reason)
        return
    _say(f"capturing on {where}; Ctrl-C to stop")
    context.started()
    timer = threading.Timer(duration, capture.stop) if duration > 0 else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        for record in pcap.open(capture.path, context):
            if isinstance(record, InputSummary):
                record = _summary(record, capture.path, input, where)
            yield record
            context.tick()
    finally:
        if timer is not None:
            timer.cancel()


def _own_options(
    options: Mapping[str, Any],
) -> tuple[frozenset[int] | None, int | None, float, int]:
    """``port``, ``count`` (``None``: no limit), ``duration`` and ``buffer``."""
    return (
        ports_option(options),
        number_option(options, "count", 0, minimum=0) or None,
        number_option(options, "duration", 0, float, minimum=0),
        number_option(options, "buffer", DEFAULT_BUFFER, minimum=1024),
    )


class Capture:
    """One tcpdump process writing pcap to a pipe; ``path`` names the pipe's read end."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.proc: subprocess.Popen[bytes] | None = None
        self.path = ""
        self.summary = ""
        self._stderr: list[str] = []
        self._listening = threading.Event()
        #: :meth:`stop` was called (by a signal, the duration's timer or the source's end)
        self.stopped = False

    def start(self, timeout: float = 10.0) -> str | None:
        """Start tcpdump; ``None`` once it listens (or once :meth:`stop` was called, by a
        signal while it started: the stream then ends at once), else why it could not.
        Whatever this raises, :meth:`stop` and :meth:`wait` still end the process."""
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # our Ctrl-C is ours to forward, not the terminal's
            )
        except OSError as exc:
            return f"cannot run {self.argv[0]}: {exc}"
        assert self.proc.stdout is not None
        self.path = f"/dev/fd/{self.proc.stdout.fileno()}"
        threading.Thread(target=self._read_stderr, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not self._listening.is_set() and not self.stopped:
            if self.proc.poll() is not None:
                time.sleep(0.05)  # let the stderr reader catch the last words
                problem = _explain(" ".join(self._stderr).strip(), self.proc.returncode)
                return None if self.stopped else problem
            if time.monotonic() > deadline:
                break
            self._listening.wait(0.05)
        return None

    def stop(self) -> None:
        """Ask tcpdump to end (it writes out what it holds); also before or while it starts."""
        self.stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        """Wait for tcpdump to end after :meth:`stop`; kill it after 5 s, or at once when the
        wait is interrupted (a second Ctrl-C): it never outlives the source."""
        if self.proc is None:
            return
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if "listening on" in line:  # "tcpdump: listening on lo, link-type ..."
                self._listening.set()
            elif "packets captured" in line:
                self.summary = f"tcpdump: {line}"
            elif "dropped by kernel" in line and not line.startswith("0 "):
                self.summary += (
                    f", {line} (a larger --source-option buffer=BYTES keeps more of them)"
                )
            elif line:
                self._stderr.append(line)


def _explain(message: str, code: int | None) -> str:
    """What tcpdump's last words mean, and what to do about them."""
    message = message.removeprefix("tcpdump: ")
    head, _, last = message.rpartition(" (")
    if last.endswith(")") and last[:-1] in head:
        message = head  # libpcap repeats its reason: "eth9: No such device exists (No such …)"
    lowered = message.lower()
    if "permission" in lowered or "not permitted" in lowered:
        return f"tcpdump: {message or 'permission denied'}; {PERMISSION_HELP}"
    if "no such device" in lowered or "doesn't exist" in lowered:
        return f"tcpdump: {message}; `ip link` lists the interfaces"
    if "syntax error" in lowered or "filter" in lowered:
        return f"tcpdump rejected the capture filter: {message}"
    return f"tcpdump exited with status {code}: {message}"


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """First SIGINT/SIGTERM calls ``stop`` (tcpdump ends, the stream ends cleanly); a second
    one raises ``KeyboardInterrupt``. Main thread only; handlers are restored on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if fired.is_set():
            raise KeyboardInterrupt
        fired.set()
        stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def find_pcap_source() -> Source | None:
    """The registered ``pcap`` source, found through the public plugin machinery (the live
    source delivers what tcpdump writes; reading the pcap format is the pcap plugin's job)."""
    from ioproto.plugins import collect_components, make_plugin_manager

    try:
        return collect_components(make_plugin_manager()).sources.get("pcap")
    except Exception:
        return None


def _strip_prefix(input: str) -> str:
    for prefix in PREFIXES:
        if input.startswith(prefix):
            return input[len(prefix) :]
    return input


def _summary(summary: InputSummary, path: str, input: str, where: str) -> InputSummary:
    """The pcap source's summary of the pipe from tcpdump, told about ``input``."""
    reason = summary.empty_reason
    if reason is not None:
        if not summary.counts.get("frames"):
            reason = f"nothing was captured on {where}"
        reason = reason.replace(path, input)
    return attrs.evolve(summary, input=input, empty_reason=reason)


def _say(message: str) -> None:
    print(f"ioproto: {message}", file=sys.stderr, flush=True)


__all__ = ["PERMISSION_HELP", "LiveSource", "capture_filter"]
