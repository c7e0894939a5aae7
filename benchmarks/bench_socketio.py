"""Socket.IO decoding speed: ioproto vs python-socketio vs Node's socket.io-parser.

Run: ``python benchmarks/bench_socketio.py [--packets N] [--rounds R] [--seed S]``

A seeded list of realistic Socket.IO packets (text events with and without namespace and ack
id, acks, binary events and acks, connects) is decoded

* by ioproto's ``socketio`` stream decoder, fed pre-built Engine.IO ``Packet`` records;
* by python-socketio's ``socketio.packet.Packet`` (decode + ``add_attachment``);
* by socket.io-parser 4.2.7's ``Decoder`` in node (``tests/node/sio_bench.js``), on the same
  packets written to a temp file, in the same run (skipped when node is missing).

Prints packets/s for each (best of R rounds) and the ratios.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))

from ioproto_socketio.decoder import SocketIODecoder  # noqa: E402
from socketio import packet as pysio  # noqa: E402

from ioproto.components import DecodeContext  # noqa: E402
from ioproto.model import Packet  # noqa: E402

WORDS = ["chat", "message", "typing", "presence", "update", "price", "cursor", "ping-app"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth < 2 and roll < 0.25:
        return {rng.choice(WORDS): _value(rng, depth + 1) for _ in range(rng.randint(1, 4))}
    if depth < 2 and roll < 0.35:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if roll < 0.6:
        return rng.choice(WORDS) + " " + str(rng.randint(0, 10**6))
    if roll < 0.8:
        return rng.randint(-(10**9), 10**9)
    if roll < 0.9:
        return round(rng.uniform(-1000, 1000), 3)
    return rng.choice([True, False, None])


def make_packets(count: int, seed: int) -> list[tuple[list[str | bytes], str]]:
    """``count`` encoded packets ``([text, attachments...], direction)``."""
    rng = random.Random(seed)
    out: list[tuple[list[str | bytes], str]] = []
    next_id = 0
    # ids of events that asked for an ack, by the direction of the event
    asked: dict[str, list[tuple[str, int]]] = {"c2s": [], "s2c": []}
    for _ in range(count):
        roll = rng.random()
        nsp = "/" if rng.random() < 0.7 else rng.choice(["/chat", "/admin", "/game"])
        direction = rng.choice(["c2s", "s2c"])
        other = "s2c" if direction == "c2s" else "c2s"
        ack_id: int | None = None
        if roll < 0.9 and asked[other] and rng.random() < 0.25:
            # answer an earlier event of the other side (a binary reply one time in four)
            nsp, ack_id = asked[other].pop(rng.randrange(len(asked[other])))
            kind = pysio.ACK
            data = [_value(rng)]
            if rng.random() < 0.25:
                data.append(rng.randbytes(rng.choice([16, 256, 4096])))
        elif roll < 0.7:
            kind, data = pysio.EVENT, [rng.choice(WORDS), _value(rng)]
        elif roll < 0.85:
            blobs = [rng.randbytes(rng.choice([16, 256, 4096])) for _ in range(rng.randint(1, 2))]
            kind = pysio.EVENT
            data = [rng.choice(WORDS), {"meta": _value(rng), "blob": blobs[0]}, *blobs[1:]]
        elif roll < 0.9:
            kind, data = pysio.EVENT, [rng.choice(WORDS)]
        else:
            kind, data = pysio.CONNECT, {"token": rng.randbytes(8).hex()}
        if kind == pysio.EVENT and rng.random() < 0.3:
            ack_id = next_id
            next_id += 1
            asked[direction].append((nsp, ack_id))
        encoded = pysio.Packet(packet_type=kind, data=data, namespace=nsp, id=ack_id).encode()
        out.append((encoded if isinstance(encoded, list) else [encoded], direction))
    return out


def bench_ioproto(messages: list[tuple[list[str | bytes], str]], rounds: int) -> float:
    records = [
        Packet(
            layer="engineio",
            type="message",
            data=part,
            revision=4,
            ts=float(index),
            sid="bench-session",
            direction=direction,  # type: ignore[arg-type]
            transport="websocket",
        )
        for index, (parts, direction) in enumerate(messages)
        for part in parts
    ]
    best = float("inf")
    for _ in range(rounds):
        stream = SocketIODecoder().open(DecodeContext())
        feed = stream.feed
        count = 0
        start = time.perf_counter()
        for record in records:
            count += len(feed(record))  # type: ignore[arg-type]
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        produced = count
    assert produced >= len(messages), produced
    return best


def bench_python_socketio(messages: list[tuple[list[str | bytes], str]], rounds: int) -> float:
    best = float("inf")
    Packet_ = pysio.Packet
    for _ in range(rounds):
        start = time.perf_counter()
        for parts, _direction in messages:
            packet = Packet_(encoded_packet=parts[0])
            for attachment in parts[1:]:
                packet.add_attachment(attachment)
        best = min(best, time.perf_counter() - start)
    return best


def bench_node(messages: list[tuple[list[str | bytes], str]], rounds: int) -> float | None:
    script = ROOT / "tests" / "node" / "sio_bench.js"
    if shutil.which("node") is None or not (ROOT / "tests" / "node" / "node_modules").is_dir():
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for parts, _direction in messages:
            row = [
                part
                if isinstance(part, str)
                else {"$bytes": base64.b64encode(part).decode("ascii")}
                for part in parts
            ]
            f.write(json.dumps(row) + "\n")
        path = f.name
    try:
        result = subprocess.run(
            ["node", str(script), path, str(rounds)],
            cwd=script.parent,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        Path(path).unlink()
    answer = json.loads(result.stdout)
    assert answer["packets"] == len(messages), answer
    return float(answer["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    messages = make_packets(args.packets, args.seed)
    n = len(messages)
    binary = sum(1 for parts, _ in messages if len(parts) > 1)
    print(f"{n} Socket.IO packets ({binary} binary, seed {args.seed}), best of {args.rounds}")
    results = {
        "ioproto": bench_ioproto(messages, args.rounds),
        "python-socketio": bench_python_socketio(messages, args.rounds),
    }
    node = bench_node(messages, args.rounds)
    if node is not None:
        results["node socket.io-parser"] = node
    for name, seconds in results.items():
        print(f"  {name:<24} {n / seconds:>12,.0f} packets/s  ({seconds * 1e6 / n:6.2f} us/packet)")
    ours = results["ioproto"]
    for name, seconds in results.items():
        if name != "ioproto":
            print(f"  ioproto speed / {name}: {seconds / ours:.2f}x")


if __name__ == "__main__":
    main()
