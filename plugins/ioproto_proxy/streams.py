"""What the relay copied, as ``tcp`` records: the tap's events become byte-stream events.

Each proxied connection is reported like a TCP connection of a capture (see
:mod:`ioproto_tcp.records`): a ``TcpOpen`` with the client as side 0, the bytes of the
client's hop in order (``TcpData``), ``TcpGap`` where the tap had to drop a copy, ``TcpFin``
on a half-close and ``TcpClose`` at the end (``reset`` when a peer reset its connection). The
``http`` layer decodes them with the very code that decodes a capture, so records from the
proxy and from a capture of the same traffic are alike; after a gap it resynchronises, as
after a lost TCP segment.
"""

from __future__ import annotations

from ioproto_http.framing import split_target
from ioproto_tcp.records import TcpClose, TcpData, TcpFin, TcpGap, TcpOpen

from ioproto.model import ErrorRecord, Record

from .channel import CLOSE, ERROR, FIN, LOST, OPEN, Event

#: The rule of the relay's report that it could not connect to the server.
UNREACHABLE = "proxy.upstream.unreachable"


class TapDecoder:
    """Turns tap events (see :mod:`.channel`) into ``tcp`` records, in order.

    ``feed(events)`` returns the records of those events; ``finish()`` closes every
    connection still open and returns those closes. :meth:`bytes_by_side` counts the
    bytes seen from the clients and from the server; ``unreachable`` keeps the first
    reason the relay gave for not reaching the server (``None`` when it always did).
    """

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.offsets: dict[int, list[int]] = {}
        self.unreachable: str | None = None
        # What the closed connections carried, per side (the open ones: their offsets).
        self._ended = [0, 0]

    def feed(self, events: list[Event]) -> list[Record]:
        out: list[Record] = []
        append = out.append
        names = self.names
        for op, conn, ts, payload in events:
            name = names.get(conn)
            if op < FIN:
                if name is not None:
                    append(TcpData(ts=ts, connection=name, side=op, data=payload))
                    self.offsets[conn][op] += len(payload)
            elif op == OPEN:
                client, server = payload
                name = names[conn] = f"{client}-{server}"
                self.offsets[conn] = [0, 0]
                append(TcpOpen(ts=ts, connection=name, endpoints=(client, server), client=0))
            elif name is None:
                continue
            elif op < LOST:
                append(TcpFin(ts=ts, connection=name, side=op - FIN))
            elif op < OPEN:
                side = op - LOST
                offsets = self.offsets[conn]
                start = offsets[side]
                append(TcpGap(ts=ts, connection=name, side=side, offset=start, length=payload))
                offsets[side] += payload
            elif op == CLOSE:
                append(TcpClose(ts=ts, connection=name, reason=payload or "closed"))
                self._end(conn)
                del names[conn]
            elif op == ERROR:
                rule, reason, target = payload
                if rule == UNREACHABLE and self.unreachable is None:
                    self.unreachable = reason
                append(_proxy_error(ts, name, rule, reason, target))
        return out

    def finish(self, ts: float) -> list[Record]:
        out: list[Record] = [
            TcpClose(ts=ts, connection=name, reason="input ended") for name in self.names.values()
        ]
        for conn in list(self.offsets):
            self._end(conn)
        self.names.clear()
        return out

    def bytes_by_side(self) -> tuple[int, int]:
        """Bytes seen so far from the clients (side 0) and from the server (side 1),
        those the tap dropped included."""
        sides = list(self._ended)
        for offsets in self.offsets.values():
            sides[0] += offsets[0]
            sides[1] += offsets[1]
        return sides[0], sides[1]

    def _end(self, conn: int) -> None:
        offsets = self.offsets.pop(conn)
        self._ended[0] += offsets[0]
        self._ended[1] += offsets[1]


def _proxy_error(
    ts: float, connection: str, rule: str, reason: str, target: str | None
) -> ErrorRecord:
    query = dict(split_target(target)[1]) if target else {}
    return ErrorRecord(
        ts=ts,
        connection=connection,
        sid=query.get("sid") or None,
        transport=query.get("transport"),
        layer="proxy",
        rule=rule,
        reason=reason,
    )
