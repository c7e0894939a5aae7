"""What the browser exchanged, as the HAR writer needs it (besides the chunks).

The translator reports each finished HTTP exchange and each WebSocket's opening, messages
and end to an optional observer (the ``--har`` writer); these records carry the full URL,
both header lists and the raw bodies, which chunks do not all keep.
"""

from __future__ import annotations

import attrs

from .values import Headers


@attrs.frozen(slots=True, kw_only=True)
class HttpExchange:
    """One HTTP request and, unless it failed, its response. Times are epoch seconds;
    ``status`` is 0 and ``error`` says why when there was no response."""

    connection: str
    url: str
    method: str
    request_headers: Headers
    request_body: bytes | None
    started: float
    resource_type: str
    status: int = 0
    status_text: str = ""
    response_headers: Headers = ()
    mime_type: str = ""
    response_body: bytes | None = None
    finished: float | None = None
    socket_id: str = ""
    server_ip: str = ""
    protocol: str = ""
    error: str = ""


@attrs.frozen(slots=True, kw_only=True)
class WebSocketOpened:
    """A WebSocket's handshake (``status`` 101 when it opened)."""

    key: tuple[str, str]
    connection: str
    url: str
    request_headers: Headers
    started: float
    status: int
    status_text: str
    response_headers: Headers


@attrs.frozen(slots=True, kw_only=True)
class WebSocketMessage:
    """One message as CDP gave it: ``opcode`` 1 text, 2 binary (``data`` base64), else
    control; ``sent`` is true for the page's own."""

    key: tuple[str, str]
    sent: bool
    ts: float
    opcode: int
    data: str


@attrs.frozen(slots=True, kw_only=True)
class WebSocketEnded:
    """No more messages will come for WebSocket ``key``."""

    key: tuple[str, str]


Exchange = HttpExchange | WebSocketOpened | WebSocketMessage | WebSocketEnded
