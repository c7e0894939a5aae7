"""Hooks into a python-engineio server (``engineio.Server`` / ``engineio.AsyncServer``).

python-engineio has no per-packet events, so the tap wraps the places where packets meet a
transport, on *this server instance only* (no class is patched; other servers in the process
are untouched). Tested with python-engineio 4.9-4.15 and python-socketio 5.11-5.18.

============================== ===============================================================
wrapped                        why
============================== ===============================================================
``server._trigger_event``      ``connect`` gives the new session's id and the WSGI environ of
                               its handshake request (recorded as ``open`` once the app
                               accepted it) and is where the session's socket gets its
                               wrappers; ``disconnect`` gives ``close`` with its reason
                               (4.11 and later pass one: ``transport close``, ``ping
                               timeout``, ...; the collector ends the session by it).
``server._async["websocket"]`` (a per-server copy of the driver table) wraps the WebSocket
                               object handed to the socket's handler: every message it
                               ``send``\\ s and every message ``wait`` returns is one packet,
                               including the upgrade's ``2probe``/``3probe``/``5``.
``socket.poll`` (once)         the handshake's polling response (``_handle_connect`` polls
                               the socket directly); restored after the first call.
``socket.handle_get_request``  the packets of each polling response; an upgrade request is
                               recorded as ``upgrade`` with its own environ.
``socket.handle_post_request`` given a copy of the environ whose ``wsgi.input`` records the
                               body as it is read: the packets are recorded in wire order
                               before the server dispatches them.
============================== ===============================================================

Every wrapper calls the original exactly as before and records around it; recording never
raises into the server (a failure is counted in :attr:`EngineIOHooks.failures`).
:meth:`EngineIOHooks.remove` undoes all of it.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from .buffer import RecordBuffer

Request = dict[str, Any]


class Recorder:
    """Puts records into the buffer; every method is safe to call from any thread."""

    def __init__(self, buffer: RecordBuffer) -> None:
        self.buffer = buffer
        self.failures = 0

    def packet(self, sid: str, direction: str, transport: str, packet: str | bytes) -> None:
        self.buffer.put(("p", time.time(), sid, direction, transport, packet), len(packet))

    def open(
        self, sid: str, transport: str, revision: int | None, request: Request, rts: float
    ) -> None:
        item = ("open", time.time(), sid, transport, revision, request, rts)
        self.buffer.put(item, _request_size(request))

    def upgrade(self, sid: str, transport: str, request: Request) -> None:
        self.buffer.put(("upgrade", time.time(), sid, transport, request), _request_size(request))

    def close(self, sid: str, reason: str | None) -> None:
        self.buffer.put(("close", time.time(), sid, reason), 0)


def _request_size(request: Request) -> int:
    return len(request.get("u", "")) + sum(len(k) + len(v) for k, v in request.get("h", ()))


# -- facts from a WSGI environ --------------------------------------------------------------------


def request_facts(environ: dict[str, Any]) -> Request:
    """The ``req`` of a tap record from a WSGI environ (as python-engineio builds it)."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not target:
        target = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append([key[5:].replace("_", "-").lower(), str(value)])
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append([key.replace("_", "-").lower(), str(value)])
    request: Request = {"m": environ.get("REQUEST_METHOD", "GET"), "u": target, "h": headers}
    client, server = _endpoints(environ)
    if client:
        request["ra"] = client
    if server:
        request["la"] = server
    return request


def _hostport(address: Any) -> str | None:
    if isinstance(address, tuple | list) and len(address) >= 2:
        host, port = address[0], address[1]
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return None


def _endpoints(environ: dict[str, Any]) -> tuple[str | None, str | None]:
    """The client's and the server's ``ip:port``, where the environ really knows them."""
    request = environ.get("aiohttp.request")
    if request is not None:  # aiohttp's environ has placeholders; its transport knows
        transport = getattr(request, "transport", None)
        if transport is not None:
            return (
                _hostport(transport.get_extra_info("peername")),
                _hostport(transport.get_extra_info("sockname")),
            )
    scope = environ.get("asgi.scope")
    if isinstance(scope, dict):  # so has ASGI's; its scope knows
        return _hostport(scope.get("client")), _hostport(scope.get("server"))
    port = environ.get("REMOTE_PORT")
    client = None
    if environ.get("REMOTE_ADDR") and port and port != "0":
        client = _hostport((environ["REMOTE_ADDR"], port))
    server = None
    if environ.get("SERVER_PORT") and environ.get("SERVER_PORT") != "0":
        server = _hostport((environ.get("SERVER_NAME", ""), environ["SERVER_PORT"]))
    return client, server


