"""The per-entry costs the budgets are counted in are at least what CPython allocates
(measured with tracemalloc), so a byte budget really bounds the memory."""

from __future__ import annotations

import tracemalloc

from ioproto_dashboard.budgets import SESSION_BYTES
from ioproto_dashboard.rows import PacketRing, packet_row, row_bytes
from ioproto_dashboard.sessions import SessionTable
from ioproto_engineio.records import EngineIOHandshake
from ioproto_socketio.records import SocketIOPacket

N = 3000


def _sid(index: int) -> str:
    return f"{index:08d}-a-typical-20"


def _allocated(action: object) -> int:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_a_session_costs_less_than_its_budgeted_bytes() -> None:
    records = []
    for index in range(N):
        common = {"ts": 1.0 + index, "sid": _sid(index)}
        records.append(
            EngineIOHandshake(
                **common, direction="s2c", data="{}", revision=4, ping_interval=1, ping_timeout=1
            )
        )
        records.append(SocketIOPacket(**common, direction="c2s", type="CONNECT", revision=5))
    table = SessionTable(10 * N)

    def fill() -> None:
        for record in records:
            session, _ = table.touch(record, "websocket")
            table.note(session, record)

    assert _allocated(fill) / N <= SESSION_BYTES


def test_a_row_costs_less_than_its_estimate() -> None:
    events = [
        SocketIOPacket(
            ts=1.0 + index, sid=_sid(index), direction="c2s", type="EVENT", event="chat",
            args=[{"text": "é" * (index % 150)}], id=index,
        )
        for index in range(N)
    ]  # fmt: skip
    ring = PacketRing(1 << 40, 1 << 30)
    estimated = 0

    def fill() -> None:
        nonlocal estimated
        for index, record in enumerate(events):
            row = packet_row(record, index, "websocket", 50)
            estimated += row_bytes(row)
            ring.append(row)

    assert _allocated(fill) <= estimated
