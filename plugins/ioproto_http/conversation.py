"""The application side of one TCP connection: HTTP/1.x exchanges, then maybe WebSocket.

:class:`Conversation` receives the reassembled bytes of both directions (``data``), lost
ranges (``gap``), half-closes (``fin``) and the end (``close``), decides which side is the
client, parses requests and responses, pairs them in order (pipelining included), follows a
``101 Switching Protocols`` into WebSocket and hands finished chunks and error records to the
:class:`Emitter`. Memory per side is bounded by the head limit, ``limits.max_payload`` and the
orphan-response limit. It knows nothing of files, sockets or processes: the ``http`` layer's
stream (:mod:`.decoder`) feeds it the ``tcp`` layer's records.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ioproto.components import flag_option
from ioproto.fastrecords import positional_maker
from ioproto.model import Direction, ErrorRecord, Record
from ioproto.render import plural

from .framing import (
    MAX_HEAD,
    MAX_LINE,
    BodyReader,
    Head,
    Headers,
    body_framing,
    decode_content,
    find_message_start,
    head_end,
    looks_like_request_start,
    parse_head,
    split_target,
)
from .records import (
    CONTROL_TYPES,
    PEER_ENDS,
    WS_CLOSE,
    Chunk,
    ChunkKind,
    HttpInfo,
    UnansweredRequest,
    WebSocketEnd,
)
from .websocket import (
    AFTER_BAD_FRAME_CONTEXT,
    Event,
    WsDirection,
    deflate_parameters,
    probe_frames,
)

LAYER = "capture"

#: Chunk(ts=, connection=, direction=, kind=, data=, http=, seq=), positionally and about
#: twice as fast (one chunk per HTTP body or WebSocket message).
make_chunk = positional_maker(
    Chunk, ("ts", "connection", "direction", "kind", "data", "http", "seq")
)

# conversation modes
UNKNOWN, HTTP, WS, IGNORE = range(4)
# side states
HEAD, BODY_LENGTH, BODY_CHUNKED, BODY_CLOSE, SKIP, SKIP_TO_CLOSE, WAIT, RESYNC = range(8)
WS_FRAMES, WS_RESYNC = 8, 9

#: Server bytes kept while waiting for the request they answer (cross-direction reordering).
MAX_ORPHAN = 64 * 1024
#: Bytes of an unrecognised mid-stream connection after which it is reported and ignored.
MAX_UNKNOWN = 256 * 1024
MAX_PENDING = 1024

#: What cut a message that a side had not finished when its connection ended, by the
#: ``TcpClose`` reason (when that side sent no FIN).
_ENDS = {
    "closed": "the connection closing without a FIN from this side",
    "reset": "a reset of the connection (RST)",
    "idle": "the connection being let go after idle_timeout without traffic",
    "evicted": "the connection being evicted (over max_connections)",
    "reused": "a new connection on the same ports (its SYN)",
    "input ended": "the end of the capture",
}
#: The rule of a message cut by each end: ``.truncated`` when the input stopped (not the
#: peer's doing), ``.invalid`` otherwise.
_CUT_RULES = {
    (HTTP, False): "capture.http.invalid",
    (WS, False): "capture.websocket.invalid",
    (HTTP, True): "capture.http.truncated",
    (WS, True): "capture.websocket.truncated",
}

_KIND = {
    "ws-text": ChunkKind.WS_TEXT,
    "ws-binary": ChunkKind.WS_BINARY,
    "ws-control": ChunkKind.WS_CONTROL,
    **{name: ChunkKind.WS_CONTROL for name in CONTROL_TYPES.values()},
}
_CONTROL = ChunkKind.WS_CONTROL


class Emitter:
    """Collects the records of a capture in order; ``ts`` is the time of the current packet.

    ``wanted(record)`` says whether a chunk would be input for a layer above (the HTTP
    messages of Engine.IO, say); the bodies of requests nobody wants, and their responses
    and WebSockets, are skipped, unless the option ``all_http`` keeps everything. ``None``
    wants everything.
    """

    def __init__(
        self,
        options: Mapping[str, Any],
        max_payload: int,
        max_raw: int,
        wanted: Callable[[Record], bool] | None = None,
    ) -> None:
        self.out: list[Chunk | Record] = []
        self.ts = 0.0
        self.seq = 0
        self.all_http = flag_option(options, "all_http")
        self.wanted = wanted
        self.max_payload = max_payload
        self.max_raw = max_raw

    def chunk(
        self,
        *,
        connection: str,
        direction: Direction,
        kind: ChunkKind,
        data: bytes,
        http: HttpInfo | None,
    ) -> None:
        self.seq += 1
        self.out.append(make_chunk(self.ts, connection, direction, kind, data, http, self.seq))

    def keeps(self, kind: ChunkKind, http: HttpInfo) -> bool:
        """Whether the messages of a request with ``http`` are to be decoded (see above)."""
        if self.all_http or self.wanted is None:
            return True
        return self.wanted(make_chunk(self.ts, None, "c2s", kind, b"", http, 0))

    def wants(self, record: Record) -> bool:
        """Whether a record other than a chunk is to be made (a layer above takes it)."""
        return self.all_http or self.wanted is None or self.wanted(record)

    def error(
        self,
        *,
        rule: str,
        reason: str,
        connection: str | None = None,
        direction: Direction | None = None,
        raw: bytes = b"",
        offset: int | None = None,
    ) -> None:
        self.out.append(
            ErrorRecord(
                ts=self.ts,
                connection=connection,
                direction=direction,
                layer=LAYER,
                rule=rule,
                reason=reason,
                raw=bytes(raw[: self.max_raw]),
                offset=offset,
            )
        )


class Request:
    """What a response or a WebSocket needs to know about the request it answers."""

    __slots__ = (
        "headers",
        "keep",
        "method",
        "path",
        "query",
        "target",
        "ts",
        "upgrade",
    )

    def __init__(self, head: Head | None, ts: float, emitter: Emitter) -> None:
        self.ts = ts
        self.method: str | None = None
        self.target: str | None = None
        self.path: str | None = None
        self.query: tuple[tuple[str, str], ...] = ()
        self.headers: Headers = ()
        self.upgrade = False
        self.keep = emitter.all_http
        if head is None:  # a request the capture did not hold
            return
        self.method = head.method
        self.target = head.target or ""
        self.path, self.query = split_target(self.target)
        self.headers = head.headers
        self.upgrade = any(item.lower() == "websocket" for item in head.all("upgrade"))
        kind = ChunkKind.WS_TEXT if self.upgrade else ChunkKind.HTTP_REQUEST
        self.keep = emitter.keeps(kind, self.info())

    def info(self, head: Head | None = None, request_ts: float | None = None) -> HttpInfo:
        """The :class:`HttpInfo` of this request, or of its response ``head``."""
        if head is None:
            return HttpInfo(
                method=self.method,
                target=self.target,
                path=self.path,
                query=self.query,
                headers=self.headers,
            )
        return HttpInfo(
            method=self.method,
            target=self.target,
            path=self.path,
            query=self.query,
            status=head.status,
            reason=head.reason,
            headers=head.headers,
            request_headers=self.headers,
            request_ts=request_ts,
        )


class Side:
    """Parsing state of one direction."""

    __slots__ = (
        "base",
        "body",
        "buf",
        "closed",
        "head",
        "orphan_until",
        "remaining",
        "request",
        "state",
        "ws",
    )

    def __init__(self) -> None:
        self.buf = bytearray()
        self.base = 0  # stream offset of buf[0]
        self.closed = False
        self.state = HEAD
        self.head: Head | None = None
        self.request: Request | None = None
        self.remaining = 0
        self.body: BodyReader | None = None
        # responses starting before this stream offset answer requests the capture lacks
        self.orphan_until = 0
        self.ws: WsDirection | None = None

    def consume(self, count: int) -> None:
        del self.buf[:count]
        self.base += count

    def held(self) -> int:
        """Bytes this side holds of what is not finished yet: its buffer, a chunked body,
        the fragments of a WebSocket message."""
        held = len(self.buf)
        if self.body is not None:
            held += len(self.body.body)
        if self.ws is not None:
            held += self.ws.size
        return held


class Conversation:
    """Application-level decoding of one TCP connection (see the module docstring).

    ``addresses`` are the printable endpoints of side 0 and side 1; ``client`` is the client's
    side when the TCP handshake told it, else ``None`` (decided from the bytes).
    """

    def __init__(
        self,
        emitter: Emitter,
        addresses: tuple[str, str],
        client: int | None,
    ) -> None:
        self.emitter = emitter
        self.addresses = addresses
        self.sides = (Side(), Side())
        self.client: int | None = None
        self.handshake = client is not None
        self.mode = UNKNOWN
        self.name = f"{addresses[0]}-{addresses[1]}"
        self.pending: deque[Request] = deque()
        self.ws_http: HttpInfo | None = None
        self.ws_close_seen = False  # a close frame came (from either side)
        self.unknown_bytes = 0
        self.closing = False  # the connection is over: unanswered server bytes are orphans
        self.new_data_at = (0, 0)  # where the newest delivery starts in each side's buffer
        self.charged = 0  # bytes the layer's budget counts for this connection
        if client is not None:
            self._set_client(client)

    # -- inputs -----------------------------------------------------------------------------

    def data(self, index: int, data: bytes) -> None:
        mode = self.mode
        if mode == IGNORE:
            return
        side = self.sides[index]
        if mode == WS and side.state == WS_FRAMES:
            # Only this side can make progress (the other side's buffer holds at most an
            # incomplete frame), so skip _pump; with nothing buffered, parse ``data`` in place
            # rather than copying it into the buffer first.
            ws = side.ws
            assert ws is not None
            events: list[Event] = []
            if side.buf:
                side.buf += data
                side.consume(ws.parse(side.buf, 0, events))
            else:
                used = ws.parse(data, 0, events)
                side.base += used
                if used < len(data):
                    side.buf += memoryview(data)[used:]
            if events:
                self._ws_events(index, events)
                if ws.dead:
                    self._ws_bad_frame(index)
            return
        start = len(side.buf)
        side.buf += data
        if self.mode == UNKNOWN:
            self.unknown_bytes += len(data)
            self._detect(index, start)
            if self.mode == UNKNOWN:
                return
        elif side.state == WS_RESYNC:
            self._ws_resync(index, start)
        self._pump()

    def gap(self, index: int, offset: int, length: int) -> None:
        """Side ``index`` lost ``length`` bytes from stream ``offset``: an error record, then
        the side finds its way again (unless they fell inside a skipped WebSocket frame)."""
        self.emitter.error(
            rule="capture.tcp.gap",
            reason=(
                f"{length} bytes lost in {self.name} {self._direction(index)} "
                f"(stream bytes {offset}-{offset + length})"
            ),
            connection=self.name,
            direction=self._direction(index),
            offset=offset,
        )
        side = self.sides[index]
        ws = side.ws
        if self.mode == WS and side.state == WS_FRAMES and not side.buf and ws is not None:
            # lost inside a frame skipped by its length: the frames after it are where
            # that length says, so the direction stays in step
            events: list[Event] = []
            if ws.skip_lost(length, events):
                side.base = offset + length
                if events:
                    self._ws_events(index, events)
                return
        self._lose(index, offset + length)

    def drop(self, index: int, why: str) -> None:
        """Let go of what side ``index`` holds (the layer's budget is spent: ``why``), as if
        those bytes had been lost: an error record, then the side finds its way again."""
        side = self.sides[index]
        held = side.held()
        if not held:
            return
        self.emitter.error(
            rule="capture.buffer.over-budget",
            reason=f"{why}: dropped the {held} bytes of what {self.name} "
            f"{self._direction(index)} had not finished",
            connection=self.name,
            direction=self._direction(index),
            offset=side.base,
        )
        self._lose(index, side.base + len(side.buf))

    def _lose(self, index: int, resume_at: int) -> None:
        """Side ``index``'s next bytes start at stream offset ``resume_at``, after bytes
        this conversation will never see: drop what was in progress and resynchronise."""
        side = self.sides[index]
        busy = bool(side.buf) or side.state not in (HEAD, RESYNC, WAIT, WS_FRAMES, WS_RESYNC)
        partial_head = side.state == HEAD and bool(side.buf)
        side.buf.clear()
        side.base = resume_at
        side.body = None
        if self.mode == HTTP:
            if index == self.client:
                # server bytes already here answer requests sent before the lost ones at the
                # latest: they cannot answer the requests that follow the gap
                server = self.sides[1 - index]
                if not self.pending:
                    server.orphan_until = max(server.orphan_until, server.base + len(server.buf))
                if busy and side.state != WAIT:
                    # the lost bytes held (part of) a request: keep its response paired
                    self._push(Request(None, self.emitter.ts, self.emitter))
                if side.state != WAIT:
                    side.state = RESYNC
            else:
                if partial_head and self.pending:
                    # a response head was cut: it answered the oldest request (a response
                    # whose body was cut already took its request off the queue)
                    self._answered(self.pending.popleft())
                side.state = RESYNC
        elif self.mode == WS:
            assert side.ws is not None
            side.ws.lost_sync()
            side.state = WS_RESYNC

    def fin(self, index: int) -> None:
        side = self.sides[index]
        if side.closed:
            return
        side.closed = True
        if self.mode in (HTTP, WS):
            self._pump()

    def close(self, reason: str = "input ended") -> None:
        """The connection is over (``reason``: a ``TcpClose`` reason, ``input ended`` when
        the input ended with it open): finish what can be finished; a message cut short
        gets an error record saying what was cut, how many bytes, and by what."""
        self.closing = True
        finished = [side.closed for side in self.sides]  # that side's FIN came
        for side in self.sides:
            side.closed = True
        if self.mode == UNKNOWN:
            if not self.handshake and self.unknown_bytes:
                self._report_unknown()
        elif self.mode in (HTTP, WS):
            self._pump()
            for index, side in enumerate(self.sides):
                cut = self._unfinished(side)
                if cut is None:
                    continue
                what, raw = cut
                stopped = not finished[index] and reason == "input ended"
                self.emitter.error(
                    rule=_CUT_RULES[self.mode, stopped],
                    reason=f"message cut short by {self._cut_by(index, finished[index], reason)}"
                    f" ({what})",
                    connection=self.name,
                    direction=self._direction(index),
                    raw=raw,
                    offset=side.base,
                )
            if self.mode == HTTP and reason in PEER_ENDS:
                self._unanswered(PEER_ENDS[reason])
            if self.mode == WS and not self.ws_close_seen and reason in PEER_ENDS:
                self.emitter.out.append(
                    WebSocketEnd(
                        ts=self.emitter.ts,
                        connection=self.name,
                        reason=PEER_ENDS[reason],
                        http=self.ws_http,
                    )
                )
        for side in self.sides:
            side.buf = bytearray()
        self.mode = IGNORE

    def _unanswered(self, reason: str) -> None:
        """An :class:`UnansweredRequest` for each request still waiting for its response
        (not an upgrade), the connection having ended for ``reason``, that a layer above
        takes (the Engine.IO layer: a request of a session)."""
        emitter = self.emitter
        for request in self.pending:
            if request.keep and request.method is not None and not request.upgrade:
                record = UnansweredRequest(
                    ts=emitter.ts,
                    connection=self.name,
                    direction="c2s",
                    reason=reason,
                    http=request.info(),
                    request_ts=request.ts,
                )
                if emitter.wants(record):
                    emitter.out.append(record)

    def _unfinished(self, side: Side) -> tuple[str, bytes] | None:
        """What ``side`` holds of a message it has not finished, as ``(what, first bytes)``
        (see :meth:`close`); ``None`` when nothing, or nothing that is not reported already
        (bytes skipped for their size, lost, or waiting on the other side)."""
        state = side.state
        buf = side.buf
        if state in (RESYNC, WS_RESYNC, SKIP, SKIP_TO_CLOSE, WAIT):
            return None
        if state == WS_FRAMES:
            assert side.ws is not None
            message = side.ws.unfinished()
            if message is None:
                return (f"{plural(len(buf), 'byte')} of a frame", bytes(buf[:64])) if buf else None
            what, first = message
            if buf:
                what += f" and {plural(len(buf), 'byte')} of its next frame"
            return what, first
        if state == BODY_LENGTH:
            return f"{len(buf)} of the {side.remaining} bytes of a body", bytes(buf[:64])
        if state == BODY_CHUNKED:
            assert side.body is not None
            body = side.body.body
            return f"{plural(len(body), 'byte')} of a chunked body", bytes(body[:64] or buf[:64])
        if buf:
            return plural(len(buf), "byte"), bytes(buf[:64])
        return None

    def _cut_by(self, index: int, finished: bool, reason: str) -> str:
        """What cut side ``index``'s message: its FIN (``finished``), else the connection's
        end for ``reason`` (:class:`~ioproto_tcp.records.TcpClose`)."""
        if finished:
            role = (
                "its sender"
                if self.client is None
                else ("the client", "the server")[index != self.client]
            )
            return f"{role} closing its side of the connection (FIN)"
        return _ENDS.get(reason) or f"the connection ending ({reason})"

    # -- roles and protocol detection ---------------------------------------------------------

    def _set_client(self, index: int) -> None:
        self.client = index
        self.name = f"{self.addresses[index]}-{self.addresses[1 - index]}"

    def _direction(self, index: int) -> Direction:
        return "s2c" if self.client is not None and index != self.client else "c2s"

    def _ignore(self) -> None:
        self.mode = IGNORE
        self.pending.clear()
        for side in self.sides:
            side.buf = bytearray()

    def _detect(self, index: int, start: int) -> None:
        buf = self.sides[index].buf
        if buf[:2] == b"\x16\x03" or (not self.handshake and buf[:2] == b"\x17\x03"):
            if self.client is None:
                self._set_client(index if buf[:1] == b"\x16" else 1 - index)
            self.emitter.error(
                rule="capture.tls",
                reason=f"{self.name} carries TLS: encrypted traffic cannot be read",
                connection=self.name,
                raw=bytes(buf[:16]),
            )
            self._ignore()
            return
        if self.handshake:
            assert self.client is not None
            if index != self.client:
                if len(buf) > MAX_ORPHAN:  # a server that speaks first: not HTTP
                    self._ignore()
                return
            verdict = looks_like_request_start(buf)
            if verdict is None:
                return
            if verdict:
                self.mode = HTTP
            else:
                self._ignore()
            return
        # mid-stream pick-up: an HTTP message start, or plausible WebSocket frames
        for request in (True, False):
            found = find_message_start(buf, request=request)
            if found >= 0:
                self._set_client(index if request else 1 - index)
                self.mode = HTTP
                for side in self.sides:
                    side.state = RESYNC
                return
        frames = probe_frames(memoryview(buf)[start:])
        if frames > 0:
            self._set_client(index if frames == 1 else 1 - index)
            self.sides[index].consume(start)
            self._start_ws(None, None, midstream=True)
            self.sides[index].state = WS_FRAMES
            return
        if self.unknown_bytes > MAX_UNKNOWN:
            self._report_unknown()
            self._ignore()
            return
        if len(buf) > MAX_LINE:
            self.sides[index].consume(len(buf) - MAX_LINE)

    def _report_unknown(self) -> None:
        self.emitter.error(
            rule="capture.tcp.midstream",
            reason=(
                f"{self.name} was picked up mid-stream and no HTTP message start or WebSocket "
                f"frame was found in its first {self.unknown_bytes} bytes"
            ),
            connection=self.name,
        )

    # -- pumping ------------------------------------------------------------------------------

    def _pump(self) -> None:
        if self.mode == HTTP:
            assert self.client is not None
            while True:
                progress = self._requests(self.sides[self.client])
                if self.mode != HTTP:
                    break
                progress |= self._responses(self.sides[1 - self.client])
                if self.mode != HTTP or not progress:
                    break
        if self.mode == WS:
            for index in (0, 1):
                side = self.sides[index]
                if side.state == WS_FRAMES and side.buf:
                    self._ws_frames(index)

    def _push(self, request: Request) -> None:
        self.pending.append(request)
        if len(self.pending) > MAX_PENDING:
            self.pending.popleft()

    def _invalid(
        self, index: int, reason: str, raw: bytes | bytearray, resync: bool = True
    ) -> None:
        side = self.sides[index]
        self.emitter.error(
            rule="capture.http.invalid",
            reason=reason,
            connection=self.name,
            direction=self._direction(index),
            raw=bytes(raw[:256]),
            offset=side.base,
        )
        if resync:
            side.state = RESYNC
            side.body = None

    def _resync(self, side: Side, request: bool) -> bool:
        """Look for the next message start; True once found (state is HEAD)."""
        found = find_message_start(side.buf, request=request)
        if found < 0:
            if len(side.buf) > MAX_LINE:
                side.consume(len(side.buf) - MAX_LINE)
            return False
        side.consume(found)
        side.state = HEAD
        return True

    def _read_head(self, index: int, request: bool) -> Head | None:
        side = self.sides[index]
        buf = side.buf
        while buf[:2] == b"\r\n":  # stray CRLFs between messages are allowed
            side.consume(2)
        end, body = head_end(buf)
        if end < 0:
            if len(buf) > MAX_HEAD:
                self._invalid(index, f"message head longer than {MAX_HEAD} bytes", buf)
                side.consume(1)
            return None
        head = parse_head(bytes(buf[:end]), request=request)
        if isinstance(head, str):
            self._invalid(index, head, buf[:end])
            side.consume(body)
            return None
        side.consume(body)
        return head

    def _read_body(self, index: int, framing: tuple[str, int]) -> None:
        """Set ``side.state`` for reading a body framed as ``framing``."""
        side = self.sides[index]
        mode, length = framing
        limit = self.emitter.max_payload
        if mode == "length":
            if length > limit:
                self._invalid(
                    index, f"body of {length} bytes exceeds the limit of {limit}", b"", False
                )
                side.state = SKIP
                side.remaining = length
                side.head = None
            else:
                side.state = BODY_LENGTH
                side.remaining = length
        elif mode == "chunked":
            side.state = BODY_CHUNKED
            side.body = BodyReader(limit)
        else:
            side.state = BODY_CLOSE

    def _take_body(self, index: int) -> bytes | None:
        """The complete body of the message being read, or ``None`` (need more, or failed)."""
        side = self.sides[index]
        state = side.state
        buf = side.buf
        if state == BODY_LENGTH:
            if len(buf) < side.remaining:
                return None
            body = bytes(buf[: side.remaining])
            side.consume(side.remaining)
            return body
        if state == BODY_CHUNKED:
            reader = side.body
            assert reader is not None
            side.consume(reader.step(buf, 0))
            if reader.error is not None:
                self._invalid(index, reader.error, buf[:64])
                return None
            if not reader.done:
                return None
            side.body = None
            return bytes(reader.body)
        if state == BODY_CLOSE:
            if len(buf) > self.emitter.max_payload:
                self._invalid(index, "body read until close exceeds the limit", b"", False)
                side.state = SKIP_TO_CLOSE
                side.consume(len(buf))
                return None
            if not side.closed:
                return None
            body = bytes(buf)
            side.consume(len(buf))
            return body
        return None

    def _skip(self, side: Side) -> bool:
        """Discard a body being skipped; True when done."""
        if side.state == SKIP_TO_CLOSE:
            side.consume(len(side.buf))
            return False
        take = min(side.remaining, len(side.buf))
        side.consume(take)
        side.remaining -= take
        if side.remaining:
            return False
        side.state = HEAD
        return True

    def _decoded(self, index: int, head: Head, body: bytes) -> bytes | None:
        encodings = head.all("content-encoding")
        if not encodings or not body:
            return body
        result = decode_content(body, encodings, self.emitter.max_payload)
        if isinstance(result, str):
            self._invalid(index, result, body[:64], resync=False)
            return None
        return result

    def _requests(self, side: Side) -> bool:
        assert self.client is not None
        index = self.client
        progress = False
        while True:
            state = side.state
            if state in (HEAD, RESYNC, WAIT, SKIP, SKIP_TO_CLOSE) and not side.buf:
                return progress
            if state == WAIT:
                if len(side.buf) > MAX_HEAD * 16:
                    self._invalid(
                        index, "client data while waiting for an upgrade answer", side.buf
                    )
                    continue
                return progress
            if state == RESYNC:
                if not self._resync(side, True):
                    return progress
                continue
            if state in (SKIP, SKIP_TO_CLOSE):
                if not self._skip(side):
                    return progress
                continue
            if state == HEAD:
                head = self._read_head(index, True)
                if head is None:
                    if side.state == HEAD:
                        return progress
                    continue
                framing = body_framing(head, request=True)
                if isinstance(framing, str):
                    self._invalid(index, framing, b"")
                    continue
                side.head = head
                side.request = Request(head, self.emitter.ts, self.emitter)
                self._read_body(index, framing)
                continue
            body = self._take_body(index)
            if body is None:
                if side.state == RESYNC:
                    continue
                return progress
            head = side.head
            request = side.request
            assert head is not None and request is not None
            request.ts = self.emitter.ts
            side.state = WAIT if request.upgrade else HEAD
            progress = True
            self._push(request)
            if request.keep and not request.upgrade:
                self._body_chunk(
                    index, head, body, request, "c2s", ChunkKind.HTTP_REQUEST, request.info()
                )

    def _responses(self, side: Side) -> bool:
        assert self.client is not None
        index = 1 - self.client
        progress = False
        while True:
            state = side.state
            if state in (HEAD, RESYNC, SKIP, SKIP_TO_CLOSE) and not side.buf:
                return progress
            if state == RESYNC:
                if not self._resync(side, False):
                    return progress
                if not self.handshake and not self.pending:
                    # mid-stream: what is buffered began before any captured request
                    side.orphan_until = max(side.orphan_until, side.base + len(side.buf))
                continue
            if state in (SKIP, SKIP_TO_CLOSE):
                if not self._skip(side):
                    return progress
                self._answered()
                continue
            if state == HEAD:
                orphan = side.base < side.orphan_until
                if orphan:
                    request = Request(None, self.emitter.ts, self.emitter)
                elif self.pending:
                    request = self.pending[0]
                elif self.closing or len(side.buf) > MAX_ORPHAN:
                    request = Request(None, self.emitter.ts, self.emitter)
                    orphan = True
                else:
                    return progress  # wait for the request (it may be reordered after us)
                head = self._read_head(index, False)
                if head is None:
                    if side.state == HEAD:
                        return progress
                    if not orphan and self.pending:  # the broken response answered it
                        self._answered(self.pending.popleft())
                    continue
                if not orphan:
                    self.pending.popleft()
                status = head.status or 0
                if status == 101:
                    if request.upgrade:
                        progress = True
                        self._start_ws(request, head)
                        return progress
                    self._invalid(index, "101 Switching Protocols without an upgrade", b"")
                    continue
                if status < 200:  # interim response: the real one follows
                    if orphan:
                        side.orphan_until = max(side.orphan_until, side.base + 1)
                    else:
                        self.pending.appendleft(request)
                    continue
                framing = body_framing(head, request=False, request_method=request.method)
                if isinstance(framing, str):
                    self._invalid(index, framing, b"")
                    self._answered(request)
                    continue
                side.head = head
                side.request = request
                self._read_body(index, framing)
                continue
            body = self._take_body(index)
            if body is None:
                if side.state == RESYNC:
                    self._answered(side.request)
                    continue
                return progress
            head = side.head
            answered = side.request
            assert head is not None and answered is not None
            request = answered
            side.state = HEAD
            progress = True
            self._answered(request)
            if request.keep:
                http = request.info(head, request.ts)
                self._body_chunk(index, head, body, request, "s2c", ChunkKind.HTTP_RESPONSE, http)

    def _body_chunk(
        self,
        index: int,
        head: Head,
        body: bytes,
        request: Request,
        direction: Direction,
        kind: ChunkKind,
        http: HttpInfo,
    ) -> None:
        """The chunk of an HTTP body (its content coding undone), in ``request``'s session."""
        data = self._decoded(index, head, body)
        if data is not None:
            self.emitter.chunk(
                connection=self.name,
                direction=direction,
                kind=kind,
                data=data,
                http=http,
            )

    def _answered(self, request: Request | None = None) -> None:
        """A response is over: a client paused on an upgrade request goes on with HTTP."""
        assert self.client is not None
        client = self.sides[self.client]
        if client.state == WAIT and (request is None or request.upgrade):
            client.state = HEAD

    # -- WebSocket ----------------------------------------------------------------------------

    def _start_ws(
        self, request: Request | None, head: Head | None, midstream: bool = False
    ) -> None:
        assert self.client is not None
        params = deflate_parameters(head.get("sec-websocket-extensions") if head else None)
        limit = self.emitter.max_payload
        self.mode = WS
        self.pending.clear()
        if request is not None and not request.keep:
            self._ignore()
            return
        for index, side in enumerate(self.sides):
            if params is None and not midstream:
                deflate = no_takeover = False
            else:
                deflate = True
                role = "client" if index == self.client else "server"
                no_takeover = params is not None and f"{role}_no_context_takeover" in params
            side.ws = WsDirection(
                deflate=deflate, no_takeover=no_takeover, limit=limit, context_known=not midstream
            )
            side.state = WS_RESYNC if midstream else WS_FRAMES
            side.body = None
        if request is not None and head is not None:
            self.ws_http = request.info(head, request.ts)

    def _ws_resync(self, index: int, start: int) -> None:
        side = self.sides[index]
        verdict = probe_frames(memoryview(side.buf)[start:])
        expected = 1 if index == self.client else 2
        if verdict == expected:
            side.consume(start)
            side.state = WS_FRAMES
        elif verdict == 0 or verdict > 0:
            side.consume(len(side.buf))

    def _ws_frames(self, index: int) -> None:
        side = self.sides[index]
        ws = side.ws
        assert ws is not None
        events: list[Event] = []
        side.consume(ws.parse(side.buf, 0, events))
        if events:
            self._ws_events(index, events)
            if ws.dead:
                self._ws_bad_frame(index)

    def _ws_bad_frame(self, index: int) -> None:
        """Side ``index``'s frame parser stopped at a bad frame (reported; the rest of what
        it held is dropped): look for frames again where a TCP segment starts, as after lost
        bytes (the frames' own lengths cannot be trusted past a bad one)."""
        side = self.sides[index]
        assert side.ws is not None
        side.ws.lost_sync(AFTER_BAD_FRAME_CONTEXT)
        side.state = WS_RESYNC

    def _ws_events(self, index: int, events: list[Event]) -> None:
        """Emit the messages and errors that side ``index``'s frame parser produced."""
        direction = self._direction(index)
        emitter = self.emitter
        out = emitter.out
        for kind, payload, reason in events:
            chunk_kind = _KIND.get(kind)
            if chunk_kind is None:
                emitter.error(
                    rule=kind,
                    reason=reason,
                    connection=self.name,
                    direction=direction,
                    raw=payload,
                )
                continue
            # Emitter.chunk, inlined: this runs once per WebSocket message
            emitter.seq += 1
            if chunk_kind is _CONTROL:  # its type says which control frame (ws-close …)
                if kind == WS_CLOSE:
                    self.ws_close_seen = True
                out.append(
                    Chunk(
                        ts=emitter.ts,
                        connection=self.name,
                        direction=direction,
                        kind=chunk_kind,
                        data=payload,
                        http=self.ws_http,
                        seq=emitter.seq,
                        type=kind,
                    )
                )
                continue
            out.append(
                make_chunk(
                    emitter.ts, self.name, direction, chunk_kind, payload, self.ws_http, emitter.seq
                )
            )
