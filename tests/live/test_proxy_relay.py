"""The relay against real peers on 127.0.0.1, through the proxy's child process: what the
upstream receives (``X-Forwarded-*`` added, ``Host`` kept, the upstream path prefix, bodies
intact on keep-alive and pipelined connections), the answers the proxy gives itself (502,
400/405/431) with their error records, and a WebSocket with permessage-deflate negotiated
end to end between a Python client and a Node ``ws`` server."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import io
import json
import random
import socket
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import aiohttp
import attrs
import pytest
import trustme
from ioproto_http.records import Chunk, ChunkKind
from livehelp import Proxy, Server, node_ok

from ioproto.model import ErrorRecord

# -- an HTTP upstream that tells what it received --------------------------------------------


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with JSON of its request line, path, headers (in order),
    trailers, body length and body digest, and the port of the connection it came on."""

    protocol_version = "HTTP/1.1"  # keep-alive

    def answer(self) -> None:
        trailers: list[tuple[str, str]] = []
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self.read_chunked(trailers)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = json.dumps(
            {
                "requestline": self.requestline,
                "path": self.path,
                "headers": [[name.lower(), value] for name, value in self.headers.items()],
                "trailers": trailers,
                "body_length": len(body),
                "body_sha256": hashlib.sha256(body).hexdigest(),
                "peer_port": self.client_address[1],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = answer

    def read_chunked(self, trailers: list[tuple[str, str]]) -> bytes:
        body = bytearray()
        while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
            body += self.rfile.read(size)
            self.rfile.readline()
        while (line := self.rfile.readline().strip()) != b"":
            name, _, value = line.decode("latin-1").partition(":")
            trailers.append((name.lower(), value.strip()))
        return bytes(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@attrs.frozen
class Received:
    """What the upstream said it received."""

    requestline: str
    path: str
    headers: list[tuple[str, str]]
    trailers: list[tuple[str, str]]
    body_length: int
    body_sha256: str
    peer_port: int

    @classmethod
    def parse(cls, body: bytes) -> Received:
        data = json.loads(body)
        return cls(
            requestline=data["requestline"],
            path=data["path"],
            headers=[(name, value) for name, value in data["headers"]],
            trailers=[(name, value) for name, value in data["trailers"]],
            body_length=data["body_length"],
            body_sha256=data["body_sha256"],
            peer_port=data["peer_port"],
        )

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def one(self, name: str) -> str:
        values = self.all(name)
        assert len(values) == 1, (name, self.headers)
        return values[0]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    thread = threading.Thread(target=server.serve_forever, name="echo-upstream", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def proxy(upstream: str) -> Iterator[Proxy]:
    with Proxy(upstream) as running:
        yield running


def address(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("http://").partition(":")
    return host, int(port)


def connect(proxy: Proxy) -> http.client.HTTPConnection:
    host, port = address(proxy.url)
    return http.client.HTTPConnection(host, port, timeout=10)


def get(proxy: Proxy, target: str) -> tuple[int, bytes]:
    """``GET target`` through ``proxy`` on a new connection: the status and the body."""
    conn = connect(proxy)
    try:
        conn.request("GET", target)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def fetch(
    conn: http.client.HTTPConnection,
    method: str,
    target: str,
    body: bytes | Iterator[bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> Received:
    conn.request(
        method,
        target,
        body=body,
        headers=headers or {},
        encode_chunked=body is not None and not isinstance(body, bytes),
    )
    response = conn.getresponse()
    assert response.status == 200
    return Received.parse(response.read())


def errors(records: list[object]) -> list[ErrorRecord]:
    return [record for record in records if isinstance(record, ErrorRecord)]


POLL = "/socket.io/?EIO=4&transport=polling&sid=abc"


# -- what the upstream receives --------------------------------------------------------------


def test_forwarded_headers_are_added(proxy: Proxy) -> None:
    """The upstream gets the client's address in ``X-Forwarded-For``, ``X-Forwarded-Proto:
    http``, the ``Host`` the client sent both unchanged and as ``X-Forwarded-Host``, and the
    request line as it was."""
    conn = connect(proxy)
    try:
        got = fetch(conn, "GET", "/plain?q=1&r=%2F")
    finally:
        conn.close()
    host, port = address(proxy.url)
    assert got.requestline == "GET /plain?q=1&r=%2F HTTP/1.1"
    assert got.one("host") == f"{host}:{port}"
    assert got.one("x-forwarded-for") == "127.0.0.1"
    assert got.one("x-forwarded-proto") == "http"
    assert got.one("x-forwarded-host") == f"{host}:{port}"
    assert errors(proxy.drain(quiet=0.1)) == []


def test_incoming_forwarded_headers_are_appended_to_or_replaced(proxy: Proxy) -> None:
    """An incoming ``X-Forwarded-For`` gets the client's address appended; the client's own
    ``X-Forwarded-Proto``/``-Host`` (and any other ``X-Forwarded-*``) are replaced or
    dropped; a ``Host`` the client chose is kept and becomes ``X-Forwarded-Host``."""
    conn = connect(proxy)
    try:
        got = fetch(
            conn,
            "GET",
            "/spoof",
            headers={
                "Host": "app.example:8443",
                "X-Forwarded-For": "10.0.0.1",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Host": "evil.example",
                "X-Forwarded-Port": "1",
                "X-Other": "kept",
            },
        )
    finally:
        conn.close()
    assert got.one("x-forwarded-for") == "10.0.0.1, 127.0.0.1"
    assert got.one("x-forwarded-proto") == "http"
    assert got.one("x-forwarded-host") == "app.example:8443"
    assert got.one("host") == "app.example:8443"
    assert got.all("x-forwarded-port") == []
    assert got.one("x-other") == "kept"


@pytest.mark.parametrize("prefix", ["/base", "/base/"])
def test_the_upstream_path_prefixes_the_target(upstream: str, prefix: str) -> None:
    """With an upstream URL ``http://host:port/base`` (trailing slash or not) every request
    path gets ``/base`` in front, the query kept."""
    with Proxy(upstream + prefix) as prefixed:
        conn = connect(prefixed)
        try:
            first = fetch(conn, "GET", "/socket.io/?EIO=4&transport=polling")
            root = fetch(conn, "GET", "/")
        finally:
            conn.close()
    assert first.path == "/base/socket.io/?EIO=4&transport=polling"
    assert root.path == "/base/"
    assert first.one("x-forwarded-for") == "127.0.0.1"


def test_requests_on_one_keep_alive_connection(proxy: Proxy) -> None:
    """Every request of a keep-alive connection is rewritten, bodies (with a length or
    chunked) arrive intact, all on one upstream connection."""
    body = random.Random(1).randbytes(200_000)
    parts = [body[:1], body[1:70_000], body[70_000:]]
    conn = connect(proxy)
    try:
        got = [
            fetch(conn, "GET", "/one"),
            fetch(conn, "POST", "/two", body=body),
            fetch(conn, "POST", "/three", body=iter(parts)),
            fetch(conn, "GET", "/four", headers={"X-Forwarded-For": "10.0.0.1"}),
        ]
    finally:
        conn.close()
    assert [g.path for g in got] == ["/one", "/two", "/three", "/four"]
    assert [g.body_length for g in got] == [0, len(body), len(body), 0]
    digest = hashlib.sha256(body).hexdigest()
    assert got[1].body_sha256 == got[2].body_sha256 == digest
    assert got[2].one("transfer-encoding") == "chunked"
    assert [g.one("x-forwarded-for") for g in got] == ["127.0.0.1"] * 3 + ["10.0.0.1, 127.0.0.1"]
    assert all(g.one("x-forwarded-proto") == "http" for g in got)
    assert len({g.peer_port for g in got}) == 1
    assert proxy.process.dropped_bytes == 0
    assert errors(proxy.drain(quiet=0.1)) == []


def read_response(stream: io.BufferedIOBase) -> tuple[int, bytes]:
    """One ``Content-Length`` response from the buffered socket file ``stream``."""
    status = int(stream.readline().split()[1])
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, stream.read(length)


def raw_exchange(proxy: Proxy, data: bytes, answers: int) -> list[tuple[int, bytes]]:
    """Send ``data`` at once on a new connection and read ``answers`` responses."""
    with socket.create_connection(address(proxy.url), timeout=10) as sock:
        sock.sendall(data)
        with sock.makefile("rb") as stream:
            return [read_response(stream) for _ in range(answers)]


def test_pipelined_requests_from_a_raw_socket(proxy: Proxy) -> None:
    """Requests sent back to back in one write (a GET, a POST with a length, a chunked
    POST with an extension and a trailer, a GET) are each rewritten and answered in order,
    their bodies intact."""
    pipelined = (
        b"GET /a HTTP/1.1\r\nHost: h1\r\n\r\n"
        b"POST /b HTTP/1.1\r\nHost: h2\r\nContent-Length: 11\r\n\r\nhello\r\n\r\nGE"
        b"POST /c HTTP/1.1\r\nHost: h3\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4;ext=1\r\nwiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Sum: 23\r\n\r\n"
        b"GET /d HTTP/1.1\r\nHost: h4\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"
    )
    answers = raw_exchange(proxy, pipelined, 4)
    assert [status for status, _ in answers] == [200] * 4
    got = [Received.parse(body) for _, body in answers]
    assert [g.path for g in got] == ["/a", "/b", "/c", "/d"]
    assert [g.body_length for g in got] == [0, 11, 23, 0]
    assert got[1].body_sha256 == hashlib.sha256(b"hello\r\n\r\nGE").hexdigest()
    assert got[2].body_sha256 == hashlib.sha256(b"wikipedia in\r\n\r\nchunks.").hexdigest()
    assert got[2].trailers == [("x-sum", "23")]
    assert [g.one("x-forwarded-host") for g in got] == ["h1", "h2", "h3", "h4"]
    assert [g.one("x-forwarded-for") for g in got] == ["127.0.0.1"] * 3 + ["10.0.0.1, 127.0.0.1"]
    assert len({g.peer_port for g in got}) == 1
    assert errors(proxy.drain(quiet=0.1)) == []


def test_a_refused_upgrade_goes_on_as_http(proxy: Proxy) -> None:
    """A server that answers an upgrade request with a plain 200 gets the pipelined request
    held behind it afterwards, rewritten; the tap reports ``proxy.upstream.ws-refused``."""
    proxy.drain(quiet=0.05)
    data = (
        b"GET /ws?sid=s1&transport=websocket HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
        b"GET /after HTTP/1.1\r\nHost: h\r\n\r\n"
    )
    answers = raw_exchange(proxy, data, 2)
    got = [Received.parse(body) for _, body in answers]
    assert [g.path for g in got] == ["/ws?sid=s1&transport=websocket", "/after"]
    assert got[1].one("x-forwarded-for") == "127.0.0.1"
    refused = [e for e in errors(proxy.drain()) if e.rule == "proxy.upstream.ws-refused"]
    assert [(e.layer, e.sid, e.transport) for e in refused] == [("proxy", "s1", "websocket")]


# -- answers of the proxy itself -------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_unreachable_upstream_is_a_502() -> None:
    """When the upstream cannot be reached the client gets a 502 and the records an
    ``ErrorRecord`` ``proxy.upstream.unreachable`` with the session of the request."""
    with Proxy(f"http://127.0.0.1:{closed_port()}") as down:
        status, body = get(down, "/socket.io/?EIO=4&transport=polling&sid=abc")
        records = down.drain()
    assert status == 502
    assert body.startswith(b"ioproto proxy: cannot reach")
    unreachable = [e for e in errors(records) if e.rule == "proxy.upstream.unreachable"]
    assert [(e.layer, e.sid, e.transport) for e in unreachable] == [("proxy", "abc", "polling")]


def test_a_client_reset_cuts_its_request_with_a_reset(upstream: str) -> None:
    """A client that resets its connection (an RST: SO_LINGER 0) in the middle of a body:
    the relay's close says ``reset``, and the body is cut short "by a reset of the
    connection (RST)" (before: "the connection closing without a FIN from this side")."""
    head = f"POST {POLL} HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n".encode()
    with Proxy(upstream, all_http="true") as proxy:
        sock = socket.create_connection(address(proxy.url), timeout=10)
        sock.sendall(head + b"4hell")
        time.sleep(0.3)  # relayed before the reset
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        records = proxy.drain(quiet=0.5)
    assert [(e.rule, e.direction, e.reason) for e in errors(records)] == [
        (
            "capture.http.invalid",
            "c2s",
            "message cut short by a reset of the connection (RST) (5 of the 12 bytes of a body)",
        )
    ]


def test_a_client_that_resets_after_its_fin_is_a_reset() -> None:
    """A client that sends its request and FIN, then resets (SO_LINGER 0) before the answer
    comes: the kernel reports the relay's write of the answer as EPIPE (an RST in
    CLOSE_WAIT), not ECONNRESET, and the close said ``closed``, as if both sides had ended
    it with a FIN."""
    from ioproto_tcp.records import TcpClose

    reset = threading.Event()
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def answer_late() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                reset.wait(10)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                time.sleep(0.3)

        upstream = threading.Thread(target=answer_late, daemon=True)
        upstream.start()
        with Proxy(f"http://127.0.0.1:{listener.getsockname()[1]}") as proxy:
            sock = socket.create_connection(address(proxy.url), timeout=10)
            sock.sendall(f"GET {POLL} HTTP/1.1\r\nHost: h\r\n\r\n".encode())
            sock.shutdown(socket.SHUT_WR)
            time.sleep(0.3)  # the FIN relayed: the proxy's side is in CLOSE_WAIT
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            reset.set()
            upstream.join(10)
            closes = []
            while batch := list(proxy.process.records(timeout=0.5)):
                closes += [record for record in batch if isinstance(record, TcpClose)]
    assert [close.reason for close in closes] == ["reset"]


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The echo upstream over TLS, with a certificate for ``localhost`` from a throwaway CA;
    yields its URL and the CA's PEM file."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="tls-upstream", daemon=True)
    thread.start()
    yield f"https://localhost:{server.server_port}", str(ca_file)
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_an_https_upstream_is_reached_over_tls(tls_upstream: tuple[str, str]) -> None:
    """With the upstream's CA (``upstream_ca``) requests go through TLS to the server, keep
    their bodies, and are decoded from the client's plain hop."""
    url, ca_file = tls_upstream
    with Proxy(url, upstream_ca=ca_file) as tls:
        conn = connect(tls)
        try:
            first = fetch(conn, "GET", "/socket.io/?EIO=4&transport=polling", headers={"Host": "h"})
            second = fetch(conn, "POST", "/x", body=b"over tls")
        finally:
            conn.close()
        records = tls.drain()
    assert first.one("x-forwarded-proto") == "http"  # the client's hop is plain HTTP
    assert (second.path, second.body_length) == ("/x", 8)
    assert errors(records) == []
    assert any(isinstance(r, Chunk) and r.kind is ChunkKind.HTTP_REQUEST for r in records)


def test_a_client_that_half_closes_still_gets_its_answer_over_tls(
    tls_upstream: tuple[str, str],
) -> None:
    """A client may shut down its sending side right after its request; TLS cannot pass
    that on, and the answer must still come back."""
    url, ca_file = tls_upstream
    with Proxy(url, upstream_ca=ca_file) as tls:
        answer = bad_request_exchange(
            tls, b"GET /half HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        )
    status, body = read_response(io.BytesIO(answer))
    assert (status, Received.parse(body).path) == (200, "/half")


def test_an_https_upstream_with_an_unknown_ca_is_a_502(tls_upstream: tuple[str, str]) -> None:
    """Without its CA the upstream's certificate is not trusted: 502, and the record says
    why."""
    url, _ = tls_upstream
    with Proxy(url) as untrusting:
        status, body = get(untrusting, "/")
        records = untrusting.drain()
    assert status == 502
    assert b"certificate" in body.lower()
    assert [e.rule for e in errors(records)] == ["proxy.upstream.unreachable"]


BAD_REQUESTS = [
    pytest.param(b"NOT HTTP\r\n\r\n", 400, id="garbage"),
    pytest.param(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
        id="length-and-chunked",
    ),
    pytest.param(b"CONNECT example.test:443 HTTP/1.1\r\nHost: h\r\n\r\n", 405, id="connect"),
    pytest.param(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000, 431, id="huge-head"),
]


@pytest.mark.parametrize(("data", "status"), BAD_REQUESTS)
def test_bad_requests_are_answered_by_the_proxy(proxy: Proxy, data: bytes, status: int) -> None:
    """Bytes the proxy cannot forward get its own answer (400, 405, 431) with
    ``Connection: close``, and an ``ErrorRecord`` ``proxy.request.invalid``."""
    proxy.drain(quiet=0.05)
    answer = bad_request_exchange(proxy, data)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b"\r\nConnection: close" in head
    assert body.startswith(b"ioproto proxy: ")
    invalid = [e for e in errors(proxy.drain()) if e.rule == "proxy.request.invalid"]
    assert [e.layer for e in invalid] == ["proxy"]


def test_a_bad_request_behind_good_ones_is_answered_after_them(proxy: Proxy) -> None:
    """A bad request pipelined behind valid ones in the same write: the valid ones are
    forwarded and answered first, then the proxy's 400, so no answer is paired with the
    wrong request."""
    proxy.drain(quiet=0.05)
    answer = bad_request_exchange(
        proxy,
        b"GET /first HTTP/1.1\r\nHost: h\r\n\r\n"
        b"POST /second HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        b"NOT HTTP\r\n\r\n",
    )
    stream = io.BytesIO(answer)
    first, second, third = (read_response(stream) for _ in range(3))
    assert (first[0], Received.parse(first[1]).path) == (200, "/first")
    assert (second[0], Received.parse(second[1]).body_length) == (200, 3)
    assert third[0] == 400 and third[1].startswith(b"ioproto proxy: ")
    invalid = [e for e in errors(proxy.drain()) if e.rule == "proxy.request.invalid"]
    assert len(invalid) == 1


def bad_request_exchange(proxy: Proxy, data: bytes) -> bytes:
    with socket.create_connection(address(proxy.url), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_a_non_ascii_digit_content_length_is_a_400(upstream: str) -> None:
    """``Content-Length: \xb2`` (a latin-1 superscript two) is answered 400 with a
    ``proxy.request.invalid`` record, like any other bad length."""
    with Proxy(upstream) as own:
        answer = bad_request_exchange(
            own, b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \xb2\r\n\r\n"
        )
        records = own.drain()
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    # The decoder finds the same bytes invalid, the proxy says it answered them.
    assert sorted(e.rule for e in errors(records)) == [
        "capture.http.invalid",
        "proxy.request.invalid",
    ]


# -- WebSocket, end to end -------------------------------------------------------------------

TEXT = "héllo wörld, " * 40
BINARY = bytes(range(256)) * 8
LARGE = random.Random(2).randbytes(300_000)


@attrs.frozen
class WsSession:
    """What the client saw of one echo session."""

    compress: int
    echoes: list[tuple[aiohttp.WSMsgType, str | bytes]]
    close_type: aiohttp.WSMsgType
    close_code: int | None
    close_reason: str | None


async def echo_session(url: str, compress: int) -> WsSession:
    echoes: list[tuple[aiohttp.WSMsgType, str | bytes]] = []
    timeout = aiohttp.ClientWSTimeout(ws_close=10)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, compress=compress, timeout=timeout) as ws,
    ):
        for message in (TEXT, BINARY, LARGE):
            if isinstance(message, str):
                await ws.send_str(message)
            else:
                await ws.send_bytes(message)
            reply = await ws.receive(timeout=10)
            echoes.append((reply.type, reply.data))
        await ws.send_str("close-me")
        closing = await ws.receive(timeout=10)
        return WsSession(ws.compress, echoes, closing.type, ws.close_code, closing.extra)


@pytest.fixture(scope="module")
def ws_server() -> Iterator[Server]:
    if not node_ok():
        pytest.skip("node or tests/node/node_modules missing")
    server = Server(["node", "ws_echo.js"])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def ws_proxy(ws_server: Server) -> Iterator[Proxy]:
    # all_http: the echo server is not Engine.IO, whose URLs the decoder keeps by default
    with Proxy(ws_server.url, all_http=True) as running:
        yield running


@pytest.mark.node
@pytest.mark.parametrize("compress", [15, 0], ids=["permessage-deflate", "uncompressed"])
def test_websocket_echo_through_the_relay(ws_proxy: Proxy, compress: int) -> None:
    """Text, binary and a 300 kB message echo unchanged through the proxy, permessage-deflate
    is negotiated between the client and the server (or not, when the client does not offer
    it), the server's close code 4001 and reason "bye" reach the client; the tap decodes
    every message (inflated) in both directions and the close frame, without error."""
    ws_proxy.drain(quiet=0.05)
    url = ws_proxy.url.replace("http://", "ws://") + "/echo?room=1"
    session = asyncio.run(echo_session(url, compress))

    assert session.compress == compress
    assert session.echoes == [
        (aiohttp.WSMsgType.TEXT, TEXT),
        (aiohttp.WSMsgType.BINARY, BINARY),
        (aiohttp.WSMsgType.BINARY, LARGE),
    ]
    assert session.close_type is aiohttp.WSMsgType.CLOSE
    assert (session.close_code, session.close_reason) == (4001, "bye")

    records = ws_proxy.drain()
    assert errors(records) == []
    assert ws_proxy.process.dropped_bytes == 0
    chunks = [record for record in records if isinstance(record, Chunk)]
    messages = [
        (chunk.kind, chunk.direction, chunk.data)
        for chunk in chunks
        if chunk.kind in (ChunkKind.WS_TEXT, ChunkKind.WS_BINARY)
    ]
    expected = []
    for kind, data in [
        (ChunkKind.WS_TEXT, TEXT.encode()),
        (ChunkKind.WS_BINARY, BINARY),
        (ChunkKind.WS_BINARY, LARGE),
    ]:
        expected += [(kind, "c2s", data), (kind, "s2c", data)]
    expected.append((ChunkKind.WS_TEXT, "c2s", b"close-me"))
    assert messages == expected
    closes = [
        chunk.data
        for chunk in chunks
        if chunk.kind is ChunkKind.WS_CONTROL and chunk.direction == "s2c"
    ]
    assert closes == [(4001).to_bytes(2, "big") + b"bye"]
    http = chunks[0].http
    assert http is not None and http.status == 101 and http.path == "/echo"
    extensions = http.header("sec-websocket-extensions")
    if compress:
        assert extensions is not None and "permessage-deflate" in extensions
    else:
        assert extensions is None


@pytest.mark.node
def test_ws_compression_off_removes_the_offer(ws_server: Server) -> None:
    """With ``ws_compression`` off the client's permessage-deflate offer never reaches the
    server: nothing is compressed, and the echo still works."""
    with Proxy(ws_server.url, all_http=True, ws_compression=False) as plain:
        url = plain.url.replace("http://", "ws://") + "/echo"
        session = asyncio.run(echo_session(url, compress=15))
        records = plain.drain()
    assert session.compress == 0
    assert [data for _, data in session.echoes] == [TEXT, BINARY, LARGE]
    assert errors(records) == []
    upgrade = next(r for r in records if isinstance(r, Chunk)).http
    assert upgrade is not None and upgrade.header("sec-websocket-extensions") is None
    # The client's own request, as tapped, still carries its offer.
    offered = upgrade.request_headers
    assert any(name == "sec-websocket-extensions" for name, _ in offered)


def test_hostile_clients_do_not_hurt_the_proxy(proxy: Proxy) -> None:
    """Random bytes, cut heads, valid heads followed by garbage, sent by many clients that
    then vanish: the relay answers or drops each, and a normal request still works."""
    proxy.drain(quiet=0.05)
    rng = random.Random(6)
    valid = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
    for _ in range(60):
        cut = rng.randrange(len(valid))
        data = rng.choice(
            [
                rng.randbytes(rng.randrange(1, 300)),
                valid[:cut],
                valid + rng.randbytes(rng.randrange(1, 100)),
                valid[:cut] + rng.randbytes(20) + valid[cut:],
            ]
        )
        with socket.create_connection(address(proxy.url), timeout=10) as sock:
            sock.sendall(data)
            if rng.random() < 0.5:
                sock.shutdown(socket.SHUT_WR)
                sock.settimeout(2)
                try:
                    while sock.recv(65536):
                        pass
                except OSError:
                    pass
    records = proxy.drain()
    assert not [r for r in errors(records) if r.rule.endswith(".internal") or "crash" in r.rule]
    assert not proxy.process.exited
    conn = connect(proxy)
    try:
        assert fetch(conn, "GET", "/after").path == "/after"
    finally:
        conn.close()


def test_slowloris_clients_are_timed_out(upstream: str) -> None:
    """Issue 11, item 13: clients that dribble a request head (or send nothing) held their
    connections for as long as they liked (200 of them for 75 s). With ``head_timeout`` each
    is answered 408 and closed; a client whose request is complete is not."""
    with Proxy(upstream, head_timeout=1.0) as proxy:
        started = time.monotonic()
        slow = [socket.create_connection(address(proxy.url), timeout=10) for _ in range(50)]
        for sock in slow[:40]:
            sock.sendall(b"GET /slow HTTP/1.1\r\nHost: h\r\n")  # never finished
        conn = connect(proxy)
        try:
            # a keep-alive client that asks in time is served
            assert fetch(conn, "GET", "/in-time").path == "/in-time"
            answers = []
            for sock in slow:
                sock.settimeout(10)
                received = b""
                while chunk := sock.recv(65536):
                    received += chunk
                answers.append(received)
                sock.close()
            took = time.monotonic() - started
        finally:
            conn.close()
        assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers[:3]
        assert took < 8, f"the slow clients were held {took:.1f} s"
        records = proxy.drain()
        timeouts = [r for r in errors(records) if r.rule == "proxy.request.timeout"]
        assert len(timeouts) == 50
