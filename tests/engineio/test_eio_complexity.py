"""Engine.IO v3 ``<len>:`` payloads decode in linear time (issue 11, item 8).

The UTF-16 length scan once searched the rest of the payload for astral characters at
every packet, and byte offsets re-encoded every prefix: 40,000 packets took 8.7 s, 100,000
51 s. Timing ratios (4x the packets must take well under 16x the time) keep the test
independent of the machine's speed; benchmarks/bench_eio_v3.py has the absolute figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from eio_helpers import chunk, stream
from ioproto_http.records import ChunkKind, HttpInfo

from ioproto.components import Limits

POLLING = HttpInfo(method="GET", path="/socket.io/", query=(("EIO", "3"),), status=200)
LIMITS = Limits(max_packets_per_payload=10**7, max_payload=1 << 30)

#: name -> one repeated unit of a payload
UNITS: dict[str, str] = {
    "ascii pings": "1:2",
    "non-ascii messages": "2:4é",
    "astral messages": "3:4😀",
    "bad lengths between packets": "1:2x",
}


def _seconds(payload: bytes) -> float:
    """The best of three decodes of ``payload`` as one polling response (process time)."""
    best = float("inf")
    for _ in range(3):
        decoder = stream(limits=LIMITS)
        record = chunk(payload, ChunkKind.HTTP_RESPONSE, revision=3, http=POLLING)
        started = time.process_time()
        for _record in decoder.feed(record):
            pass
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("name", list(UNITS))
def test_four_times_the_packets_take_about_four_times_as_long(name: str) -> None:
    make: Callable[[int], bytes] = lambda count: (UNITS[name] * count).encode()  # noqa: E731
    small, large = 10_000, 40_000
    ratio = _seconds(make(large)) / max(_seconds(make(small)), 1e-6)
    assert ratio < 8, f"{name}: {ratio:.1f}x the time for 4x the packets (quadratic: 16x)"
