"""Push-down: decoding a large capture with and without a selective filter.

    python benchmarks/bench_filters.py [--capture FILE] [--runs N]

On the same capture (default benchmarks/data/large.pcap, made by make_capture.py), runs
``ioproto decode --proto socketio --sink jsonl --no-classify all`` interleaved, ``--runs``
times each:

* without a filter;
* ``--filter 'eio.sid == "SID"'`` (one session): Engine.IO packets of other sessions are
  dropped right after the Engine.IO layer, before Socket.IO decoding and the sinks;
* the same selection with push-down defeated (``eio.sid == "SID" or layer == "-"`` means
  the same, but its term also reads ``layer``, which is never pushed down): every record is
  decoded and the filter applies only before the sinks;
* ``--filter 'tcp.port == PORT'`` (one client connection): the pcap source skips the other
  connections before any HTTP parsing (the ``port`` source option), and the chunk layer
  guard drops what is left;
* the same port selection, push-down defeated.

Prints the median wall time of each and the speed-up push-down brings. The session and
the port are the first ones of the capture.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_end_to_end import DATA, ensure_capture, run  # noqa: E402

import ioproto  # noqa: E402


def first_session_and_port(capture: Path) -> tuple[str, int]:
    for record in ioproto.decode(str(capture), proto="engineio", filter='eio.type == "open"'):
        assert record.sid is not None and record.connection is not None
        return record.sid, int(record.connection.split("-")[0].rsplit(":", 1)[1])
    raise SystemExit(f"{capture}: no Engine.IO handshake")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--capture", type=Path, default=DATA / "large.pcap")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    capture = ensure_capture(args.capture)
    sid, port = first_session_and_port(capture)
    base = [sys.executable, "-m", "ioproto", "decode", "--proto", "socketio", "--sink", "jsonl"]
    base += ["--no-classify", "all", "--source-option", "parallel=false"]
    cases = {
        "no filter": [],
        "eio.sid, pushed down": ["--filter", f'eio.sid == "{sid}"'],
        "eio.sid, not pushed down": ["--filter", f'eio.sid == "{sid}" or layer == "-"'],
        "tcp.port, pushed down": ["--filter", f"tcp.port == {port}"],
        "tcp.port, not pushed down": ["--filter", f'tcp.port == {port} or layer == "-"'],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    lines: dict[str, int] = {}
    for _ in range(args.runs):
        for name, extra in cases.items():
            elapsed, _rss, count = run([*base, *extra, str(capture)])
            times[name].append(elapsed)
            lines[name] = count
    size = capture.stat().st_size / 1e6
    print(f"capture {capture} ({size:.1f} MB); session {sid}, client port {port}")
    print(f"{'case':<28} {'median s':>9} {'records':>9}")
    for name in cases:
        print(f"{name:<28} {statistics.median(times[name]):>9.2f} {lines[name]:>9}")
    for field in ("eio.sid", "tcp.port"):
        pushed = statistics.median(times[f"{field}, pushed down"])
        plain = statistics.median(times[f"{field}, not pushed down"])
        assert lines[f"{field}, pushed down"] == lines[f"{field}, not pushed down"]
        print(
            f"{field}: push-down is {plain / pushed:.1f}x faster ({plain:.2f} s -> {pushed:.2f} s)"
        )


if __name__ == "__main__":
    main()
