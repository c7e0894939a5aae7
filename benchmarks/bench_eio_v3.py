"""Engine.IO v3 ``<len>:`` payloads: a 10 MB payload decodes in well under a second.

Run ``python benchmarks/bench_eio_v3.py``. Decodes one 10 MB polling response of
Engine.IO v3 packets (issue 11, item 8: the length scan was quadratic, a 10 MB line never
finished) in four shapes and prints the time of each (best of three, process time):

* 100-byte messages (100k packets, the default ``max_packets_per_payload``);
* 3.3M pings ``1:2`` (limit raised to let every packet through);
* non-ASCII messages (``é``, byte offsets counted) and astral ones (``😀``, 2 UTF-16 units).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "plugins"))

from ioproto_engineio.decoder import EngineIODecoder
from ioproto_http.records import Chunk, ChunkKind, HttpInfo

from ioproto.components import DecodeContext, Limits

SIZE = 10 * 1024 * 1024
POLLING = HttpInfo(method="GET", path="/socket.io/", query=(("EIO", "3"),), status=200)


def seconds(payload: bytes, limits: Limits) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(3):
        decoder = EngineIODecoder().open(DecodeContext(limits=limits))
        record = Chunk(ts=1.0, kind=ChunkKind.HTTP_RESPONSE, data=payload, http=POLLING)
        started = time.process_time()
        count = sum(1 for _ in decoder.feed(record))
        best = min(best, time.process_time() - started)
    return best, count


def main() -> None:
    message = "4" + "x" * 96
    every = Limits(max_packets_per_payload=10**7)
    shapes = {
        "100-byte messages": (f"{len(message)}:{message}", Limits()),
        "pings 1:2": ("1:2", Limits()),
        "non-ASCII 2:4é": ("2:4é", Limits()),
        "astral 3:4😀": ("3:4😀", Limits()),
        "pings, all decoded": ("1:2", every),
        "astral, all decoded": ("3:4😀", every),
    }
    print("default limits stop at 100,000 packets (one error record for the rest)")
    for name, (unit, limits) in shapes.items():
        encoded = unit.encode()
        payload = encoded * (SIZE // len(encoded))
        took, count = seconds(payload, limits)
        print(f"{name:20} {len(payload) / 1e6:5.1f} MB  {count:>8} records  {took:6.2f} s")


if __name__ == "__main__":
    main()
