"""The Socket.IO text packet, declared with construct (no state, no I/O).

A text packet (protocols.md §2.2) is::

    <type digit>[<attachments>"-"][<nsp>","][<ack id>][<JSON payload>]

:data:`TEXT_PACKET` declares that structure; it parses the UTF-8 bytes of one Engine.IO
``message`` and builds them back. The JSON payload is kept as bytes here: JSON is the job of
:mod:`ioproto_socketio.payload`.

:func:`parse_fast` (in :mod:`.fastwire`, re-exported here) is a plain-Python (regular
expression) parse of the well-formed shapes that make up nearly all traffic; it returns
``None`` for anything else, which then goes through :func:`parse_slow` (the construct
declaration). A parity test checks that both agree wherever the fast path answers.

Both return a :data:`Header` tuple ``(type, count, nsp, terminated, id, payload)``:

* ``type``: the type digit as an int (0-6);
* ``count``: the attachment-count digits (types 5/6 only), else ``None``;
* ``nsp``: the namespace text as written (may include ``?query``), or ``None`` when absent;
* ``terminated``: whether the namespace ended with ``,`` (false when absent);
* ``id``: the ack-id digits, ``""`` when absent;
* ``payload``: the rest of the packet (JSON text), ``""`` when absent.
"""

from __future__ import annotations

from typing import Any

from construct import (
    Byte,
    Const,
    Construct,
    Container,
    GreedyBytes,
    If,
    Mapping,
    Struct,
    ValidationError,
    stream_seek,
    stream_tell,
)

from ioproto.constructs import parse

from .fastwire import ACK as ACK
from .fastwire import BINARY_ACK, BINARY_EVENT, Header
from .fastwire import CONNECT as CONNECT
from .fastwire import DISCONNECT as DISCONNECT
from .fastwire import ERROR as ERROR
from .fastwire import EVENT as EVENT
from .fastwire import FAST_MATCH as FAST_MATCH
from .fastwire import parse_fast as parse_fast

_DIGITS = b"0123456789"


class DigitRun(Construct):  # type: ignore[misc]
    """A run of ASCII digits, parsed as ``str``; ``min_length`` digits are required.

    Reads as many digits as there are (a following non-digit is left in the stream). Building
    writes the string, which must consist of digits only.
    """

    def __init__(self, min_length: int = 0) -> None:
        super().__init__()
        self.min_length = min_length

    def _parse(self, stream: Any, context: Any, path: str) -> str:
        start = stream_tell(stream, path)
        rest = stream.read()
        length = 0
        for byte in rest:
            if byte not in _DIGITS:
                break
            length += 1
        stream_seek(stream, start + length, 0, path)
        if length < self.min_length:
            raise ValidationError(f"expected at least {self.min_length} digit(s)", path=path)
        digits: str = rest[:length].decode("ascii")
        return digits

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> str:
        text = "" if obj is None else str(obj)
        if len(text) < self.min_length or not all(ord(ch) in _DIGITS for ch in text):
            raise ValidationError(f"not a digit run: {text!r}", path=path)
        stream.write(text.encode("ascii"))
        return text


class NamespacePart(Construct):  # type: ignore[misc]
    """An optional namespace: present when the next byte is ``/``.

    It runs to the first ``,`` (consumed) or to the end of the packet. Parses to ``None``
    when absent, else ``Container(name=str, terminated=bool)``. Building writes the name and,
    when ``terminated`` is true, the comma; ``None`` (or the name ``"/"``) writes nothing.
    """

    def _parse(self, stream: Any, context: Any, path: str) -> Container | None:
        start = stream_tell(stream, path)
        rest = stream.read()
        if not rest.startswith(b"/"):
            stream_seek(stream, start, 0, path)
            return None
        comma = rest.find(b",")
        if comma < 0:
            return Container(name=rest.decode("utf-8", "surrogatepass"), terminated=False)
        stream_seek(stream, start + comma + 1, 0, path)
        return Container(name=rest[:comma].decode("utf-8", "surrogatepass"), terminated=True)

    def _build(self, obj: Any, stream: Any, context: Any, path: str) -> Any:
        if obj is None or obj["name"] in ("/", ""):
            return None
        name: str = obj["name"]
        if not name.startswith("/") or "," in name:
            raise ValidationError(f"not a namespace: {name!r}", path=path)
        stream.write(name.encode("utf-8", "surrogatepass"))
        if obj.get("terminated", True):
            stream.write(b",")
        return obj


#: The attachment count of types 5 and 6: ``<digits>-``.
ATTACHMENTS = Struct("count" / DigitRun(min_length=1), Const(b"-"))

#: One Socket.IO text packet (the UTF-8 bytes after the Engine.IO ``4``).
TEXT_PACKET = Struct(
    "type" / Mapping(Byte, {number: 0x30 + number for number in range(7)}),
    "attachments" / If(lambda ctx: ctx.type in (BINARY_EVENT, BINARY_ACK), ATTACHMENTS),
    "nsp" / NamespacePart(),
    "id" / DigitRun(),
    "payload" / GreedyBytes,
)


def parse_slow(text: str) -> Header:
    """The header of ``text`` as the construct declaration reads it.

    Raises :class:`construct.ConstructError` when the packet does not fit (unknown type, bad
    attachment count); the error's ``path`` names the field.
    """
    parsed = parse(TEXT_PACKET, text.encode("utf-8", "surrogatepass"))
    attachments = parsed.attachments
    nsp = parsed.nsp
    return (
        int(parsed.type),
        None if attachments is None else str(attachments.count),
        None if nsp is None else str(nsp.name),
        False if nsp is None else bool(nsp.terminated),
        str(parsed.id),
        bytes(parsed.payload).decode("utf-8", "surrogatepass"),
    )


def build_text(
    type: int,
    *,
    attachments: int | None = None,
    nsp: str | None = None,
    terminated: bool = True,
    id: int | None = None,
    payload: str = "",
) -> str:
    """The text packet for these fields, built with :data:`TEXT_PACKET` (tests, tools)."""
    built = TEXT_PACKET.build(
        {
            "type": type,
            "attachments": None if attachments is None else {"count": str(attachments)},
            "nsp": None if nsp is None else {"name": nsp, "terminated": terminated},
            "id": "" if id is None else str(id),
            "payload": payload.encode("utf-8", "surrogatepass"),
        }
    )
    return bytes(built).decode("utf-8", "surrogatepass")
