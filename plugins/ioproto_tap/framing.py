"""One Engine.IO packet in the form its transport carries it, as the protocol says.

A tap reports packets one by one (a text packet as its string form, a binary message as its
data); the HTTP and WebSocket layers of a capture would have produced WebSocket messages and
polling bodies. These functions give the bytes those layers would have held for a packet sent
alone, so that the Engine.IO layer decodes a tap's packet exactly as a captured one:

* WebSocket: the text packet; binary data as it is (revision 4) or after a ``0x04`` type
  byte (revisions 2-3).
* Polling, revision 4: the text packet; binary as ``b<base64>``.
* Polling, revisions 2-3: ``<length>:<packet>`` with the length in UTF-16 units; binary as an
  XHR2 binary payload (``0x01``, the length's digits as bytes, ``0xff``, ``0x04``, data), or
  as ``<length>:b4<base64>`` when the client asked for base64 (``b64`` query parameter).
* JSONP polling (``j`` query parameter): a response is ``___eio[j]("<payload>");`` with the
  payload as a JavaScript string, a request the form body ``d=<payload>``.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

_BINARY_MESSAGE = 4


def utf16_length(text: str) -> int:
    """The length of ``text`` in UTF-16 code units (JavaScript's ``string.length``)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def websocket_message(packet: str | bytes, revision: int) -> bytes:
    """The WebSocket message holding ``packet`` (text as UTF-8)."""
    if isinstance(packet, str):
        return packet.encode("utf-8", "surrogatepass")
    if revision < 4:
        return bytes((_BINARY_MESSAGE,)) + packet
    return packet


def polling_body(packet: str | bytes, revision: int, *, b64: bool, jsonp: str | None) -> bytes:
    """The polling body of a payload holding just ``packet``.

    ``jsonp`` is the ``j`` query parameter when the session uses JSONP, and then the body is
    a response's script (as JS engine.io writes it); :func:`jsonp_request_body` gives the
    request side.
    """
    text = _payload_text(packet, revision, b64=b64 or jsonp is not None)
    if text is None:
        assert isinstance(packet, bytes)
        digits = bytes(int(digit) for digit in str(len(packet) + 1))
        return b"\x01" + digits + b"\xff" + bytes((_BINARY_MESSAGE,)) + packet
    if jsonp is not None:
        # What JS engine.io writes: JSON.stringify, with U+2028/U+2029 escaped for old parsers.
        literal = json.dumps(text, ensure_ascii=False)
        literal = literal.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        return f"___eio[{jsonp}]({literal});".encode("utf-8", "surrogatepass")
    return text.encode("utf-8", "surrogatepass")


def jsonp_request_body(packet: str | bytes, revision: int) -> bytes:
    """The form body ``d=<payload>`` of a JSONP polling request holding just ``packet``."""
    text = _payload_text(packet, revision, b64=True)
    assert text is not None
    # engine.io-client escapes newlines before it form-encodes the payload.
    escaped = text.replace("\\n", "\\\n").replace("\n", "\\n")
    return urlencode({"d": escaped}).encode("ascii")


def _payload_text(packet: str | bytes, revision: int, *, b64: bool) -> str | None:
    """The text payload of ``packet``, or ``None`` when it travels as an XHR2 binary payload."""
    if isinstance(packet, bytes):
        encoded = base64.b64encode(packet).decode("ascii")
        if revision >= 4:
            return "b" + encoded
        if not b64:
            return None
        packet = f"b{_BINARY_MESSAGE}{encoded}"
    if revision >= 4:
        return packet
    return f"{utf16_length(packet)}:{packet}"
