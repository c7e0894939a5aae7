"""Engine.IO wire formats, declared once with construct (parse and build). No state, no I/O.

Every declaration parses bytes into a :class:`construct.Container` and builds the same shape
back into bytes. A single packet is ``Container(type=<name>, data=<str | bytes>)``: ``data``
is ``bytes`` for a binary message (whichever wire form carried it), ``str`` otherwise.
A payload is a list of such packets.

=========================  ==============================================================
declaration                format
=========================  ==============================================================
``text_packet``            ``<type digit><utf-8 data>`` (every revision)
``base64_packet_v4``       ``b<base64>``, a binary message (v4)
``base64_packet_v3``       ``b<type digit><base64>`` (v3)
``packet_v4``              text form of any v4 packet: ``b`` means base64, else a digit
``packet_v3``              text form of any v2/v3 packet
``binary_message_v4``      a WebSocket binary message, v4: the bytes are the message
``binary_message_v3``      a WebSocket binary message, v3: type byte (0-6, not ASCII) + data
``payload_v4``             v4 polling payload: ``packet_v4`` joined by ``\\x1e``
``payload_v3_text``        v2/v3 polling payload ``<len>:<packet>``…, len in UTF-16 units
``payload_v3_binary``      v3 XHR2 payload: ``<00|01><digit bytes><FF><packet bytes>``…
``jsonp_response``         ``___eio[<N>]("<JS string literal>");``; ``payload`` is the text
``jsonp_post``             form body ``d=<urlencoded text>`` with the client's ``\\n`` escapes
=========================  ==============================================================

Construct pitfalls this module avoids on purpose: ``Select`` is never used for dispatch (it
builds with the first alternative that does not raise), packet types use ``Mapping`` (an
unknown digit raises instead of parsing as an unknown enum value), and every Adapter turns
its own failures (bad base64, bad UTF-8, bad JSON) into :class:`construct.ValidationError`,
so callers only catch :class:`construct.ConstructError`; a single packet's refusal is a
:class:`WireError` naming the error rule. :func:`fast_packet` is the one fast path of
``packet_v4``/``packet_v3``, for the common forms; it must agree with the declarations
(``tests/engineio/test_eio_wire.py`` checks it), which decide everything else.
"""

from __future__ import annotations

import binascii
import io
import json
import re
import urllib.parse
from typing import Any

from construct import (
    Adapter,
    Byte,
    Computed,
    Const,
    Construct,
    Container,
    FocusedSeq,
    GreedyBytes,
    GreedyRange,
    ListContainer,
    Mapping,
    Prefixed,
    Struct,
    Subconstruct,
    Switch,
    Terminated,
    ValidationError,
    this,
)
from construct.core import stream_read, stream_read_entire, stream_seek, stream_tell, stream_write

from .fastwire import (
    MAX_XHR2_DIGITS,
    PACKET_TYPES,
    SEPARATOR,
    b64decode,
    b64encode,
    js_string_literal,
    jsonp_escape_newlines,
    jsonp_unescape_newlines,
    utf16_end,
    utf16_length,
)
from .fastwire import astral_positions as astral_positions
from .fastwire import fast_packet as fast_packet

# -- primitive constructs -----------------------------------------------------------------------


class WireError(ValidationError):  # type: ignore[misc]
    """A refusal of the declarations that names its error ``rule`` (``engineio.*``)."""

    def __init__(self, rule: str, reason: str, path: str | None = None) -> None:
        super().__init__(reason, path=path)
        self.rule = rule
        self.reason = reason


class Utf8(Adapter):  # type: ignore[misc]
    """Strict UTF-8 text over the given bytes construct (lone surrogates pass through), the
    data of a packet after its type byte."""

    def _decode(self, obj: bytes, context: Any, path: str) -> str:
        try:
            return obj.decode("utf-8")
        except UnicodeDecodeError as exc:
            reason = f"packet is not UTF-8: {exc.reason} at byte {exc.start + 1}"
            raise WireError("engineio.packet.bad-utf8", reason, path=path) from exc

    def _encode(self, obj: str, context: Any, path: str) -> bytes:
        return obj.encode("utf-8", "surrogatepass")


class Base64(Adapter):  # type: ignore[misc]
    """Base64 text over the given bytes construct, decoding to the raw bytes."""

    def _decode(self, obj: bytes, context: Any, path: str) -> bytes:
        try:
            return b64decode(obj)
        except (binascii.Error, ValueError) as exc:
            raise WireError("engineio.base64.invalid", f"bad base64: {exc}", path=path) from exc

    def _encode(self, obj: bytes, context: Any, path: str) -> bytes:
        return b64encode(bytes(obj))


