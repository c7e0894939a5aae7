"""Generate a large real Socket.IO capture for benchmarks.

`python benchmarks/make_capture.py --clients 50 --events 1000 --out benchmarks/data/large.pcap`
runs a real socket.io 4.8.1 server and N real socket.io-client 4.8.1 clients on 127.0.0.1
(every 5th client polling-only, the others websocket-only; events with acks, every 10th event a
binary upload acked with bytes, server pushes and server-to-client acks), captured by tcpdump on
lo. The default settings give a capture of more than 50 MB.

`--repeat K` appends K-1 copies of the captured traffic, each shifted in time (after the
previous copy) and with the clients moved to another loopback address (127.1.x.y; the server
stays 127.0.0.1), fixing the IPv4 and TCP checksums, so every copy has its own TCP connections.
K=10 gives a capture ten times larger without ten times the run time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "peers"))
from capture import NODE_MODULES, PEERS, Tcpdump, wait_ready  # noqa: E402

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000_000),
    b"\xa1\xb2\xc3\xd4": (">", 1_000_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1_000_000_000),
    b"\xa1\xb2\x3c\x4d": (">", 1_000_000_000),
}
LINKTYPE_ETHERNET = 1


def capture(out: Path, port: int, clients: int, events: int, node_opts: list[str]) -> None:
    """Run the load with tcpdump on lo and write the capture to `out`."""
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    peer = [str(PEERS / "node_peer.js")]
    with tempfile.TemporaryDirectory(prefix="ioproto-load-") as tmp:
        dump = Tcpdump(out, port, buffer_kib=262144)
        server = subprocess.Popen(
            ["node", *peer, "load_server", str(port), f"{tmp}/s.jsonl", "timeout_ms=600000"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            wait_ready(server, 10)
            argv = ["node", *peer, "load_clients", str(port), f"{tmp}/c.jsonl"]
            argv += [f"clients={clients}", f"events={events}", "timeout_ms=600000", *node_opts]
            subprocess.run(argv, env=env, check=True)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
            stderr = dump.stop()
    if " 0 packets dropped by kernel" not in stderr.replace("\n", " "):
        print("warning: tcpdump reports dropped packets:\n" + stderr, file=sys.stderr)


def _records(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """Yield (ts_sec, ts_frac, frame) from a classic pcap file (Ethernet link type)."""
    with path.open("rb") as fh:
        head = fh.read(24)
        endian, _ = PCAP_MAGICS[head[:4]]
        rec = struct.Struct(endian + "IIII")
        while True:
            hdr = fh.read(16)
            if len(hdr) < 16:
                return
            sec, frac, incl, _orig = rec.unpack(hdr)
            yield sec, frac, fh.read(incl)


def _csum_add(csum: int, old: int, new: int) -> int:
    """RFC 1624 incremental update of a ones'-complement checksum for one 16-bit word."""
    total = (~csum & 0xFFFF) + (~old & 0xFFFF) + new
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip_checksum(header: bytes) -> int:
    total = int(sum(struct.unpack(f"!{len(header) // 2}H", header)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _move_client(frame: bytes, server_port: int, new_ip: bytes) -> bytes:
    """Rewrite the client-side address of an Ethernet/IPv4/TCP frame to `new_ip`."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return frame
    buf = bytearray(frame)
    ihl = (buf[14] & 0x0F) * 4
    tcp = 14 + ihl
    if buf[23] != 6 or len(buf) < tcp + 18:
        return frame
    sport, dport = struct.unpack_from("!HH", buf, tcp)
    # which address is the client's: the side that is not the server port
    offset = 26 if sport != server_port else 30 if dport != server_port else 0
    if not offset:
        return frame
    old = bytes(buf[offset : offset + 4])
    buf[offset : offset + 4] = new_ip
    struct.pack_into("!H", buf, 24, 0)
    struct.pack_into("!H", buf, 24, _ip_checksum(bytes(buf[14:tcp])))
    (csum,) = struct.unpack_from("!H", buf, tcp + 16)
    for i in (0, 2):
        old_word = int.from_bytes(old[i : i + 2], "big")
        new_word = int.from_bytes(new_ip[i : i + 2], "big")
        csum = _csum_add(csum, old_word, new_word)
    struct.pack_into("!H", buf, tcp + 16, csum)
    return bytes(buf)


def repeat(src: Path, out: Path, times: int, server_port: int) -> None:
    """Write `times` copies of `src` to `out`, each after the previous one, clients moved."""
    with src.open("rb") as fh:
        head = fh.read(24)
    endian, per_sec = PCAP_MAGICS[head[:4]]
    if struct.unpack(endian + "I", head[20:24])[0] != LINKTYPE_ETHERNET:
        raise SystemExit("only Ethernet captures can be repeated")
    first = last = None
    for sec, frac, _ in _records(src):
        stamp = sec * per_sec + frac
        first = stamp if first is None else first
        last = stamp
    if first is None or last is None:
        shutil.copyfile(src, out)
        return
    span = last - first + per_sec  # one second of silence between copies
    rec = struct.Struct(endian + "IIII")
    with out.open("wb") as dst:
        dst.write(head)
        for k in range(times):
            new_ip = bytes((127, 1, (k >> 8) & 0xFF, k & 0xFF))
            shift = k * span
            for sec, frac, frame in _records(src):
                stamp = sec * per_sec + frac + shift
                data = frame if k == 0 else _move_client(frame, server_port, new_ip)
                dst.write(rec.pack(stamp // per_sec, stamp % per_sec, len(data), len(data)))
                dst.write(data)


def main() -> int:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--events", type=int, default=1000, help="events per client")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "data" / "large.pcap")
    parser.add_argument("--port", type=int, default=47100)
    parser.add_argument("--payload", type=int, default=1000, help="text characters per event")
    parser.add_argument("--binary", type=int, default=4096, help="bytes per binary upload")
    parser.add_argument("--window", type=int, default=16, help="events in flight per client")
    parser.add_argument("--repeat", type=int, default=1, help="copies of the traffic (e.g. 10)")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    node_opts = [f"payload={args.payload}", f"binary={args.binary}", f"window={args.window}"]
    if args.repeat <= 1:
        capture(args.out, args.port, args.clients, args.events, node_opts)
    else:
        once = args.out.with_suffix(".once.pcap")
        capture(once, args.port, args.clients, args.events, node_opts)
        repeat(once, args.out, args.repeat, args.port)
        once.unlink()
    size = args.out.stat().st_size
    took = time.monotonic() - started
    print(f"{args.out}: {size / 1e6:.1f} MB in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
