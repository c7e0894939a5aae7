"""Under load: many concurrent connections through the proxy for a while, no message lost.

The normal suite runs 500 connections for 10 s (marker ``slow``; IOPROTO_LOAD_SECONDS and
IOPROTO_LOAD_CLIENTS change that); `python benchmarks/bench_proxy.py --load` runs the full
minute.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_proxy


@pytest.mark.node
@pytest.mark.slow
def test_500_connections_lose_nothing() -> None:
    clients = int(os.environ.get("IOPROTO_LOAD_CLIENTS", "500"))
    seconds = float(os.environ.get("IOPROTO_LOAD_SECONDS", "10"))
    result = bench_proxy.soak(clients, seconds)
    assert result["connected"] == clients, result
    assert result["lost"] == 0, result
    assert result["counted"] == result["sent_counts"] > clients, result
    assert result["proxy_exit_clean"], result