class TypeDigit(Construct):  # type: ignore[misc]
    """A packet type as its ASCII digit ``0``-``6``; anything else is refused with ``rule``."""

    def __init__(self, rule: str, reason: str | None = None) -> None:
        super().__init__()
        self.rule = rule
        self.reason = reason

    def _parse(self, stream: Any, context: Any, path: str) -> str:
        first = stream.read(1)
        if first and 0x30 <= first[0] <= 0x36:
            return PACKET_TYPES[first[0] - 0x30]
        if self.reason is not None:
            reason = self.reason
        elif not first:
            raise WireError("engineio.packet.empty", "empty packet", path=path)
        elif first[0] < 0x80:
            reason = f"packet type {chr(first[0])!r} is not b or a digit 0-6"
        else:
            reason = f"packet starts with byte {first[0]:#04x}, not a type digit"
        raise WireError(self.rule, reason, path=path)

    def _build(self, obj: str, stream: Any, context: Any, path: str) -> str:
        if obj not in PACKET_TYPES:
            raise ValidationError(f"unknown packet type {obj!r}", path=path)
        stream_write(stream, bytes([0x30 + PACKET_TYPES.index(obj)]), 1, path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        return 1


class FirstByteDispatch(Construct):  # type: ignore[misc]
    """Parse with ``marked`` when the next byte is ``marker``, else with ``unmarked``.

    Builds with ``marked`` when the object's ``data`` is ``bytes`` (a binary packet), else
    with ``unmarked``. This replaces ``Select``, which would build text packets as base64.
    """

    def __init__(self, marker: bytes, marked: Construct, unmarked: Construct) -> None:
        super().__init__()
        self.marker = marker
        self.marked = marked
        self.unmarked = unmarked

    def _parse(self, stream: Any, context: Any, path: str) -> Any:
        position = stream_tell(stream, path)
        first = stream.read(1)
        stream_seek(stream, position, 0, path)
        chosen = self.marked if first == self.marker else self.unmarked
        return chosen._parsereport(stream, context, path)

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        chosen = self.marked if isinstance(obj["data"], bytes | bytearray) else self.unmarked
        return chosen._build(obj, stream, context, path)

    def _sizeof(self, context: Any, path: str) -> int:
        raise NotImplementedError


class XHR2Length(Construct):  # type: ignore[misc]
    """An XHR2 record length: decimal digits as bytes 0x00-0x09, then 0xFF."""

    def _parse(self, stream: Any, context: Any, path: str) -> int:
        digits = bytearray()
        while True:
            byte = stream_read(stream, 1, path)[0]
            if byte == 0xFF:
                break
            if byte > 9:
                raise ValidationError(f"XHR2 length digit {byte:#04x} is not 0-9", path=path)
            if len(digits) >= MAX_XHR2_DIGITS:
                raise ValidationError("XHR2 length has too many digits", path=path)
            digits.append(byte)
        if not digits:
            raise ValidationError("XHR2 length has no digits", path=path)
        return int("".join(str(digit) for digit in digits))

    def _build(self, obj: int, stream: Any, context: Any, path: str) -> int:
        encoded = bytes(int(c) for c in str(obj)) + b"\xff"
        stream_write(stream, encoded, len(encoded), path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise NotImplementedError


class Separated(Subconstruct):  # type: ignore[misc]
    """Records of ``subcon`` joined by ``separator`` over the whole rest of the stream.

    An empty piece (two separators in a row, a separator at either end, or no input at all)
    is invalid, as in engine.io-parser 5.
    """

    def __init__(self, subcon: Construct, separator: bytes) -> None:
        super().__init__(subcon)
        self.separator = separator

    def _parse(self, stream: Any, context: Any, path: str) -> ListContainer:
        data = stream_read_entire(stream, path)
        items = ListContainer()
        for piece in data.split(self.separator):
            if not piece:
                raise ValidationError("empty packet in payload", path=path)
            items.append(self.subcon._parsereport(io.BytesIO(piece), context, path))
        return items

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        if not obj:
            raise ValidationError("a payload holds at least one packet", path=path)
        pieces = []
        for item in obj:
            piece = self.subcon.build(item)
            if self.separator in piece:
                raise ValidationError("packet contains the payload separator", path=path)
            pieces.append(piece)
        joined = self.separator.join(pieces)
        stream_write(stream, joined, len(joined), path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise NotImplementedError


class Utf16Framed(Subconstruct):  # type: ignore[misc]
    """The v2/v3 text payload: ``<len>:<packet>`` records, ``len`` in UTF-16 code units.

    The body is UTF-8 text. Lengths count JavaScript string units (a code point above
    U+FFFF counts 2), never bytes. Zero-length records are skipped; an empty payload is
    built as ``0:``. Anything else that does not frame exactly is invalid (engine.io-parser
    2.x drops such a payload whole).
    """

    _LENGTH = re.compile("([0-9]+):")

    def _parse(self, stream: Any, context: Any, path: str) -> ListContainer:
        data = stream_read_entire(stream, path)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(f"invalid UTF-8: {exc.reason}", path=path) from exc
        if not text:
            raise ValidationError("empty payload", path=path)
        items = ListContainer()
        astral = astral_positions(text)
        position = 0
        while position < len(text):
            match = self._LENGTH.match(text, position)
            if match is None:
                raise ValidationError(f"no <length>: at {position}", path=path)
            start = match.end()
            end = utf16_end(text, start, int(match.group(1)), astral)
            if end < 0:
                raise ValidationError(f"length runs past the end at {position}", path=path)
            if end > start:
                packet = text[start:end].encode("utf-8", "surrogatepass")
                items.append(self.subcon._parsereport(io.BytesIO(packet), context, path))
            position = end
        return items

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        if not obj:
            stream_write(stream, b"0:", 2, path)
            return obj
        for item in obj:
            packet = self.subcon.build(item)
            units = utf16_length(packet.decode("utf-8", "surrogatepass"))
            header = b"%d:" % units
            stream_write(stream, header + packet, len(header) + len(packet), path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise NotImplementedError


class JsonpResponse(Adapter):  # type: ignore[misc]
    """``___eio[N]("...");`` → ``Container(index=N, payload=<text>)`` (JSON string rules)."""

    _WRAPPER = re.compile(rb'___eio\[([0-9]{1,20})\]\(("(?s:.*)")\);?', re.DOTALL)

    def _decode(self, obj: bytes, context: Any, path: str) -> Container:
        match = self._WRAPPER.fullmatch(obj)
        if match is None:
            raise ValidationError('not a ___eio[N]("..."); JSONP wrapper', path=path)
        try:
            payload = json.loads(match.group(2).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValidationError(f"bad JSONP string literal: {exc}", path=path) from exc
        if not isinstance(payload, str):
            raise ValidationError("JSONP argument is not a string", path=path)
        return Container(index=int(match.group(1)), payload=payload)

    def _encode(self, obj: Any, context: Any, path: str) -> bytes:
        literal = js_string_literal(obj["payload"])
        return f"___eio[{int(obj['index'])}]({literal});".encode("utf-8", "surrogatepass")


class JsonpPost(Adapter):  # type: ignore[misc]
    """The JSONP client's form POST ``d=<urlencoded>`` → the payload text, unescaped."""

    def _decode(self, obj: bytes, context: Any, path: str) -> str:
        try:
            fields = urllib.parse.parse_qsl(
                obj.decode("ascii"),
                keep_blank_values=True,
                strict_parsing=False,
                encoding="utf-8",
                errors="strict",
                max_num_fields=64,
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValidationError(f"bad form body: {exc}", path=path) from exc
        for name, value in fields:
            if name == "d":
                return jsonp_unescape_newlines(value)
        raise ValidationError("form body has no d= field", path=path)

    def _encode(self, obj: str, context: Any, path: str) -> bytes:
        escaped = jsonp_escape_newlines(obj)
        return urllib.parse.urlencode({"d": escaped}).encode("ascii")


# -- the declarations -----------------------------------------------------------------------------

packet_type = TypeDigit("engineio.packet.bad-type")
"""A packet type as its ASCII digit ``0``-``6``."""

binary_type = Mapping(Byte, {name: number for number, name in enumerate(PACKET_TYPES)})
"""A packet type as the byte value 0-6 (v3 binary messages)."""

text_packet = Struct("type" / packet_type, "data" / Utf8(GreedyBytes))
base64_packet_v4 = Struct(Const(b"b"), "type" / Computed("message"), "data" / Base64(GreedyBytes))
base64_type_v3 = TypeDigit(
    "engineio.base64.bad-type", "v3 base64 packet must be b<type digit><base64>"
)
base64_packet_v3 = Struct(Const(b"b"), "type" / base64_type_v3, "data" / Base64(GreedyBytes))

packet_v4 = FirstByteDispatch(b"b", base64_packet_v4, text_packet)
packet_v3 = FirstByteDispatch(b"b", base64_packet_v3, text_packet)

binary_message_v4 = Struct("type" / Computed("message"), "data" / GreedyBytes)
binary_message_v3 = Struct("type" / binary_type, "data" / GreedyBytes)

payload_v4 = Separated(packet_v4, SEPARATOR)
payload_v3_text = Utf16Framed(packet_v3)

xhr2_record = Struct(
    "kind" / Mapping(Byte, {"string": 0, "binary": 1}),
    "packet"
    / Prefixed(
        XHR2Length(),
        Switch(this.kind, {"string": packet_v3, "binary": binary_message_v3}),
    ),
)
"""One XHR2 record. ``kind`` must agree with the packet: ``string`` for text packets."""

payload_v3_binary = FocusedSeq("records", "records" / GreedyRange(xhr2_record), Terminated)
"""A v3 XHR2 payload: a list of ``xhr2_record`` containers (``kind`` + ``packet``)."""

jsonp_response = JsonpResponse(GreedyBytes)
jsonp_post = JsonpPost(GreedyBytes)


def xhr2_records(packets: list[Any]) -> list[Container]:
    """Wrap packets as XHR2 records (binary data → ``binary`` kind), for building."""
    return [
        Container(
            kind="binary" if isinstance(packet["data"], bytes | bytearray) else "string",
            packet=packet,
        )
        for packet in packets
    ]
