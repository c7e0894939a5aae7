"""A capture whose input ends with a ping still waiting for its pong.

``clients_mixed.pcap``'s ``mute`` client stops answering pings and its server closes it
after pingTimeout (its WebSocket's close frame ends the session). Cut just before that
close, the capture ends with ``mute``'s ping unanswered and its session open: what the
tests of "the time the input ended" need.
"""

from __future__ import annotations

from pathlib import Path

from ioproto_engineio.records import EngineIOTransportClose

import ioproto

DATA = Path(__file__).resolve().parents[1] / "data"
CLIENTS_MIXED = DATA / "clients_mixed.pcap"


def server_timeout_at() -> float:
    """When ``mute``'s server closed its WebSocket (the capture's only server-side close)."""
    closes = [
        record.ts
        for record in ioproto.decode(CLIENTS_MIXED, proto="engineio")
        if isinstance(record, EngineIOTransportClose) and record.direction == "s2c"
    ]
    assert len(closes) == 1, closes
    return closes[0]
