"""Helpers for testing plugins that work on Engine.IO and Socket.IO traffic. Public API.

* :func:`make_chunk` / :func:`ws_messages` build the records the HTTP/WebSocket layer gives
  (:func:`engineio_url` the URL facts they carry, for the Engine.IO layer to read);
* :func:`socketio_messages` builds the WebSocket chunks of a whole Socket.IO exchange
  (Engine.IO handshake included), and :func:`socketio_event` / :func:`socketio_ack` encode
  one EVENT / ACK the way the default socket.io-parser does (binary attachments included);
* :func:`engineio_packets` / :func:`socketio_packets` are hypothesis strategies of packets.

Run what they build through a pipeline with :func:`ioproto.testing.run_pipeline`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st
from ioproto_http.records import Chunk, ChunkKind, HttpInfo

from ioproto.model import Direction
from ioproto.testing.strategies import json_values


def make_chunk(
    data: bytes | str,
    *,
    kind: ChunkKind | str = ChunkKind.WS_TEXT,
    direction: Direction | None = "s2c",
    ts: float = 0.0,
    sid: str | None = None,
    revision: int | None = 4,
    transport: str | None = "websocket",
    connection: str = "test",
) -> Chunk:
    """A chunk as a capture source would make it; text is UTF-8 encoded.

    ``sid``, ``revision`` and ``transport`` become the URL query of its ``http`` (see
    :func:`engineio_url`), from which the Engine.IO layer derives them.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    return Chunk(
        ts=ts,
        connection=connection,
        direction=direction,
        kind=ChunkKind(kind),
        data=data,
        http=engineio_url(revision=revision, sid=sid, transport=transport),
    )


def engineio_url(
    *,
    revision: int | None = None,
    sid: str | None = None,
    transport: str | None = None,
    http: HttpInfo | None = None,
) -> HttpInfo | None:
    """The :class:`HttpInfo` of an Engine.IO URL saying ``EIO``, ``sid`` and ``transport``
    (those given; ``None`` when none is), added to ``http``'s query if given."""
    query = tuple(
        (name, str(value))
        for name, value in (("EIO", revision), ("sid", sid), ("transport", transport))
        if value is not None
    )
    if http is not None:
        return attrs.evolve(http, query=http.query + query) if query else http
    return HttpInfo(path="/socket.io/", query=query) if query else None


def ws_messages(
    messages: Iterable[tuple[Direction, str | bytes]],
    *,
    revision: int = 4,
    start: float = 0.0,
    step: float = 0.001,
    connection: str = "test",
) -> list[Chunk]:
    """One WebSocket chunk per ``(direction, message)``: text → ws-text, bytes → ws-binary."""
    chunks = []
    for number, (direction, message) in enumerate(messages):
        kind = ChunkKind.WS_BINARY if isinstance(message, bytes) else ChunkKind.WS_TEXT
        chunks.append(
            make_chunk(
                message,
                kind=kind,
                direction=direction,
                ts=start + number * step,
                revision=revision,
                connection=connection,
            )
        )
    return chunks


def engineio_handshake(
    sid: str = "s1",
    *,
    upgrades: Sequence[str] = (),
    ping_interval: int = 25000,
    ping_timeout: int = 20000,
    max_payload: int | None = 1000000,
) -> str:
    """The text of an Engine.IO ``open`` packet (``0{"sid":...}``) for session ``sid``."""
    handshake: dict[str, Any] = {
        "sid": sid,
        "upgrades": list(upgrades),
        "pingInterval": ping_interval,
        "pingTimeout": ping_timeout,
    }
    if max_payload is not None:
        handshake["maxPayload"] = max_payload
    return "0" + json.dumps(handshake, separators=(",", ":"))


def socketio_event(
    event: str, *args: Any, nsp: str = "/", ack_id: int | None = None
) -> list[str | bytes]:
    """An EVENT as the default socket.io-parser sends it: the packet text, then attachments.

    ``bytes`` anywhere in ``args`` become ``{"_placeholder":true,"num":N}`` and follow as
    binary messages (a BINARY_EVENT, ``5N-...``); without bytes it is one text ``2...``.
    Give the result to :func:`socketio_messages`.
    """
    return _packet(2, [event, *args], nsp, ack_id)


