"""Reaching a browser's DevTools endpoint: the ``cdp:`` input, and the WebSocket to it.

``cdp:HOST:PORT`` (or ``cdp:PORT`` on 127.0.0.1) names a Chrome/Chromium started with
``--remote-debugging-port=PORT``: its browser endpoint is read from
``http://HOST:PORT/json/version`` (``webSocketDebuggerUrl``). ``cdp:ws://…`` names the
endpoint itself (what Chromium prints as ``DevTools listening on ws://…``).

The WebSocket is the `websockets` library's synchronous client: the source calls
:meth:`DevToolsConnection.receive` with a short timeout between ticks, on the thread that
feeds the pipeline, so no event loop or extra thread of ours is involved.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

# websockets and urllib.request load when a connection is made, not with every ioproto
# command (the source is registered at start-up; they take about 20 ms to import).

PREFIX = "cdp:"
#: Longest DevTools message accepted (one WebSocket message of the page, base64 included,
#: or one response body): beyond it the connection would have to be dropped.
DEFAULT_MAX_MESSAGE = 256 * 1024 * 1024


class EndpointError(Exception):
    """The DevTools endpoint cannot be found or reached; the message says what to do."""


def parse_input(spec: str) -> tuple[str, int] | str:
    """``(host, port)`` of a ``cdp:HOST:PORT`` / ``cdp:PORT`` input, or the ``ws://`` URL
    of a ``cdp:ws://…`` one. Raises :class:`EndpointError` for anything else."""
    rest = spec.removeprefix(PREFIX).strip()
    if rest.startswith(("ws://", "wss://")):
        return rest
    host, sep, port_text = rest.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", rest
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise EndpointError(
            f"{spec!r} is not cdp:HOST:PORT, e.g. cdp:127.0.0.1:9222 for a browser started "
            "with --remote-debugging-port=9222"
        )
    return host, int(port_text)


def discover(host: str, port: int, timeout: float = 5.0) -> tuple[str, dict[str, Any]]:
    """The browser endpoint's ``ws://`` URL and the ``/json/version`` facts
    (``Browser``, ``User-Agent`` …) of the browser listening on ``host:port``."""
    import urllib.error
    import urllib.request

    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/json/version"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            facts = json.loads(answer.read(1 << 20))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, OSError) and reason.strerror:
            reason = reason.strerror  # "Connection refused", not "[Errno 111] Connection refused"
        raise EndpointError(
            f"no DevTools endpoint at {shown}:{port} ({reason}): start Chrome/Chromium with "
            f"--remote-debugging-port={port} (and a --user-data-dir of its own), or use "
            "`ioproto browse URL`"
        ) from None
    endpoint = facts.get("webSocketDebuggerUrl") if isinstance(facts, dict) else None
    if not isinstance(endpoint, str) or not endpoint.startswith(("ws://", "wss://")):
        raise EndpointError(f"{url} did not name a webSocketDebuggerUrl")
    return endpoint, facts


class DevToolsConnection:
    """A WebSocket to a browser's DevTools endpoint, JSON messages in and out."""

    def __init__(self, socket: ClientConnection) -> None:
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        self._socket = socket
        self._closed = ConnectionClosed
        self._closed_ok = ConnectionClosedOK

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, endpoint: str, *, max_message: int = DEFAULT_MAX_MESSAGE, timeout: float = 10.0
    ) -> Iterator[DevToolsConnection]:
        """Connect to ``endpoint`` (a ``ws://`` URL) for the ``with`` block;
        :class:`EndpointError` if it fails."""
        from websockets.exceptions import InvalidURI, WebSocketException
        from websockets.sync.client import connect

        try:
            client = connect(
                endpoint,
                max_size=max_message,
                open_timeout=timeout,
                compression=None,
                ping_interval=None,  # the browser does not answer pings promptly when busy
                close_timeout=2,
            )
        except (OSError, InvalidURI, WebSocketException, TimeoutError) as exc:
            # "Connection refused", not "[Errno 111] Connection refused".
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise EndpointError(
                f"cannot connect to {endpoint}: {reason}; start Chrome/Chromium with "
                "--remote-debugging-port=PORT and give cdp:HOST:PORT (its ws:// URL changes "
                "at each start), or use `ioproto browse URL`"
            ) from None
        with client as socket:
            yield cls(socket)

    def send(self, message: dict[str, Any]) -> None:
        """Send one command (dropped quietly if the connection has closed: the next
        :meth:`receive` reports the end)."""
        with contextlib.suppress(self._closed):
            self._socket.send(orjson.dumps(message).decode())

    def receive(self, timeout: float) -> object | None:
        """The next message, parsed (``None`` after ``timeout`` seconds without one).

        Raises :class:`ConnectionEnded` when the browser closed the connection. A message
        that is not JSON comes back as an :class:`InvalidMessage`.
        """
        try:
            raw = self._socket.recv(timeout=timeout)
        except TimeoutError:
            return None
        except self._closed as exc:
            clean = isinstance(exc, self._closed_ok)
            raise ConnectionEnded(clean=clean, detail=str(exc)) from None
        try:
            parsed: object = orjson.loads(raw)
            return parsed
        except orjson.JSONDecodeError as exc:
            return InvalidMessage(f"a message that is not JSON: {exc}")


class ConnectionEnded(Exception):
    """The DevTools connection ended: ``clean`` when the browser closed it properly."""

    def __init__(self, *, clean: bool, detail: str) -> None:
        super().__init__(detail)
        self.clean = clean
        self.detail = detail


class InvalidMessage:
    """A message that could not be parsed; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
