"""``--har FILE``: what the ``cdp`` source captured, as a Chrome-format HAR 1.2.

Entries are written as they finish (an HTTP exchange when its body has been read, a
WebSocket when it closes or the capture ends), so memory stays flat: the messages of an open
WebSocket wait in a spooled temporary file (in memory up to 1 MiB, then on disk). The file
is written as ``FILE.partial`` and renamed to ``FILE`` when the capture ends.

Layout, as Chrome's DevTools exports it: ``log.entries[]`` with ``request`` (headers,
``queryString``, ``postData``), ``response`` (``content.text``, ``encoding: base64`` for a
body that is not UTF-8), ``startedDateTime``, ``time`` and ``timings`` (``wait`` holds the
time from the request to the end of its body), ``_resourceType``, ``_connectionId`` (the
browser's socket id) and, on WebSocket entries, ``_webSocketMessages`` (``type``
send/receive, ``time`` in epoch seconds, ``opcode``, ``data``: base64 for binary). Two
deliberate choices: ``connection`` is ioproto's connection name without its ``cdp:`` prefix
and server (``1A2B3C4D/1234.5``, so ``ioproto`` reading the HAR back names connections
``har:1A2B3C4D/1234.5-host:port``), and times keep microseconds, so that the HAR source
reads back the records the ``cdp`` source gave.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlsplit

import ioproto

from .exchanges import Exchange, HttpExchange, WebSocketEnded, WebSocketMessage, WebSocketOpened
from .values import Headers

_SPOOL_BYTES = 1 << 20


class _OpenSocket:
    def __init__(self, opened: WebSocketOpened) -> None:
        self.opened = opened
        self.messages: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=_SPOOL_BYTES, mode="w+", encoding="utf-8"
        )
        self.count = 0


class HarWriter:
    """Writes a HAR to ``path`` entry by entry; :meth:`close` finishes it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._partial = self.path.with_name(self.path.name + ".partial")
        self._out: IO[str] = open(self._partial, "w", encoding="utf-8")  # noqa: SIM115
        creator = {"name": "ioproto", "version": ioproto.__version__}
        head = {"version": "1.2", "creator": creator, "pages": []}
        self._out.write(json.dumps({"log": head})[:-2] + ', "entries": [\n')
        self._entries = 0
        self._sockets: dict[tuple[str, str], _OpenSocket] = {}
        self._closed = False

    def observe(self, item: Exchange) -> None:
        """Take one :mod:`.exchanges` record."""
        if self._closed:
            return
        if isinstance(item, HttpExchange):
            self._write(_http_entry(item))
        elif isinstance(item, WebSocketOpened):
            self._end_socket(item.key)
            self._sockets[item.key] = _OpenSocket(item)
        elif isinstance(item, WebSocketMessage):
            socket = self._sockets.get(item.key)
            if socket is not None:
                message = {
                    "type": "send" if item.sent else "receive",
                    "time": item.ts,
                    "opcode": item.opcode,
                    "data": item.data,
                }
                socket.messages.write(("," if socket.count else "") + json.dumps(message))
                socket.count += 1
        elif isinstance(item, WebSocketEnded):
            self._end_socket(item.key)

    def close(self) -> None:
        """Write the WebSockets still open and the end of the file; rename it into place."""
        if self._closed:
            return
        for key in list(self._sockets):
            self._end_socket(key)
        self._closed = True
        self._out.write("\n]}}\n")
        self._out.close()
        os.replace(self._partial, self.path)

    def _end_socket(self, key: tuple[str, str]) -> None:
        socket = self._sockets.pop(key, None)
        if socket is None:
            return
        entry = _websocket_entry(socket.opened)
        socket.messages.seek(0)
        text = json.dumps(entry)
        # Splice the spooled messages in without holding them all as objects.
        marker = '"_webSocketMessages": []'
        before, _, after = text.partition(marker)
        self._separator()
        self._out.write(before + '"_webSocketMessages": [')
        while block := socket.messages.read(1 << 16):
            self._out.write(block)
        self._out.write("]" + after)
        socket.messages.close()

    def _write(self, entry: dict[str, Any]) -> None:
        self._separator()
        self._out.write(json.dumps(entry, ensure_ascii=False))

    def _separator(self) -> None:
        if self._entries:
            self._out.write(",\n")
        self._entries += 1


