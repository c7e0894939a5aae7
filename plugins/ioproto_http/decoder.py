"""The ``http`` decoder layer: ``tcp`` byte-stream records in, chunks and error records out.

One :class:`~.conversation.Conversation` per TCP connection does the work (HTTP/1.x
framing, request/response pairing, WebSocket frames, permessage-deflate); this module only
routes each ``tcp`` record to its connection's conversation, sans-IO: records in, records out,
nothing read or written.

Which HTTP messages are decoded is for the layers above to say: a request whose messages no
decoder riding on ``chunk`` would accept (``DecodeContext.wanted``) is skipped, its body, its
response and its WebSocket alike. Decode options (``-D KEY=VALUE``): ``all_http`` keeps every
HTTP message; ``max_connections`` (default 20000) caps the connections followed at once
(beyond it the oldest is finished early, as at its end). What all connections hold of
messages not finished yet (bodies, WebSocket fragments) is bounded by
``Limits.max_buffer_bytes``: past it, the connection holding the most drops what it holds,
as if those bytes had been lost (``capture.buffer.over-budget``), until the rest fits.
"""

from __future__ import annotations

from collections.abc import Iterable

from ioproto_tcp.records import LAYER as TCP_LAYER
from ioproto_tcp.records import TcpClose, TcpData, TcpEvent, TcpFin, TcpGap, TcpOpen

from ioproto.components import DecodeContext, number_option
from ioproto.model import Record

from .conversation import Conversation, Emitter
from .records import CHUNK_TYPES, LAYER

DEFAULT_MAX_CONNECTIONS = 20_000


class HttpDecoder:
    """Decodes HTTP/1.x and WebSocket from TCP byte streams (see the module docstring)."""

    name = "http"
    layer = LAYER
    rides_on = TCP_LAYER
    scope = "connection"  # one conversation per connection: ioproto.worker may shard it
    options = {
        "all_http": "true: every HTTP message becomes a chunk, not only Engine.IO ones",
        "max_connections": f"connections followed at once (default {DEFAULT_MAX_CONNECTIONS})",
    }
    types = (*CHUNK_TYPES, "ws-end", "http-unanswered")
    description = (
        "HTTP/1.x messages (bodies, content codings, pipelining) and WebSocket messages "
        "(frames, fragments, permessage-deflate) from TCP byte streams"
    )

    def accepts(self, record: Record) -> bool:
        return isinstance(record, TcpEvent)

    def open(self, context: DecodeContext) -> HttpStream:
        return HttpStream(context)


class HttpStream:
    """The running ``http`` layer: one conversation per open connection."""

    def __init__(self, context: DecodeContext) -> None:
        limits = context.limits
        self.emitter = Emitter(
            context.options, limits.max_payload, limits.max_raw_kept, context.wanted
        )
        self.conversations: dict[str | None, Conversation] = {}
        self.max_connections = max(
            1, number_option(context.options, "max_connections", DEFAULT_MAX_CONNECTIONS)
        )
        self.max_buffer_bytes = limits.max_buffer_bytes
        self.buffered = 0  # what the conversations hold together (their ``charged``)

    def feed(self, record: Record) -> Iterable[Record]:
        """The chunks and errors that ``record`` completed (never raises on any input)."""
        emitter = self.emitter
        emitter.ts = record.ts
        conversation = self.conversations.get(record.connection)
        kind = type(record)
        if kind is TcpData:
            if conversation is None:  # picked up mid-stream: which side is the client is open
                conversation = self._open(record.connection, None, None)
            conversation.data(record.side, record.data)  # type: ignore[attr-defined]
            self._charge(conversation)
        elif kind is TcpOpen:
            if conversation is not None:  # a new connection of the same name
                self._finish(conversation, "reused")
            self._open(record.connection, record.endpoints, record.client)  # type: ignore[attr-defined]
        elif conversation is None:
            pass
        elif kind is TcpGap:
            conversation.gap(record.side, record.offset, record.length)  # type: ignore[attr-defined]
            self._charge(conversation)
        elif kind is TcpFin:
            conversation.fin(record.side)  # type: ignore[attr-defined]
            self._charge(conversation)
        elif kind is TcpClose:
            self._finish(conversation, record.reason)  # type: ignore[attr-defined]
            del self.conversations[record.connection]
        return self._take()

    def close(self) -> Iterable[Record]:
        """End of input: finish every conversation still open."""
        for conversation in self.conversations.values():
            self._finish(conversation, "input ended")
        self.conversations.clear()
        return self._take()

    def _finish(self, conversation: Conversation, reason: str) -> None:
        """End ``conversation`` (``reason``: as :class:`TcpClose`'s)."""
        conversation.close(reason)
        self.buffered -= conversation.charged
        conversation.charged = 0

    def _charge(self, conversation: Conversation) -> None:
        """Count what ``conversation`` holds now; past the budget, the conversations that
        hold the most let go of it until the rest fits."""
        first, second = conversation.sides
        held = first.held() + second.held()
        change = held - conversation.charged
        if change:
            conversation.charged = held
            self.buffered += change
            if self.buffered > self.max_buffer_bytes:
                self._over_budget()

    def _over_budget(self) -> None:
        why = f"the connections held more than limits.max_buffer_bytes ({self.max_buffer_bytes})"
        while self.buffered > self.max_buffer_bytes:
            largest = max(self.conversations.values(), key=_charged)
            if not largest.charged:
                break
            for index in (0, 1):
                largest.drop(index, why)
            first, second = largest.sides
            held = first.held() + second.held()
            before, largest.charged = largest.charged, held
            self.buffered += held - before
            if held >= before:
                break  # nothing to let go of there: never spin

    def _open(
        self, connection: str | None, endpoints: tuple[str, str] | None, client: int | None
    ) -> Conversation:
        conversations = self.conversations
        if len(conversations) >= self.max_connections:
            oldest = next(iter(conversations))
            self._finish(conversations.pop(oldest), "evicted")
        if endpoints is None:
            endpoints = _endpoints(connection)
        conversation = conversations[connection] = Conversation(self.emitter, endpoints, client)
        return conversation

    def _take(self) -> list[Record]:
        out = self.emitter.out
        if out:
            self.emitter.out = []
        return out  # type: ignore[return-value]


def _endpoints(connection: str | None) -> tuple[str, str]:
    """The two endpoints of a connection named ``a-b`` (a name without one: itself twice)."""
    if connection is None:
        return ("?", "?")
    left, dash, right = connection.partition("-")
    return (left, right) if dash else (connection, connection)


def _charged(conversation: Conversation) -> int:
    return conversation.charged
