"""The records of the Engine.IO layer. Public: other plugins and sinks may import them.

``EngineIOPacket.type`` is one of ``open``, ``close``, ``ping``, ``pong``, ``message``,
``upgrade``, ``noop``; ``data`` is the text after the type digit (``""`` when there is none)
or ``bytes`` for a binary message (``binary`` is then true). ``revision`` is the Engine.IO
revision the packet was decoded with (2, 3 or 4). ``index`` is the packet's position in its
polling payload (0 for WebSocket messages). ``raw`` is the packet's own encoding as it
appeared inside the chunk.
"""

from __future__ import annotations

import attrs

from ioproto.model import Packet, Record

LAYER = "engineio"

PACKET_TYPES = ("open", "close", "ping", "pong", "message", "upgrade", "noop")

#: The layers whose records are packets on the wire: Engine.IO's and Socket.IO's, which
#: rides on it.
PACKET_LAYERS = frozenset({LAYER, "socketio"})


def counts_as_packet(record: Record) -> bool:
    """Whether the views that count packets (``ioproto stats``, the dashboard) count
    ``record``: a record of :data:`PACKET_LAYERS` other than a ``transport-close``, which
    says that a WebSocket closed and is no Engine.IO packet."""
    return record.layer in PACKET_LAYERS and record.type != "transport-close"


#: Why a session whose WebSocket closed ended (``SessionEnd.reason``, the summary's
#: ``end_reason``): see :class:`EngineIOTransportClose`.
TRANSPORT_CLOSED = "transport closed"

#: Why a session ended whose server said its client went silent (no pong, or no ping on
#: revision 3, within ``pingTimeout``): see :class:`EngineIOTransportClose`.
PING_TIMEOUT = "ping timeout"

#: How the ``message`` of a ``transport-close`` made of a server's own report begins (the
#: server's reason follows: ``the server reported: transport close``).
SERVER_REPORTED = "the server reported: "

#: How the ``message`` of a ``transport-close`` begins that the end of the input made of a
#: session whose client had gone silent for longer than its server waits (what follows
#: says for how long): the session ends with :data:`PING_TIMEOUT`.
CLIENT_SILENT = "the client went silent: "


def closed_words(transport: str | None) -> str:
    """How the views name a ``transport-close``: ``polling closed``, ``websocket closed``, or
    ``transport closed`` when the transport is not known (a tap that missed the handshake)."""
    if transport in ("polling", "websocket"):
        return f"{transport} closed"
    return "transport closed"


@attrs.frozen(slots=True, kw_only=True)
class EngineIOPacket(Packet):
    """One Engine.IO packet."""

    layer: str = LAYER
    binary: bool = False
    index: int = 0


@attrs.frozen(slots=True, kw_only=True)
class EngineIOHandshake(EngineIOPacket):
    """The ``open`` packet's handshake; ``sid`` (the common field) is the new session's id.

    ``data`` keeps the JSON text as sent. Fields the server did not send are ``None``.
    """

    type: str = "open"
    upgrades: tuple[str, ...] = ()
    ping_interval: int | None = None
    ping_timeout: int | None = None
    max_payload: int | None = None


@attrs.frozen(slots=True, kw_only=True)
class EngineIOHttpError(Packet):
    """An HTTP error answer on an Engine.IO request (status >= 400).

    ``code``/``message`` come from the body when it is Engine.IO's JSON error
    (``{"code":1,"message":"Session ID unknown"}``) or python-engineio's JSON string;
    ``data`` keeps the body text.
    """

    layer: str = LAYER
    type: str = "http-error"
    status: int = 0
    code: int | None = None
    message: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class EngineIOTransportClose(Packet):
    """The WebSocket that carried a session closed: the first close frame (either side's)
    on a WebSocket that was the session's transport, one it was opened on or upgraded to
    (the client's ``upgrade`` packet on it). As for Engine.IO's servers, the session ends
    with it (``end_reason`` ``"transport closed"``); a probe's WebSocket closing before an
    upgrade ends nothing (it stays a ``ws-close`` chunk).

    ``code`` and ``message`` are the close frame's status code and reason (``None`` when
    it has none; RFC 6455, 5.5.1); ``raw`` its payload; ``parent`` the ``ws-close`` chunk.

    Also made of a server's own report that it ended the session under its transport
    (``parent`` a ``reported-end``, from an in-process tap, which sees no close frame): the
    transport the session was on, ``code`` ``None``, ``message`` :data:`SERVER_REPORTED`
    and the server's reason (``the server reported: transport close``). When that reason is
    ``ping timeout`` the session ends with :data:`PING_TIMEOUT`, not
    :data:`TRANSPORT_CLOSED`: the transport closed because the client had gone silent.

    Also made at the end of the input for a session still open whose client had sent
    nothing for longer than its handshake's ``pingInterval`` plus ``pingTimeout`` (plus a
    second), the longest its server waits for a sign of life (a pong on revision 4, a ping
    on revision 3): ``ts`` the time that wait ran out, the connection and transport of the
    client's last packet, ``direction``, ``code`` and ``raw`` empty, ``message``
    :data:`CLIENT_SILENT` and how long the silence lasted. The server ended such a session
    (``ping timeout``) without a sign on the wire over polling, or before the capture saw
    its WebSocket close; the session ends with :data:`PING_TIMEOUT`.
    """

    layer: str = LAYER
    type: str = "transport-close"
    code: int | None = None
    message: str | None = None