def _http_entry(item: HttpExchange) -> dict[str, Any]:
    total = (item.finished - item.started) * 1000.0 if item.finished is not None else 0.0
    request: dict[str, Any] = {
        "method": item.method,
        "url": item.url,
        "httpVersion": _version(item.protocol),
        "headers": _pairs(item.request_headers),
        "queryString": _query(item.url),
        "cookies": [],
        "headersSize": -1,
        "bodySize": len(item.request_body or b""),
    }
    if item.request_body is not None and (item.request_body or item.method != "GET"):
        request["postData"] = {
            "mimeType": _header(item.request_headers, "content-type"),
            **_text(item.request_body),
        }
    content: dict[str, Any] = {"size": len(item.response_body or b""), "mimeType": item.mime_type}
    if item.response_body is not None:
        content.update(_text(item.response_body))
    return {
        "_connectionId": item.socket_id,
        "_resourceType": item.resource_type.lower(),
        "cache": {},
        "connection": _client_part(item.connection),
        "request": request,
        "response": {
            "status": item.status,
            "statusText": item.status_text,
            "httpVersion": _version(item.protocol),
            "headers": _pairs(item.response_headers),
            "cookies": [],
            "content": content,
            "redirectURL": _header(item.response_headers, "location"),
            "headersSize": -1,
            "bodySize": -1,
            "_transferSize": -1,
            "_error": item.error or None,
        },
        "serverIPAddress": item.server_ip,
        "startedDateTime": _iso(item.started),
        "time": total,
        "timings": _timings(total),
    }


def _websocket_entry(opened: WebSocketOpened) -> dict[str, Any]:
    return {
        "_resourceType": "websocket",
        "_webSocketMessages": [],
        "cache": {},
        "connection": _client_part(opened.connection),
        "request": {
            "method": "GET",
            "url": opened.url,
            "httpVersion": "HTTP/1.1",
            "headers": _pairs(opened.request_headers),
            "queryString": _query(opened.url),
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": opened.status,
            "statusText": opened.status_text,
            "httpVersion": "HTTP/1.1",
            "headers": _pairs(opened.response_headers),
            "cookies": [],
            "content": {"size": 0, "mimeType": "x-unknown"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 0,
            "_transferSize": 0,
            "_error": None,
        },
        "serverIPAddress": _host(opened.url),
        "startedDateTime": _iso(opened.started),
        "time": 0,
        "timings": _timings(0.0),
    }


def _text(body: bytes) -> dict[str, str]:
    """``text`` for a UTF-8 body, else base64 ``text`` with ``encoding``."""
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def _timings(total: float) -> dict[str, float]:
    return {
        "blocked": -1,
        "dns": -1,
        "ssl": -1,
        "connect": -1,
        "send": 0,
        "wait": total,
        "receive": 0,
    }


def _pairs(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in headers]


def _header(headers: Headers, name: str) -> str:
    return next((value for key, value in headers if key == name), "")


def _query(url: str) -> list[dict[str, str]]:
    try:
        query = urlsplit(url).query
    except ValueError:
        return []
    return [{"name": k, "value": v} for k, v in parse_qsl(query, keep_blank_values=True)]


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _client_part(connection: str) -> str:
    """``1A2B3C4D/1234.5`` of ``cdp:1A2B3C4D/1234.5-127.0.0.1:3000``."""
    return connection.removeprefix("cdp:").split("-", 1)[0]


def _version(protocol: str) -> str:
    return {"h2": "HTTP/2", "h3": "HTTP/3", "http/1.0": "HTTP/1.0"}.get(protocol, "HTTP/1.1")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
