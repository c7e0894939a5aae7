"""When a session is over though no Engine.IO ``close`` said so: the rules the dashboard's
session table and the Prometheus sink's open-sessions gauge share (docs/dashboard.md).

A session is open until the first of: an Engine.IO ``close``; its WebSocket closing (the
Engine.IO layer's ``transport-close``, which also ends the pipeline's session); a Socket.IO
``DISCONNECT`` that leaves it no connected namespace (the usual end of a Socket.IO client,
which then closes its WebSocket without an Engine.IO close); ``pingInterval + pingTimeout``
of capture time without a record (:func:`idle_after`), as its server would time it out.
"""

from __future__ import annotations

from ioproto_engineio.records import EngineIOHandshake
from ioproto_socketio.records import SocketIOPacket

#: How long a session may go without a record when its handshake was not seen (the default
#: ``pingInterval + pingTimeout`` of socket.io 4).
DEFAULT_IDLE = 45.0
#: Connected namespaces followed per session at most.
MAX_NAMESPACES = 32


def connected_after(connected: tuple[str, ...], record: SocketIOPacket) -> tuple[str, ...]:
    """The namespaces a session has connected once ``record`` is through (a ``CONNECT``
    adds its namespace, up to :data:`MAX_NAMESPACES`; a ``DISCONNECT`` takes it away)."""
    nsp = record.nsp
    kind = record.type
    if kind == "CONNECT" and nsp not in connected and len(connected) < MAX_NAMESPACES:
        return (*connected, nsp)
    if kind == "DISCONNECT" and nsp in connected:
        return tuple(name for name in connected if name != nsp)
    return connected


def disconnected(before: tuple[str, ...], after: tuple[str, ...]) -> bool:
    """Whether a record that took the connected namespaces from ``before`` to ``after``
    ended its session (it left none)."""
    return bool(before) and not after


def idle_after(handshake: EngineIOHandshake) -> float | None:
    """Seconds without a record after which the session of ``handshake`` is over
    (``pingInterval + pingTimeout``), ``None`` when the handshake does not say."""
    if handshake.ping_interval is None or handshake.ping_timeout is None:
        return None
    return (handshake.ping_interval + handshake.ping_timeout) / 1000.0