def _query(environ: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(environ.get("QUERY_STRING", ""))


def _wants_websocket(environ: dict[str, Any]) -> bool:
    connection = [s.strip() for s in environ.get("HTTP_CONNECTION", "").lower().split(",")]
    return "upgrade" in connection and environ.get("HTTP_UPGRADE", "").lower() == "websocket"


def packet_form(packet: Any) -> str | bytes:
    """A python-engineio ``Packet`` as the tap stream carries it.

    Text packets through ``encode(b64=True)``, which the server calls for them too (its
    result is cached on the packet, so both get the same string at no extra cost); binary
    data as it is (``encode()`` would cache a form the server may not want).
    """
    if packet.binary:
        return bytes(packet.data)
    encoded: str = packet.encode(b64=True)
    return encoded


def body_packets(body: bytes) -> list[str | bytes]:
    """The packets of a polling request body, as sent (v4 framing; JSONP form too)."""
    text = body.decode("utf-8", "replace")
    if text.startswith("d="):
        text = parse_qs(text).get("d", [""])[0]
    out: list[str | bytes] = []
    for item in text.split("\x1e") if text else ():
        if item.startswith("b"):
            try:
                out.append(base64.b64decode(item[1:], validate=True))
                continue
            except (binascii.Error, ValueError):
                pass
        out.append(item)
    return out


# -- recording WebSocket and request bodies -----------------------------------------------------


class _TapWebSocket:
    """Stands for the driver's WebSocket object; records what passes ``send`` and ``wait``."""

    def __init__(self, ws: Any, sid: str, recorder: Recorder) -> None:
        self._ws = ws
        self._sid = sid
        self._recorder = recorder

    def send(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        self._record("s2c", data)
        return self._ws.send(data, *args, **kwargs)

    def wait(self, *args: Any, **kwargs: Any) -> Any:
        data = self._ws.wait(*args, **kwargs)
        self._record("c2s", data)
        return data

    def _record(self, direction: str, data: Any) -> None:
        try:
            if isinstance(data, str):
                self._recorder.packet(self._sid, direction, "websocket", data)
            elif isinstance(data, bytes | bytearray | memoryview):
                self._recorder.packet(self._sid, direction, "websocket", bytes(data))
        except Exception:
            self._recorder.failures += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)


class _AsyncTapWebSocket(_TapWebSocket):
    async def send(self, data: Any, *args: Any, **kwargs: Any) -> Any:
        self._record("s2c", data)
        return await self._ws.send(data, *args, **kwargs)

    async def wait(self, *args: Any, **kwargs: Any) -> Any:
        data = await self._ws.wait(*args, **kwargs)
        self._record("c2s", data)
        return data


class _RecordingInput:
    """Stands for ``wsgi.input``: hands what is read to ``seen`` first."""

    def __init__(self, stream: Any, seen: Callable[[bytes], None]) -> None:
        self._stream = stream
        self._seen = seen

    def read(self, *args: Any) -> Any:
        data = self._stream.read(*args)
        self._seen(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _AsyncRecordingInput(_RecordingInput):
    async def read(self, *args: Any) -> Any:  # type: ignore[override]
        data = await self._stream.read(*args)
        self._seen(data)
        return data


# -- the hooks -----------------------------------------------------------------------------------


class EngineIOHooks:
    """The wrappers on one python-engineio server; see the module docstring."""

    def __init__(self, server: Any, recorder: Recorder) -> None:
        self.server = server
        self.recorder = recorder
        self.is_async = bool(server.is_asyncio_based())
        self._saved_trigger: Any = None
        self._saved_async: Any = None
        self._installed = False

    @property
    def failures(self) -> int:
        return self.recorder.failures

    def install(self) -> None:
        if self._installed:
            return
        server = self.server
        if getattr(server, "_ioproto_tap", None) is not None:
            raise RuntimeError("this server is instrumented already")
        self._saved_trigger = server.__dict__.get("_trigger_event")
        original = server._trigger_event
        server._trigger_event = (
            self._async_trigger(original) if self.is_async else self._sync_trigger(original)
        )
        drivers = server._async
        if drivers is not None and drivers.get("websocket") is not None:
            self._saved_async = drivers
            server._async = dict(drivers, websocket=self._websocket_factory(drivers["websocket"]))
        server._ioproto_tap = self
        self._installed = True

    def remove(self) -> None:
        """Undo :meth:`install` (sessions already wrapped keep recording until they end)."""
        if not self._installed:
            return
        server = self.server
        if self._saved_trigger is None:
            server.__dict__.pop("_trigger_event", None)
        else:
            server._trigger_event = self._saved_trigger
        if self._saved_async is not None:
            server._async = self._saved_async
        server._ioproto_tap = None
        self._installed = False

    # -- session start and end -----------------------------------------------------------------

    def _sync_trigger(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def trigger(event: str, *args: Any, **kwargs: Any) -> Any:
            rts = time.time()
            result = original(event, *args, **kwargs)
            self._after_event(event, args, result, rts)
            return result

        return trigger

    def _async_trigger(self, original: Callable[..., Any]) -> Callable[..., Any]:
        async def trigger(event: str, *args: Any, **kwargs: Any) -> Any:
            rts = time.time()
            result = await original(event, *args, **kwargs)
            self._after_event(event, args, result, rts)
            return result

        return trigger

    def _after_event(self, event: str, args: tuple[Any, ...], result: Any, rts: float) -> None:
        try:
            if event == "connect" and (result is None or result is True):
                self._connected(args[0], args[1], rts)
            elif event == "disconnect":
                reason = args[1] if len(args) > 1 else None
                self.recorder.close(args[0], None if reason is None else str(reason))
        except Exception:
            self.recorder.failures += 1

    def _connected(self, sid: str, environ: dict[str, Any], rts: float) -> None:
        socket = self.server.sockets.get(sid)
        transport = _query(environ).get("transport", ["polling"])[0]
        revision = _query(environ).get("EIO", [""])[0]
        self.recorder.open(
            sid,
            transport,
            int(revision) if revision.isdigit() and len(revision) < 3 else None,
            request_facts(environ),
            rts,
        )
        if socket is not None:
            self._wrap_socket(socket, transport)

    # -- per session ---------------------------------------------------------------------------

    def _wrap_socket(self, socket: Any, transport: str) -> None:
        recorder = self.recorder
        sid = socket.sid

        def record_polling(direction: str, packets: list[str | bytes]) -> None:
            try:
                for packet in packets:
                    recorder.packet(sid, direction, "polling", packet)
            except Exception:
                recorder.failures += 1

        def sent(packets: Any) -> None:
            if isinstance(packets, list):
                try:
                    forms = [packet_form(packet) for packet in packets]
                except Exception:
                    recorder.failures += 1
                    return
                record_polling("s2c", forms)

        def received(body: Any) -> None:
            if isinstance(body, bytes | bytearray):
                try:
                    forms = body_packets(bytes(body))
                except Exception:
                    recorder.failures += 1
                    return
                record_polling("c2s", forms)

        def upgrading(environ: dict[str, Any]) -> None:
            if socket.connected and _wants_websocket(environ):
                try:
                    recorder.upgrade(sid, "websocket", request_facts(environ))
                except Exception:
                    recorder.failures += 1

        poll = socket.poll
        get_request = socket.handle_get_request
        post_request = socket.handle_post_request
        input_class = _AsyncRecordingInput if self.is_async else _RecordingInput

        def post_environ(environ: dict[str, Any]) -> dict[str, Any]:
            copy = dict(environ)
            copy["wsgi.input"] = input_class(environ["wsgi.input"], received)
            return copy

        poll_once: Callable[[], Any]
        handle_get_request: Callable[..., Any]
        handle_post_request: Callable[[dict[str, Any]], Any]
        if self.is_async:

            async def async_poll_once() -> Any:
                del socket.poll  # the class's poll again, from now on
                packets = await poll()
                sent(packets)
                return packets

            async def async_get(*args: Any, **kwargs: Any) -> Any:
                upgrading(args[0] if args else kwargs.get("environ", {}))
                packets = await get_request(*args, **kwargs)
                sent(packets)
                return packets

            async def async_post(environ: dict[str, Any]) -> Any:
                return await post_request(post_environ(environ))

            poll_once, handle_get_request, handle_post_request = (
                async_poll_once,
                async_get,
                async_post,
            )
        else:

            def sync_poll_once() -> Any:
                del socket.poll
                packets = poll()
                sent(packets)
                return packets

            def sync_get(*args: Any, **kwargs: Any) -> Any:
                upgrading(args[0] if args else kwargs.get("environ", {}))
                packets = get_request(*args, **kwargs)
                sent(packets)
                return packets

            def sync_post(environ: dict[str, Any]) -> Any:
                return post_request(post_environ(environ))

            poll_once, handle_get_request, handle_post_request = sync_poll_once, sync_get, sync_post

        if transport == "polling":
            socket.poll = poll_once
        socket.handle_get_request = handle_get_request
        socket.handle_post_request = handle_post_request

    def _websocket_factory(self, factory: Callable[..., Any]) -> Callable[..., Any]:
        recorder = self.recorder
        wrapper = _AsyncTapWebSocket if self.is_async else _TapWebSocket

        def tapped_factory(handler: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            sid = getattr(getattr(handler, "__self__", None), "sid", None)
            if sid is None:
                return factory(handler, *args, **kwargs)

            def tapped_handler(ws: Any, *more: Any, **named: Any) -> Any:
                return handler(wrapper(ws, sid, recorder), *more, **named)

            return factory(tapped_handler, *args, **kwargs)

        return tapped_factory
