"""Where the HTTP messages of a proxied connection begin and end, so the proxy can rewrite
request heads and notice an upgrade, while every other byte passes through untouched.

:class:`RequestFramer` reads the client's byte stream: it rewrites each request head (through
a callback) and passes bodies on as they are. :class:`ResponseWatcher` reads the server's
stream, which is forwarded unchanged, only to find where each response ends and whether a
``101 Switching Protocols`` turned the connection into a tunnel (WebSocket). Both use the pcap
plugin's HTTP head parser and body framing, so the proxy and the capture decoder agree on
where messages end. Neither knows about sockets: they take bytes and return bytes, which
makes them easy to test with any split of the input.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import attrs
from ioproto_http.framing import MAX_HEAD, BodyReader, Head, body_framing, head_end, parse_head

# framer states
HEAD, LENGTH, CHUNKED, WAIT_UPGRADE, TUNNEL = range(5)
FAILED = 7
# watcher states
_CLOSE, _BLIND = 5, 6
_UNLIMITED = 1 << 62


class BadRequest(Exception):
    """The client's bytes are not HTTP the proxy can forward; ``status`` is the answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@attrs.frozen
class Pending:
    """A forwarded request still waiting for its response."""

    method: str
    target: str
    upgrade: bool


HeadRewriter = Callable[[bytes, Head], bytes]


class RequestFramer:
    """The client-to-server side of a connection.

    :meth:`feed` takes what the client sent and returns what to send upstream now: each
    request head passed through ``rewrite(raw_head, head)`` (which returns the new head,
    blank line included) and the body bytes as they came. After a request asking for an
    upgrade, bytes are held until :meth:`upgraded` (the server agreed: the held bytes and
    all that follows pass raw) or :meth:`refused`. Never raises: at a head that is
    malformed, too large or framed ambiguously, ``error`` becomes a :class:`BadRequest`
    (with the status to answer), what came before it is still returned, and every later
    byte is ignored (the connection cannot continue). ``pending`` holds the requests
    forwarded and not yet answered (the watcher's input).
    """

    def __init__(self, rewrite: HeadRewriter, *, max_head: int = MAX_HEAD) -> None:
        self.rewrite = rewrite
        self.max_head = max_head
        self.state = HEAD
        self.pending: deque[Pending] = deque()
        self.last_target: str | None = None
        self.error: BadRequest | None = None
        self._buf = bytearray()
        self._remaining = 0
        self._reader: BodyReader | None = None
        self._after_body = HEAD

    @property
    def tunnel(self) -> bool:
        return self.state == TUNNEL

    def feed(self, data: bytes) -> bytes:
        if self.state == TUNNEL:
            return data
        if self.state == FAILED:
            return b""
        self._buf += data
        return self._frame()

    def upgraded(self) -> bytes:
        """The server switched protocols: everything from here on passes unchanged."""
        self.state = TUNNEL
        held = bytes(self._buf)
        self._buf = bytearray()
        return held

    def refused(self) -> bytes:
        """The server answered the upgrade request normally: go on reading requests."""
        if self.state == WAIT_UPGRADE:
            self.state = HEAD
        elif self._after_body == WAIT_UPGRADE:  # refused before its body was all here
            self._after_body = HEAD
        return self._frame()

    def _frame(self) -> bytes:
        out = bytearray()
        try:
            self._frame_into(out)
        except BadRequest as exc:
            self.error = exc
            self.state = FAILED
            self._buf = bytearray()
        return bytes(out)

    def _frame_into(self, out: bytearray) -> None:
        buf = self._buf
        while buf:
            state = self.state
            if state == HEAD:
                if not self._head(buf, out):
                    break
            elif state == LENGTH:
                take = min(self._remaining, len(buf))
                out += buf[:take]
                del buf[:take]
                self._remaining -= take
                if not self._remaining:
                    self.state = self._after_body
            elif state == CHUNKED:
                reader = self._reader
                assert reader is not None
                used = reader.step(buf, 0)
                out += buf[:used]
                del buf[:used]
                reader.body.clear()  # forwarded already; only the framing matters here
                if reader.error is not None:
                    raise BadRequest(400, f"bad chunked request body: {reader.error}")
                if not reader.done:
                    break
                self._reader = None
                self.state = self._after_body
            else:  # WAIT_UPGRADE or TUNNEL (bytes after a 101 leave through upgraded())
                break

    def _head(self, buf: bytearray, out: bytearray) -> bool:
        end, body_start = head_end(buf)
        if end < 0:
            if len(buf) > self.max_head:
                raise BadRequest(431, f"request head larger than {self.max_head} bytes")
            return False
        if body_start > self.max_head:
            raise BadRequest(431, f"request head larger than {self.max_head} bytes")
        raw = bytes(buf[:end])
        head = parse_head(raw, request=True)
        if isinstance(head, str):
            raise BadRequest(400, head)
        if head.get("transfer-encoding") is not None and head.get("content-length") is not None:
            raise BadRequest(400, "both Transfer-Encoding and Content-Length")
        framing = body_framing(head, request=True)
        if isinstance(framing, str):
            raise BadRequest(400, framing)
        assert head.method is not None and head.target is not None
        if head.method == "CONNECT":
            raise BadRequest(405, "CONNECT is not forwarded by a reverse proxy")
        upgrade = head.get("upgrade") is not None and "upgrade" in {
            token.lower() for token in head.all("connection")
        }
        out += self.rewrite(raw, head)
        del buf[:body_start]
        self.pending.append(Pending(head.method, head.target, upgrade))
        self.last_target = head.target
        self._after_body = WAIT_UPGRADE if upgrade else HEAD
        kind, length = framing
        if kind == "chunked":
            self._reader = BodyReader(_UNLIMITED)  # passed on as it comes, never held
            self.state = CHUNKED
        elif length:
            self._remaining = length
            self.state = LENGTH
        else:
            self.state = self._after_body
        return True


