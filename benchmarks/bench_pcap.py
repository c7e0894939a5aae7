"""Benchmark the pcap source: frames/s, MB/s and peak RSS of reading every chunk of a capture,
next to tshark framing the WebSocket payloads of the same file.

    python benchmarks/bench_pcap.py [FILE] [--runs N]

Without FILE a ~50 MB capture with many WebSocket connections (and some polling) is
synthesised with the test pcap writer (tests/pcap/pcapbuild.py) into a temporary file.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / "pcap"), str(ROOT / "plugins")]

import pcapbuild  # noqa: E402
from ioproto_pcap.capture import read_capture  # noqa: E402

from ioproto.components import SourceContext  # noqa: E402

MASK = b"\x37\xfa\x21\x3d"


def _masked(opcode: int, payload: bytes) -> bytes:
    # pcapbuild.ws_frame masks byte by byte: fine for tests, slow for 50 MB
    size = len(payload)
    key = (MASK * (size // 4 + 1))[:size]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(size, "big")
    head = pcapbuild.ws_frame(opcode, b"", mask=MASK)[:1]
    if size < 126:
        head += bytes([0x80 | size])
    else:
        head += bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return head + MASK + body


def synthesise(path: str, target_mb: float = 50.0, connections: int = 400) -> None:
    """Many WebSocket sessions (events with acks both ways, ACK segments) interleaved."""
    rng = random.Random(7)
    flows = []
    for number in range(connections):
        flow = pcapbuild.Flow(
            client=(f"10.1.{number // 200}.{number % 200 + 1}", 40000 + number),
            server=("10.0.0.2", 80),
            ts=1_700_000_000.0,
        )
        flow.handshake()
        flow.send(
            0,
            pcapbuild.http_request(
                "GET",
                "/socket.io/?EIO=4&transport=websocket",
                headers=[
                    ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"),
                    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                    ("Sec-WebSocket-Version", "13"),
                ],
            ),
        )
        flow.send(
            1,
            pcapbuild.http_response(
                101,
                reason="Switching Protocols",
                length=False,
                headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")],
            ),
        )
        flow.send(1, pcapbuild.ws_frame(1, b'0{"sid":"abc%05d","upgrades":[]}' % number))
        flows.append(flow)
    budget = target_mb * 1e6
    size = 0
    frames = []
    for flow in flows:
        frames += pcapbuild.render(flow.packets)
        flow.packets.clear()
    ack = 0
    while size < budget:
        flow = flows[rng.randrange(connections)]
        ack += 1
        text = b'42%d["message",{"user":"u%d","text":"%s"}]' % (
            ack,
            ack % 97,
            b"lorem ipsum " * rng.randint(2, 40),
        )
        flow.send(0, _masked(1, text))
        flow.ack(1)
        flow.send(1, pcapbuild.ws_frame(1, b"43%d[true]" % ack))
        flow.ack(0)
        for frame in pcapbuild.render(flow.packets):
            frames.append(frame)
            size += len(frame[2]) + 16
        flow.packets.clear()
    for number, (_ts, linktype, frame) in enumerate(frames):
        frames[number] = (1_700_000_000.0 + number * 1e-5, linktype, frame)
    pcapbuild.write_pcap(path, frames)


def measure(path: str) -> tuple[float, int, int]:
    """(seconds, chunks, errors) for one pass over every record."""
    start = time.perf_counter()
    chunks = errors = 0
    for record in read_capture(path, SourceContext()):
        if record.type == "error":
            errors += 1
        else:
            chunks += 1
    return time.perf_counter() - start, chunks, errors


def count_frames(path: str) -> int:
    from ioproto_pcap.files import FrameReader, open_input

    with open_input(path) as stream:
        return sum(1 for _ in FrameReader(stream))


def tshark(path: str) -> tuple[float, int] | None:
    exe = shutil.which("tshark")
    if exe is None:
        return None
    start = time.perf_counter()
    result = subprocess.run(
        [exe, "-r", path, "-Y", "websocket", "-T", "fields", "-e", "websocket.payload"],
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - start, result.stdout.count(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--synthesise", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.synthesise:
        synthesise(args.synthesise, args.mb)
        return
    tmp = None
    path = args.file
    if path is None:
        handle, path = tempfile.mkstemp(suffix=".pcap")
        os.close(handle)
        tmp = path
        started = time.perf_counter()
        # in a child process, so the peak RSS below is that of reading only
        subprocess.run(
            [sys.executable, __file__, "--synthesise", path, "--mb", str(args.mb)], check=True
        )
        print(f"synthesised {path} in {time.perf_counter() - started:.1f} s")
    try:
        size = os.path.getsize(path)
        frames = count_frames(path)
        runs = [measure(path) for _ in range(args.runs)]
        seconds = statistics.median(run[0] for run in runs)
        _, chunks, errors = runs[0]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"file: {size / 1e6:.1f} MB, {frames} frames")
        print(
            f"ioproto pcap source: {seconds:.2f} s (median of {args.runs}), "
            f"{frames / seconds / 1000:.0f}k frames/s, {size / seconds / 1e6:.1f} MB/s, "
            f"{seconds / frames * 1e6:.1f} us/frame, {chunks} chunks, {errors} errors, "
            f"peak RSS {rss:.0f} MB"
        )
        shark = tshark(path)
        if shark is None:
            print("tshark: not installed")
        else:
            elapsed, lines = shark
            print(
                f"tshark -Y websocket -e websocket.payload: {elapsed:.2f} s, "
                f"{frames / elapsed / 1000:.0f}k frames/s, {size / elapsed / 1e6:.1f} MB/s, "
                f"{lines} output lines; ioproto is {elapsed / seconds:.1f}x tshark's speed"
            )
    finally:
        if tmp is not None:
            os.unlink(path)


if __name__ == "__main__":
    main()