def socketio_ack(ack_id: int, *args: Any, nsp: str = "/") -> list[str | bytes]:
    """An ACK (``3...``, or BINARY_ACK ``6N-...`` with attachments) answering ``ack_id``."""
    return _packet(3, list(args), nsp, ack_id)


def _packet(kind: int, data: list[Any], nsp: str, ack_id: int | None) -> list[str | bytes]:
    buffers: list[bytes] = []

    def deconstruct(value: Any) -> Any:
        if isinstance(value, bytes | bytearray):
            buffers.append(bytes(value))
            return {"_placeholder": True, "num": len(buffers) - 1}
        if isinstance(value, list | tuple):
            return [deconstruct(item) for item in value]
        if isinstance(value, dict):
            return {key: deconstruct(item) for key, item in value.items()}
        return value

    payload = json.dumps(deconstruct(data), separators=(",", ":"), ensure_ascii=False)
    head = str(kind + 3 if buffers else kind)
    if buffers:
        head += f"{len(buffers)}-"
    if nsp != "/":
        head += nsp + ","
    if ack_id is not None:
        head += str(ack_id)
    return [head + payload, *buffers]


def socketio_messages(
    packets: Iterable[tuple[Direction, str | bytes | Sequence[str | bytes]]],
    *,
    sid: str | None = "s1",
    revision: int = 4,
    start: float = 0.0,
    step: float = 0.001,
    connection: str = "test",
) -> list[Chunk]:
    """The WebSocket chunks of a Socket.IO exchange over Engine.IO ``revision``.

    Each item is ``(direction, packet)``: a Socket.IO packet's text (``'2["hi"]'``, sent as
    the Engine.IO message ``'42["hi"]'``), ``bytes`` (a binary Engine.IO message: an
    attachment, or a whole msgpack-parser packet; revision 3 prefixes it with ``0x04``), or a
    list of those (what :func:`socketio_event` returns). With ``sid`` the exchange starts with
    the server's Engine.IO handshake for that session (``sid=None``: no handshake). The
    client's CONNECT is not added: send ``("c2s", "0")`` yourself.
    """
    messages: list[tuple[Direction, str | bytes]] = []
    if sid is not None:
        messages.append(("s2c", engineio_handshake(sid)))
    for direction, packet in packets:
        parts = [packet] if isinstance(packet, str | bytes) else list(packet)
        for part in parts:
            if isinstance(part, str):
                messages.append((direction, "4" + part))
            elif revision < 4:
                messages.append((direction, b"\x04" + part))
            else:
                messages.append((direction, part))
    return ws_messages(messages, revision=revision, start=start, step=step, connection=connection)


#: Engine.IO packet types that carry no data in revision 4 text form.
_EIO_TYPES = "0123456"


@st.composite
def engineio_packets(draw: st.DrawFn) -> str | bytes:
    """One Engine.IO packet as a WebSocket message (revision 4): text, or bytes (binary)."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=32))
    kind = draw(st.sampled_from(_EIO_TYPES))
    return kind + draw(st.text(max_size=32))


@st.composite
def socketio_packets(draw: st.DrawFn, *, binary: bool = True) -> dict[str, object]:
    """A Socket.IO EVENT or ACK as a dict: ``type`` (2 or 3), ``nsp``, ``data``, ``id``.

    ``data`` is a list (an EVENT's starts with its name); with ``binary`` it may hold bytes.
    Encode it with :func:`socketio_event`/``socketio_ack``, or as one
    msgpack map for the msgpack parser.
    """
    kind = draw(st.sampled_from([2, 3]))
    nsp = draw(st.sampled_from(["/", "/chat", "/a-b"]))
    args = draw(st.lists(json_values(binary=binary), max_size=4))
    ack_id = draw(st.one_of(st.none(), st.integers(0, 2**31 - 1)))
    if kind == 3 and ack_id is None:
        ack_id = 0
    if kind == 2:
        name = draw(st.text(min_size=1, max_size=12).filter(lambda n: n not in _RESERVED))
        data: list[object] = [name, *args]
    else:
        data = args
    return {"type": kind, "nsp": nsp, "data": data, "id": ack_id}


_RESERVED = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)