#: What :meth:`ResponseWatcher.feed` reports.
UPGRADED, REFUSED = "upgraded", "refused"


class ResponseWatcher:
    """The server-to-client side: follows responses (which pass unchanged) to see where each
    ends and whether one switches protocols.

    :meth:`feed` returns ``(UPGRADED, pending)`` when a 101 arrived (the rest of the stream
    is the tunnel's), ``(REFUSED, pending)`` when an upgrade request got another final
    answer, else ``None``. It never raises: a response it cannot frame makes it stop
    watching (the bytes still pass), and ``lost`` says why.
    """

    def __init__(self, pending: deque[Pending], *, max_head: int = MAX_HEAD) -> None:
        self.pending = pending
        self.max_head = max_head
        self.state = HEAD
        self.lost: str | None = None
        self._buf = bytearray()
        self._remaining = 0
        self._reader: BodyReader | None = None

    @property
    def idle(self) -> bool:
        """Every forwarded request has had its whole response."""
        return self.state == HEAD and not self._buf and not self.pending

    def feed(self, data: bytes) -> tuple[str, Pending] | None:
        state = self.state
        if state in (TUNNEL, _CLOSE, _BLIND):
            return None
        if state == LENGTH and not self._buf:
            # Fast path for a body: count it off without copying.
            if len(data) <= self._remaining:
                self._remaining -= len(data)
                if not self._remaining:
                    self.state = HEAD
                return None
            data = data[self._remaining :]
            self._remaining = 0
            self.state = HEAD
        self._buf += data
        return self._frame()

    def _frame(self) -> tuple[str, Pending] | None:
        buf = self._buf
        verdict: tuple[str, Pending] | None = None
        while buf:
            state = self.state
            if state == HEAD:
                end, body_start = head_end(buf)
                if end < 0:
                    if len(buf) > self.max_head:
                        self._lose(f"response head larger than {self.max_head} bytes")
                    return verdict
                head = parse_head(bytes(buf[:end]), request=False)
                if isinstance(head, str):
                    self._lose(head)
                    return verdict
                del buf[:body_start]
                status = head.status or 0
                if status == 101:
                    upgraded = self.pending.popleft() if self.pending else Pending("GET", "", True)
                    self.state = TUNNEL
                    buf.clear()
                    return UPGRADED, upgraded
                if status < 200:
                    continue  # 100 Continue and the like: the final answer follows
                request = self.pending.popleft() if self.pending else None
                framing = body_framing(
                    head, request=False, request_method=request.method if request else None
                )
                if isinstance(framing, str):
                    self._lose(framing)
                    return verdict
                kind, length = framing
                if kind == "chunked":
                    self._reader = BodyReader(_UNLIMITED)
                    self.state = CHUNKED
                elif kind == "close":
                    self.state = _CLOSE
                    buf.clear()
                elif length:
                    self._remaining = length
                    self.state = LENGTH
                if request is not None and request.upgrade:
                    verdict = (REFUSED, request)
            elif state == LENGTH:
                take = min(self._remaining, len(buf))
                del buf[:take]
                self._remaining -= take
                if not self._remaining:
                    self.state = HEAD
            elif state == CHUNKED:
                reader = self._reader
                assert reader is not None
                used = reader.step(buf, 0)
                del buf[:used]
                reader.body.clear()
                if reader.error is not None:
                    self._lose(f"bad chunked response body: {reader.error}")
                    return verdict
                if not reader.done:
                    return verdict
                self._reader = None
                self.state = HEAD
            else:
                buf.clear()
        return verdict

    def _lose(self, why: str) -> None:
        self.lost = why
        self.state = _BLIND
        self._buf = bytearray()
