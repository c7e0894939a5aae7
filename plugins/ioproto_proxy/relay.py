"""The reverse proxy: a TCP relay that understands just enough HTTP.

Each client connection gets its own upstream connection, and bytes are copied between the
two as they arrive. Only request heads are rewritten (the path gets the upstream URL's
prefix; ``X-Forwarded-For`` is appended to, ``X-Forwarded-Proto`` and ``X-Forwarded-Host``
are set; ``Host`` stays as the client sent it). Everything else passes unchanged: bodies,
responses, compression, and after a ``101 Switching Protocols`` the WebSocket frames in both
directions, so extensions such as permessage-deflate are negotiated end to end (unless
``ws_compression`` is false: then the client's ``Sec-WebSocket-Extensions`` offer is removed
and nothing is compressed). That is why
the proxy is cheap: a forwarded WebSocket message costs one read and one write, never a
parse, and the decoding happens in another process from the copies the tap sends there.

The tap (a :class:`TapWriter`) sees each connection's life: ``open``, the bytes of each
direction as the client's hop carried them (``data``, side 0 client to server, side 1 server
to client), half-closes (``fin``), ``close``, and the proxy's own ``error`` reports. Reading
from a side pauses while the other side's write buffer is full, so a slow peer slows only
its own connection, and memory stays bounded.

A client that keeps a connection open without completing a request head (slowloris: a byte
every few seconds, or nothing at all) is answered ``408 Request Timeout`` and closed once no
complete head arrived for ``head_timeout`` seconds (at most twice that after its last head)
while nothing it asked for is still being answered; the tap reports ``proxy.request.timeout``.
A WebSocket, a body being sent or a response awaited is never timed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from typing import Protocol, cast
from urllib.parse import urlsplit

from ioproto_http.framing import Head

from ioproto.listening import hostport

from .framing import (
    HEAD,
    REFUSED,
    TUNNEL,
    UPGRADED,
    WAIT_UPGRADE,
    RequestFramer,
    ResponseWatcher,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Write buffer size above which the peer's reading pauses.
HIGH_WATER = 256 * 1024
#: Seconds a client may take to send a complete request head (slowloris defence).
DEFAULT_HEAD_TIMEOUT = 30.0
_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
}


class TapWriter(Protocol):
    """What the relay reports, in order, for every connection; no method may block or raise.

    ``conn`` numbers connections from 1; ``side`` is 0 for what the client sent, 1 for what
    the client received; ``reason`` is the ``TcpClose`` reason (``reset``: a peer reset its
    connection).
    """

    def open(self, conn: int, ts: float, client: str, server: str) -> None: ...

    def data(self, conn: int, side: int, ts: float, data: bytes) -> None: ...

    def fin(self, conn: int, side: int, ts: float) -> None: ...

    def close(self, conn: int, ts: float, reason: str = "closed") -> None: ...

    def error(self, conn: int, ts: float, rule: str, reason: str, target: str | None) -> None: ...


class Upstream:
    """Where the relay connects: ``http://`` or ``https://`` host, port (1 to 65535) and path
    prefix (``localhost:3000`` means ``http://localhost:3000``, ``3000``
    ``http://127.0.0.1:3000``).

    A :class:`ValueError` naming the value as ``name`` (``upstream``, ``--upstream``) says
    what is wrong with a URL not taken, and what was meant by a mistyped scheme
    (``http//host``, ``http:/host``). An ``https://`` upstream's certificate is verified
    against the system's CAs, or against ``ca_file`` (a PEM bundle, e.g. the CA of a
    development server's self-signed certificate) when given; :class:`OSError` when that
    file cannot be loaded."""

    def __init__(self, url: str, ca_file: str | None = None, name: str = "upstream") -> None:
        url = _full_url(url, name)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{name} must be an http:// or https:// URL such as http://127.0.0.1:3000, "
                f"not {url!r}"
            )
        self.url = url
        self.host = parts.hostname
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0:
            raise ValueError(f"{name} {url!r} has a bad port: give one from 1 to 65535")
        self.port = port or (443 if parts.scheme == "https" else 80)
        self.tls = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        self.prefix = parts.path.rstrip("/").encode("latin-1")
        self.address = hostport(self.host, self.port)

    def is_at(
        self, host: str, port: int, *, local: Callable[[IPAddress], bool] | None = None
    ) -> bool:
        """Whether connecting to this upstream reaches whoever listens on ``host``:``port``
        (the same port and an address in common; for a wildcard ``host``, 0.0.0.0 or ::,
        an upstream at any address of this machine: ``local``, by default
        :func:`is_this_machine`). A name that does not resolve has no address in common."""
        if port != self.port:
            return False
        mine = _connected(_addresses(self.host))
        listen = _addresses(host)
        if not host or (listen and all(address.is_unspecified for address in listen)):
            return any(map(local or is_this_machine, mine))
        return bool(mine & _connected(listen))


def is_this_machine(address: IPAddress) -> bool:
    """Whether ``address`` is one of this machine's own: loopback, or an interface's (as
    psutil lists them where it is installed, else an address a socket can be bound to)."""
    if address.is_loopback:
        return True
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        # Binding sends nothing; it fails (EADDRNOTAVAIL) for an address of another machine.
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.bind((str(address), 0))
        except OSError:
            return False
        return True
    return any(
        _ip(entry.address) == address
        for entries in psutil.net_if_addrs().values()
        for entry in entries
        if entry.family in (socket.AF_INET, socket.AF_INET6)
    )


#: A scheme whose ``://`` lost a character or two: ``http//``, ``http:/``, ``https:``.
_MISTYPED_SCHEME = re.compile(r"(https?)(?::/?|//?)(?=[^/])", re.IGNORECASE)


def _full_url(text: str, name: str) -> str:
    """``text`` with the scheme (and host) it stands for: a port is one of this machine, a
    URL without a scheme is http://, as a browser's address bar takes it. A mistyped
    scheme is a :class:`ValueError` that says what was meant."""
    url = text.strip()
    if url.isdigit():
        return f"http://127.0.0.1:{url}"
    if "://" in url:
        return url
    mistyped = _MISTYPED_SCHEME.match(url)
    if mistyped is not None:
        scheme, rest = mistyped.group(1).lower(), url[mistyped.end() :]
        meant = f"{scheme}://" + (f"127.0.0.1:{rest}" if rest.isdigit() else rest)
        raise ValueError(f"{name} {text!r} is not an {scheme}:// URL (did you mean {meant}?)")
    return "http://" + url


def _addresses(host: str) -> set[IPAddress]:
    """The IP addresses ``host`` resolves to (none when it does not)."""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return set()
    addresses = set()
    for *_, sockaddr in found:
        with contextlib.suppress(ValueError):
            addresses.add(_ip(str(sockaddr[0])))
    return addresses


def _ip(text: str) -> IPAddress:
    """The address ``text`` names, without its scope (``%eth0``); an IPv4-mapped IPv6
    address as the IPv4 address it reaches. :class:`ValueError` for no address."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _connected(addresses: set[IPAddress]) -> set[IPAddress]:
    """Where connecting to ``addresses`` arrives: the unspecified address (0.0.0.0, ::) is
    this machine's loopback."""
    return {
        ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
        if address.is_unspecified
        else address
        for address in addresses
    }


class Relay:
    """The proxy's listener: ``start(host, port)`` binds and returns the bound address;
    ``stop()`` stops accepting and closes every connection. Both run on the relay's loop."""

    def __init__(
        self,
        upstream: str,
        tap: TapWriter,
        *,
        ws_compression: bool = True,
        upstream_ca: str | None = None,
        head_timeout: float = DEFAULT_HEAD_TIMEOUT,
    ) -> None:
        self.upstream = Upstream(upstream, upstream_ca)
        self.tap = tap
        self.ws_compression = ws_compression
        self.head_timeout = head_timeout
        self.tunnels: set[Tunnel] = set()
        self._server: asyncio.Server | None = None
        self._count = 0

    async def start(self, host: str, port: int) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._accept, host, port, backlog=1024, reuse_address=True
        )
        bound = self._server.sockets[0].getsockname()
        return str(bound[0]), int(bound[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for tunnel in list(self.tunnels):
            tunnel.shutdown()
        # Let the transports flush and report their closing.
        for _ in range(50):
            if not self.tunnels:
                break
            await asyncio.sleep(0.02)

    def _accept(self) -> End:
        self._count += 1
        tunnel = Tunnel(self, self._count)
        self.tunnels.add(tunnel)
        return tunnel.client_end

    def rewrite_head(self, raw: bytes, head: Head, peer: str) -> bytes:
        """The request head as the upstream gets it (see the module docstring)."""
        lines = raw.split(b"\n")
        method, target, version = lines[0].rstrip(b"\r").split(b" ")
        if self.upstream.prefix and target.startswith(b"/"):
            target = self.upstream.prefix + target
        out = [b" ".join((method, target, version))]
        keep = True
        for line in lines[1:]:
            line = line.rstrip(b"\r")
            if line[:1] in (b" ", b"\t"):  # a folded continuation belongs to the line above
                if keep:
                    out.append(line)
                continue
            lowered = line[:25].lower()
            keep = not lowered.startswith(b"x-forwarded-") and (
                self.ws_compression or not lowered.startswith(b"sec-websocket-extensions:")
            )
            if keep and line:
                out.append(line)
        forwarded_for = ", ".join([*head.all("x-forwarded-for"), peer])
        out.append(b"X-Forwarded-For: " + forwarded_for.encode("latin-1"))
        out.append(b"X-Forwarded-Proto: http")
        host = head.get("host")
        if host:
            out.append(b"X-Forwarded-Host: " + host.encode("latin-1"))
        out.append(b"\r\n")
        return b"\r\n".join(out)


class Tunnel:
    """One client connection and its upstream connection."""

    def __init__(self, relay: Relay, conn: int) -> None:
        self.relay = relay
        self.tap = relay.tap
        self.conn = conn
        self.client_end = End(self, client=True)
        self.upstream_end = End(self, client=False)
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.peer = "unknown"
        self.framer = RequestFramer(self._rewrite)
        self.watcher = ResponseWatcher(self.framer.pending)
        self._client_holds: set[str] = set()
        self._held: list[bytes] = []  # for the upstream, until it is connected
        self._failed: str | None = None
        self._eof = [False, False]
        self._closed = False
        self._connecting: asyncio.Task[None] | None = None
        self._heads = 0  # request heads completed so far
        self._head_timer: asyncio.TimerHandle | None = None

    # -- client side -------------------------------------------------------------------------

    def client_made(self, transport: asyncio.Transport) -> None:
        self.client = transport
        transport.set_write_buffer_limits(HIGH_WATER)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and len(peer) >= 2:
            host, port = str(peer[0]), int(peer[1])
            self.peer = host
            address = hostport(host, port)
        else:
            address = "unknown:0"
        self.tap.open(self.conn, time.time(), address, self.relay.upstream.address)
        self._connecting = asyncio.ensure_future(self._connect())
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        timeout = self.relay.head_timeout
        if timeout > 0 and not self._closed:
            loop = asyncio.get_running_loop()
            self._head_timer = loop.call_later(timeout, self._check_head, self._heads)

    def _check_head(self, heads_before: int) -> None:
        """Time out a client that completed no request head since the timer was armed."""
        self._head_timer = None
        if self._closed or self.framer.state == TUNNEL:
            return
        waiting = self.framer.state == HEAD and not self.framer.pending
        if waiting and self._heads == heads_before:
            timeout = self.relay.head_timeout
            self._answer(
                408, f"no complete request head within {timeout:g} s", "proxy.request.timeout"
            )
            return
        self._arm_head_timer()

    def client_data(self, data: bytes) -> None:
        self.tap.data(self.conn, 0, time.time(), data)
        framer = self.framer
        if framer.state == TUNNEL:  # the hot path of a WebSocket, kept to one write
            self._send_upstream(data)
            return
        out = framer.feed(data)
        if self._failed is not None and framer.pending:
            self._answer(502, self._failed, "proxy.upstream.unreachable")
            return
        self._send_upstream(out)
        if framer.error is not None:
            self._refuse_when_answered()
        elif framer.state == WAIT_UPGRADE:
            # Until the server answers the upgrade, bytes can only pile up: stop reading.
            self._hold_client("upgrade", True)

    def client_eof(self) -> None:
        self._eof[0] = True
        self.tap.fin(self.conn, 0, time.time())
        if self.upstream is not None:
            self._pass_eof(self.upstream)
        self._maybe_done()

    # -- upstream side -----------------------------------------------------------------------

    async def _connect(self) -> None:
        upstream = self.relay.upstream
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(
                lambda: self.upstream_end,
                upstream.host,
                upstream.port,
                ssl=upstream.tls,
                server_hostname=upstream.host if upstream.tls else None,
            )
        except (OSError, ssl.SSLError) as exc:
            self._failed = f"cannot reach {upstream.url}: {exc.strerror or exc}"
            if self.framer.pending:
                self._answer(502, self._failed, "proxy.upstream.unreachable")
            elif self._eof[0]:
                self._finish()
            else:
                self._hold_client("connecting", False)  # read the request, to answer it 502

    def upstream_made(self, transport: asyncio.Transport) -> None:
        if self._closed:
            transport.close()
            return
        self.upstream = transport
        transport.set_write_buffer_limits(HIGH_WATER)
        self._hold_client("connecting", False)
        held, self._held = self._held, []
        for data in held:
            transport.write(data)
        if self._eof[0]:
            self._pass_eof(transport)

    def upstream_data(self, data: bytes) -> None:
        client = self.client
        assert client is not None
        client.write(data)
        self.tap.data(self.conn, 1, time.time(), data)
        watcher = self.watcher
        if watcher.state == TUNNEL:
            return
        verdict = watcher.feed(data)
        if self.framer.error is not None:
            if watcher.idle:
                self._refuse_when_answered()
        elif verdict is not None:
            outcome, request = verdict
            if outcome == UPGRADED:
                self._hold_client("upgrade", False)
                self._send_upstream(self.framer.upgraded())
            elif outcome == REFUSED:
                self.tap.error(
                    self.conn,
                    time.time(),
                    "proxy.upstream.ws-refused",
                    "the server refused the upgrade; the connection goes on as HTTP",
                    request.target,
                )
                self._hold_client("upgrade", False)
                self._send_upstream(self.framer.refused())
        elif watcher.lost is not None and not self.framer.tunnel:
            # Responses it cannot follow: no more rewriting, bytes pass both ways as they are.
            self.tap.error(
                self.conn,
                time.time(),
                "proxy.response.unframed",
                f"cannot follow the server's responses ({watcher.lost}); relaying bytes as is",
                self.framer.last_target,
            )
            self._hold_client("upgrade", False)
            self._send_upstream(self.framer.upgraded())

    def upstream_eof(self) -> None:
        self._eof[1] = True
        self.tap.fin(self.conn, 1, time.time())
        client = self.client
        if client is not None and client.can_write_eof():
            client.write_eof()
        elif client is not None:
            client.close()
        self._maybe_done()

    # -- both --------------------------------------------------------------------------------

    def pause(self, writer: asyncio.BaseTransport) -> None:
        """``writer``'s buffer is full: stop reading from the side that fills it."""
        if writer is self.client:
            upstream = self.upstream
            if upstream is not None and not upstream.is_closing():
                upstream.pause_reading()
        else:
            self._hold_client("backpressure", True)

    def resume(self, writer: asyncio.BaseTransport) -> None:
        if writer is self.client:
            upstream = self.upstream
            if upstream is not None and not upstream.is_closing():
                upstream.resume_reading()
        else:
            self._hold_client("backpressure", False)

    def _hold_client(self, reason: str, hold: bool) -> None:
        """Stop reading from the client while any reason holds (a full upstream buffer, an
        upstream still connecting, an upgrade not yet answered), so a reason that ends does
        not undo another that still holds."""
        holds = self._client_holds
        before = bool(holds)
        if hold:
            holds.add(reason)
        else:
            holds.discard(reason)
        client = self.client
        if bool(holds) != before and client is not None and not client.is_closing():
            if holds:
                client.pause_reading()
            else:
                client.resume_reading()

    def lost(self, exc: Exception | None) -> None:
        """One side's connection is gone (``exc``: why, ``None`` for a close): close the
        other (after what it still has to send). A broken pipe is a reset too: the kernel
        says EPIPE, not ECONNRESET, for the peer's RST after its FIN (and for a write after
        the reset was reported), and the relay never writes to a side it shut itself."""
        reset = isinstance(exc, ConnectionResetError | BrokenPipeError)
        self._finish("reset" if reset else "closed")

    def shutdown(self) -> None:
        """The proxy stops: close both sides now."""
        for transport in (self.client, self.upstream):
            if transport is not None:
                transport.abort()
        self._finish()

    @staticmethod
    def _pass_eof(upstream: asyncio.Transport) -> None:
        """The client will send nothing more: tell the upstream. TLS cannot half-close, so
        there the connection stays open for the answer, and ends when the server ends it."""
        if upstream.can_write_eof():
            upstream.write_eof()

    def _send_upstream(self, data: bytes) -> None:
        if not data:
            return
        if self.upstream is not None:
            self.upstream.write(data)
        elif self._failed is None:
            # Still connecting: keep this, and leave what follows in the kernel. (Pausing
            # in connection_made would be neater, but uvloop starts reading after it.)
            self._held.append(data)
            self._hold_client("connecting", True)

    def _refuse_when_answered(self) -> None:
        """Answer the request the framer refused, once the responses to the requests before
        it have passed (answering earlier would pair our answer with one of them)."""
        error = self.framer.error
        if error is None or self._closed:
            return
        if self.watcher.idle:
            self._answer(error.status, error.reason, "proxy.request.invalid")
        else:
            self._hold_client("refused", True)  # nothing more from this client can be forwarded

    def _answer(self, status: int, reason: str, rule: str) -> None:
        """Answer the client ourselves (the request never reached the server) and close."""
        self.tap.error(self.conn, time.time(), rule, reason, self.framer.last_target)
        body = f"ioproto proxy: {reason}\n".encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        if self.client is not None and not self.client.is_closing():
            self.client.write(head.encode("latin-1") + body)
        self._finish()

    def _maybe_done(self) -> None:
        if self._eof[0] and self._eof[1]:
            self._finish()

    def _finish(self, reason: str = "closed") -> None:
        if self._closed:
            return
        self._closed = True
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        for transport in (self.client, self.upstream):
            if transport is not None:
                transport.close()
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        self.tap.close(self.conn, time.time(), reason)
        self.relay.tunnels.discard(self)

    def _rewrite(self, raw: bytes, head: Head) -> bytes:
        self._heads += 1
        return self.relay.rewrite_head(raw, head, self.peer)


class End(asyncio.Protocol):
    """The callbacks of one of a :class:`Tunnel`'s two connections, handed to the tunnel."""

    def __init__(self, tunnel: Tunnel, *, client: bool) -> None:
        self.tunnel = tunnel
        self.transport: asyncio.Transport | None = None
        # data_received is the tunnel's own method: one call less per read on the hot path.
        if client:
            self._made, self._eof = tunnel.client_made, tunnel.client_eof
            self.data_received = tunnel.client_data  # type: ignore[method-assign]
        else:
            self._made, self._eof = tunnel.upstream_made, tunnel.upstream_eof
            self.data_received = tunnel.upstream_data  # type: ignore[method-assign]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but are one.
        self.transport = cast(asyncio.Transport, transport)
        self._made(self.transport)

    def eof_received(self) -> bool:
        self._eof()
        return True  # keep the other direction open (half-close)

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.tunnel.pause(self.transport)

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.tunnel.resume(self.transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.tunnel.lost(exc)
