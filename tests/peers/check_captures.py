"""Quick self-check of the captured fixtures: `python tests/peers/check_captures.py [FILE.pcap...]`.

Prints one line per capture: size, packets and TCP conversations (read directly from the pcap),
HTTP requests and WebSocket frames (counted by tshark, if installed), and the number of records
in the matching `.log.jsonl` with a per-action breakdown. Defaults to tests/data/*.pcap and
examples/chat.pcap. Exit status 1 if a capture is unreadable, empty or lacks its log.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
MAGICS = {b"\xd4\xc3\xb2\xa1": "<", b"\xa1\xb2\xc3\xd4": ">", b"\x4d\x3c\xb2\xa1": "<"}
MAGICS[b"\xa1\xb2\x3c\x4d"] = ">"


def pcap_stats(path: Path) -> tuple[int, int]:
    """Return (packets, TCP conversations) of an Ethernet/IPv4 pcap."""
    data = path.read_bytes()
    endian = MAGICS.get(data[:4])
    if endian is None:
        raise ValueError("not a classic pcap file")
    pos, packets = 24, 0
    convs: set[tuple[bytes, int, bytes, int]] = set()
    rec = struct.Struct(endian + "IIII")
    while pos + 16 <= len(data):
        _, _, incl, _ = rec.unpack_from(data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        packets += 1
        if len(frame) >= 34 and frame[12:14] == b"\x08\x00" and frame[23] == 6:
            tcp = 14 + (frame[14] & 0x0F) * 4
            sport, dport = struct.unpack_from("!HH", frame, tcp)
            a, b = (frame[26:30], sport), (frame[30:34], dport)
            lo, hi = sorted((a, b))
            convs.add((lo[0], lo[1], hi[0], hi[1]))
    return packets, len(convs)


def tshark_count(path: Path, display_filter: str) -> int | None:
    """Count packets matching a tshark display filter (None without tshark)."""
    if shutil.which("tshark") is None:
        return None
    out = subprocess.run(
        ["tshark", "-r", str(path), "-Y", display_filter, "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        check=False,
    )
    return len(out.stdout.split())


def log_stats(path: Path) -> tuple[int, Counter[str]] | None:
    """Return (records, actions) of a .log.jsonl file, or None if it is missing."""
    if not path.exists():
        return None
    actions: Counter[str] = Counter()
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        actions[str(json.loads(line)["action"])] += 1
    return len(lines), actions


def main(argv: list[str]) -> int:
    """CLI entry point."""
    files = [Path(a) for a in argv] or sorted((REPO / "tests" / "data").glob("*.pcap"))
    if not argv and (REPO / "examples" / "chat.pcap").exists():
        files.append(REPO / "examples" / "chat.pcap")
    bad = 0
    for pcap in files:
        try:
            packets, convs = pcap_stats(pcap)
        except (OSError, ValueError) as exc:
            print(f"{pcap.name}: UNREADABLE ({exc})")
            bad += 1
            continue
        http = tshark_count(pcap, "http.request")
        ws = tshark_count(pcap, "websocket")
        logs = log_stats(pcap.with_suffix(".log.jsonl"))
        if logs is None:
            log_text = "no log"
        else:
            log_text = (
                f"{logs[0]} log records ("
                + ", ".join(f"{k} {v}" for k, v in sorted(logs[1].items()))
                + ")"
            )
        print(
            f"{pcap.name}: {pcap.stat().st_size} bytes, {packets} packets, {convs} tcp conv, "
            f"{'?' if http is None else http} http requests, "
            f"{'?' if ws is None else ws} websocket frames, {log_text}"
        )
        if packets == 0 or logs is None or logs[0] == 0:
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
