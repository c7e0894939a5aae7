"""The proxy's HTTP framing without sockets: :class:`RequestFramer` rewrites exactly the
request heads and passes every other byte on unchanged whatever the read boundaries, holds
what follows an upgrade request until the server's answer, and refuses what it cannot
forward; :class:`ResponseWatcher` finds where responses end and reports upgrades and
refusals the same way for any split of the stream, and never raises."""

from __future__ import annotations

import itertools
import string
from collections import deque
from collections.abc import Sequence

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_http.framing import Head
from ioproto_proxy.framing import (
    CHUNKED,
    HEAD,
    LENGTH,
    REFUSED,
    TUNNEL,
    UPGRADED,
    WAIT_UPGRADE,
    BadRequest,
    Pending,
    RequestFramer,
    ResponseWatcher,
)

SETTINGS = settings(max_examples=60, deadline=None)


def mark(raw: bytes, head: Head) -> bytes:
    """A rewrite that keeps the head and adds a header naming what it parsed."""
    seen = f"{head.method} {head.target}".encode("latin-1")
    return raw + b"\r\nX-Seen: " + seen + b"\r\n\r\n"


def marked(raw: bytes, method: str, target: str) -> bytes:
    return raw + b"\r\nX-Seen: " + f"{method} {target}".encode("latin-1") + b"\r\n\r\n"


def framer(max_head: int = 64 * 1024) -> RequestFramer:
    return RequestFramer(mark, max_head=max_head)


def refusal(framing: RequestFramer, data: bytes) -> BadRequest:
    """The :class:`BadRequest` that feeding ``data`` sets (feeding must not raise)."""
    framing.feed(data)
    assert framing.error is not None
    return framing.error


def pieces(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the offsets ``cuts`` (any order, duplicates give empty pieces)."""
    bounds = [0, *sorted(cuts), len(data)]
    return [data[start:end] for start, end in itertools.pairwise(bounds)]


def split_points(data: st.DataObject, size: int) -> list[int]:
    return data.draw(st.lists(st.integers(0, size), max_size=12), label="cuts")


# -- requests --------------------------------------------------------------------------------


@attrs.frozen
class Request:
    """One generated request: ``head`` is everything before the blank line, ``body`` the
    body as framed on the wire (chunk sizes and trailers included)."""

    method: str
    target: str
    head: bytes
    eol: bytes
    body: bytes

    @property
    def wire(self) -> bytes:
        return self.head + self.eol + self.eol + self.body


_FRAMING = {"content-length", "transfer-encoding", "connection", "upgrade"}
header_names = st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12).filter(
    lambda name: name.lower() not in _FRAMING
)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20).map(
    str.strip
)
targets = st.text(string.ascii_letters + string.digits + "/?=&%._-", max_size=20).map(
    lambda path: "/" + path
)


@st.composite
def chunked_bodies(draw: st.DrawFn, eol: bytes) -> bytes:
    """A chunked body: random chunk sizes (hex in either case, sometimes an extension),
    bytes that may look like HTTP themselves, and optional trailers."""
    out = bytearray()
    for chunk in draw(st.lists(st.binary(min_size=1, max_size=40), max_size=4)):
        size = f"{len(chunk):x}"
        if draw(st.booleans()):
            size = size.upper()
        if draw(st.booleans()):
            size += ";ext=1"
        out += size.encode() + eol + chunk + eol
    out += b"0" + eol
    for name, value in draw(st.lists(st.tuples(header_names, header_values), max_size=2)):
        out += f"{name}: {value}".encode() + eol
    out += eol
    return bytes(out)


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(st.sampled_from(["GET", "POST", "PUT", "DELETE"]))
    target = draw(targets)
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    lines = [f"{method} {target} HTTP/1.1", "Host: example.test"]
    extra = draw(st.lists(st.tuples(header_names, header_values), max_size=4))
    lines += [f"{name}: {value}" for name, value in extra]
    framing = draw(st.sampled_from(["none", "length", "chunked"]))
    body = b""
    if framing == "length":
        # "\r\n\r\n" and request lines inside a body must not be taken for a head
        body = draw(st.binary(max_size=64) | st.just(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"))
        lines.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        body = draw(chunked_bodies(eol))
        lines.append("Transfer-Encoding: chunked")
    head = eol.join(line.encode("latin-1") for line in lines)
    return Request(method, target, head, eol, body)


@SETTINGS
@given(batch=st.lists(requests(), min_size=1, max_size=5), data=st.data())
def test_pipelined_requests_frame_the_same_for_any_split(
    batch: list[Request], data: st.DataObject
) -> None:
    """Pipelined requests fed whole or cut anywhere give the same bytes: each head passed
    through the rewrite, each body (length or chunked, trailers included) unchanged; one
    ``Pending`` per request, in order."""
    stream = b"".join(request.wire for request in batch)
    expected = b"".join(
        marked(request.head, request.method, request.target) + request.body for request in batch
    )
    whole = framer()
    assert whole.feed(stream) == expected

    split = framer()
    out = b"".join(split.feed(piece) for piece in pieces(stream, split_points(data, len(stream))))
    assert out == expected

    pending = [Pending(request.method, request.target, False) for request in batch]
    assert list(whole.pending) == list(split.pending) == pending
    assert whole.state == split.state == HEAD
    assert whole.last_target == batch[-1].target


def test_a_body_is_passed_as_it_arrives() -> None:
    """Body bytes are forwarded as soon as they come, not when the body is complete."""
    framing = framer()
    head = b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"
    assert framing.feed(head + b"abc") == marked(head[:-4], "POST", "/up") + b"abc"
    assert framing.state == LENGTH
    assert framing.feed(b"defg") == b"defg"
    assert framing.feed(b"hijGET") == b"hij"
    assert framing.state == HEAD
    chunked = framer()
    head = b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert chunked.feed(head + b"5\r\nab") == marked(head[:-4], "POST", "/c") + b"5\r\nab"
    assert chunked.state == CHUNKED


# -- upgrades --------------------------------------------------------------------------------

UPGRADE = (
    b"GET /ws?x=1 HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
UPGRADE_OUT = marked(UPGRADE[:-4], "GET", "/ws?x=1")
NEXT = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
NEXT_OUT = marked(NEXT[:-4], "GET", "/next")


@SETTINGS
@given(after=st.binary(max_size=200) | st.just(NEXT + b"\x81\x80"), data=st.data())
def test_bytes_after_an_upgrade_request_wait_for_the_answer(
    after: bytes, data: st.DataObject
) -> None:
    """After an upgrade request nothing more is forwarded, whatever follows and however it
    is cut, until :meth:`upgraded` returns the held bytes exactly; then bytes pass raw."""
    framing = framer()
    stream = UPGRADE + after
    out = b"".join(framing.feed(piece) for piece in pieces(stream, split_points(data, len(stream))))
    assert out == UPGRADE_OUT
    assert framing.state == WAIT_UPGRADE
    assert list(framing.pending) == [Pending("GET", "/ws?x=1", True)]
    assert framing.feed(b"") == b""
    assert framing.upgraded() == after
    assert framing.tunnel and framing.state == TUNNEL
    assert framing.feed(NEXT) == NEXT
    assert list(framing.pending) == [Pending("GET", "/ws?x=1", True)]


def test_a_refused_upgrade_resumes_framing_with_the_held_bytes() -> None:
    """After :meth:`refused`, the held pipelined requests are framed and rewritten."""
    framing = framer()
    post = b"POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
    assert framing.feed(UPGRADE + NEXT) == UPGRADE_OUT
    assert framing.feed(post[:20]) == b""
    assert framing.refused() == NEXT_OUT
    assert framing.feed(post[20:]) == marked(post[: post.index(b"\r\n\r\n")], "POST", "/p") + b"abc"
    assert list(framing.pending) == [
        Pending("GET", "/ws?x=1", True),
        Pending("GET", "/next", False),
        Pending("POST", "/p", False),
    ]
    assert framing.state == HEAD


def test_an_upgrade_request_body_is_forwarded_before_the_hold() -> None:
    """An upgrade request with a body (h2c with a POST) gets its body through; the hold
    starts after it."""
    framing = framer()
    head = b"POST /h HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 4\r\n\r\n"
    assert framing.feed(head + b"bodyGET") == marked(head[:-4], "POST", "/h") + b"body"
    assert framing.state == WAIT_UPGRADE
    assert framing.refused() == b""  # "GET" alone is not a head yet
    assert framing.feed(b" /n HTTP/1.1\r\n\r\n") == marked(b"GET /n HTTP/1.1", "GET", "/n")


def test_an_upgrade_refused_before_its_body_ended_still_resumes() -> None:
    """A server may refuse an upgrade request (401, 413...) before reading its body; the
    rest of the body and the requests after it must still be forwarded."""
    framing = framer()
    head = b"POST /h HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nContent-Length: 4\r\n\r\n"
    assert framing.feed(head + b"bo") == marked(head[:-4], "POST", "/h") + b"bo"
    assert framing.refused() == b""
    assert framing.feed(b"dy" + NEXT) == b"dy" + NEXT_OUT


@pytest.mark.parametrize(
    "connection",
    [b"", b"Connection: keep-alive\r\n", b"Connection: close\r\n"],
    ids=["no-connection", "keep-alive", "close"],
)
def test_upgrade_header_without_the_connection_token_is_not_an_upgrade(connection: bytes) -> None:
    """``Upgrade`` only counts with ``Connection: upgrade``; otherwise nothing is held."""
    framing = framer()
    head = b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n" + connection
    out = framing.feed(head + b"\r\n" + NEXT)
    assert out == marked(head[:-2], "GET", "/ws") + NEXT_OUT
    assert [p.upgrade for p in framing.pending] == [False, False]


# -- refused requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NOT HTTP\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / FTP/1.1\r\n\r\n", 400),
        (b"GET  / HTTP/1.1\r\n\r\n", 400),
        (b"G(E)T / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 400),
        (b"CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n", 405),
    ],
)
def test_bad_requests_are_refused(data: bytes, status: int) -> None:
    """What cannot be forwarded unambiguously sets ``error`` to a :class:`BadRequest` with
    the status the proxy answers (``feed`` never raises); cut byte by byte it is refused
    the same, and later bytes are ignored."""
    whole = refusal(framer(), data)
    assert whole.status == status
    assert whole.reason
    split = framer()
    for index in range(len(data)):
        split.feed(data[index : index + 1])
    assert split.error is not None and split.error.status == status
    assert split.feed(NEXT) == b""


def test_a_bad_request_after_good_ones_is_refused() -> None:
    """A malformed request pipelined after a valid one is refused too, and the valid one
    before it, in the same read, is still forwarded."""
    framing = framer()
    assert framing.feed(NEXT) == NEXT_OUT
    assert refusal(framing, b"BAD\r\n\r\n").status == 400
    again = framer()
    assert again.feed(NEXT + b"BAD\r\n\r\n") == NEXT_OUT
    assert again.error is not None and again.error.status == 400
    assert len(again.pending) == 1


@pytest.mark.parametrize("complete", [False, True], ids=["unterminated", "terminated"])
def test_a_head_larger_than_max_head_is_431(complete: bool) -> None:
    """A head over ``max_head`` is refused with 431, whether or not its end has come."""
    head = b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 200
    framing = framer(max_head=128)
    assert refusal(framing, head + (b"\r\n\r\n" if complete else b"")).status == 431
    assert framer(max_head=128).feed(b"GET / HTTP/1.1\r\nX: " + b"a" * 90 + b"\r\n\r\n")


@pytest.mark.parametrize("value", [b"\xb2", b"1\xb9"])
def test_a_non_ascii_digit_content_length_is_a_bad_request(value: bytes) -> None:
    """``Content-Length: ²`` is not a number: a 400, not a crash of the connection."""
    data = b"POST / HTTP/1.1\r\nContent-Length: " + value + b"\r\n\r\n"
    assert refusal(framer(), data).status == 400


@pytest.mark.parametrize("size", [b"0x3", b"0_3"])
def test_a_chunk_size_that_is_not_plain_hex_is_a_bad_request(size: bytes) -> None:
    """A chunk size must be hex digits only."""
    data = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + size
    assert refusal(framer(), data + b"\r\nabc\r\n0\r\n\r\n").status == 400


# -- responses -------------------------------------------------------------------------------


@attrs.frozen
class Exchange:
    """A request as the watcher knows it and the bytes of its response (interim ones
    included)."""

    request: Pending
    response: bytes
    closes: bool = False


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    kind = draw(st.sampled_from(["length", "chunked", "204", "304", "head", "close"]))
    interim = b"".join(
        draw(
            st.lists(
                st.sampled_from(
                    [
                        b"HTTP/1.1 100 Continue\r\n\r\n",
                        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
                    ]
                ),
                max_size=2,
            )
        )
    )
    method = "HEAD" if kind == "head" else draw(st.sampled_from(["GET", "POST"]))
    request = Pending(method, draw(targets), False)
    if kind == "length":
        body = draw(st.binary(max_size=64) | st.just(b"HTTP/1.1 101 Switching\r\n\r\n"))
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        response = head + body
    elif kind == "chunked":
        response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + draw(
            chunked_bodies(b"\r\n")
        )
    elif kind == "204":
        response = b"HTTP/1.1 204 No Content\r\n\r\n"
    elif kind == "304":
        # the Content-Length of a 304 describes the representation: no body follows
        response = b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 1234\r\n\r\n'
    elif kind == "head":
        response = b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
    else:
        # no length: the body runs to the end of the connection, whatever it looks like
        response = b"HTTP/1.0 200 OK\r\n\r\n" + draw(st.binary(max_size=40))
        return Exchange(request, interim + response, closes=True)
    return Exchange(request, interim + response)


UPGRADE_REQUEST = Pending("GET", "/ws", True)
SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
ENDINGS = {
    "none": b"",
    "101": b"HTTP/1.1 100 Continue\r\n\r\n" + SWITCHING + b"\x81\x05hello\x88\x00HTTP/1.1 200",
    "400": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nnope!",
    "426-chunked": b"HTTP/1.1 426 Upgrade Required\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nno!\r\n0\r\n\r\n",
}


def watch(
    requests: list[Pending], chunks: list[bytes]
) -> tuple[ResponseWatcher, list[tuple[str, Pending]]]:
    watcher = ResponseWatcher(deque(requests))
    verdicts: list[tuple[str, Pending]] = []
    for chunk in chunks:
        verdict = watcher.feed(chunk)
        if verdict is not None:
            verdicts.append(verdict)
    return watcher, verdicts


@SETTINGS
@given(
    batch=st.lists(exchanges(), max_size=5),
    ending=st.sampled_from(sorted(ENDINGS)),
    data=st.data(),
)
def test_responses_give_the_same_verdicts_for_any_split(
    batch: list[Exchange], ending: str, data: st.DataObject
) -> None:
    """Responses of every framing (length, chunked, 204, 304 and HEAD answers with a
    Content-Length but no body, 1xx interim heads) are followed to their end however the
    stream is cut: a 101 after them gives ``(UPGRADED, request)``, a 400 or 426 answer to
    the upgrade request gives ``(REFUSED, request)``, nothing otherwise."""
    closing = next((i for i, exchange in enumerate(batch) if exchange.closes), None)
    requests = [exchange.request for exchange in batch]
    stream = b"".join(exchange.response for exchange in batch)
    if closing is not None:
        # What follows a close-delimited response is its body: later requests stay pending.
        requests = requests[: closing + 1]
        ending = "none"
    elif ending != "none":
        requests.append(UPGRADE_REQUEST)
        stream += ENDINGS[ending]

    whole, whole_verdicts = watch(requests, [stream])
    split, split_verdicts = watch(requests, pieces(stream, split_points(data, len(stream))))

    expected = {
        "none": [],
        "101": [(UPGRADED, UPGRADE_REQUEST)],
        "400": [(REFUSED, UPGRADE_REQUEST)],
        "426-chunked": [(REFUSED, UPGRADE_REQUEST)],
    }[ending]
    assert whole_verdicts == split_verdicts == expected
    assert whole.lost is None and split.lost is None
    assert not whole.pending and not split.pending
    assert whole.state == split.state
    if ending == "101":
        assert whole.state == TUNNEL
        assert whole.feed(b"HTTP/1.1 400 Bad\r\n\r\n") is None
    elif closing is None:
        assert whole.state == HEAD


def test_an_upgrade_refusal_is_reported_once_its_head_arrives() -> None:
    """The refusal is reported as soon as the head is there (the held requests can go)."""
    watcher = ResponseWatcher(deque([Pending("GET", "/", False), UPGRADE_REQUEST]))
    assert watcher.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") is None
    assert watcher.feed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\nn") == (
        REFUSED,
        UPGRADE_REQUEST,
    )
    assert watcher.feed(b"o!!") is None
    assert watcher.state == HEAD


@pytest.mark.parametrize(
    "data",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 300,
    ],
)
def test_garbage_responses_make_the_watcher_stop(data: bytes) -> None:
    """A response it cannot frame sets ``lost`` and ends the watching, without raising."""
    watcher = ResponseWatcher(deque([Pending("GET", "/", False)]), max_head=256)
    assert watcher.feed(data) is None
    assert watcher.lost
    assert watcher.feed(SWITCHING) is None
    assert watcher.feed(b"HTTP/1.1 200 OK\r\n\r\n") is None


def test_a_non_ascii_digit_content_length_makes_the_watcher_stop() -> None:
    """``Content-Length: ²`` is garbage like any other: ``lost``, no exception."""
    watcher = ResponseWatcher(deque([Pending("GET", "/", False)]))
    assert watcher.feed(b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\n") is None
    assert watcher.lost


PREFIXES = [
    b"",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 ",
]


@SETTINGS
@given(
    prefix=st.sampled_from(PREFIXES),
    noise=st.binary(max_size=300),
    requests=st.lists(st.builds(Pending, st.sampled_from(["GET", "HEAD"]), targets, st.booleans())),
    data=st.data(),
)
def test_the_watcher_never_raises(
    prefix: bytes, noise: bytes, requests: list[Pending], data: st.DataObject
) -> None:
    """Random bytes, after a valid start or not and cut anywhere, never make
    :meth:`ResponseWatcher.feed` raise, whatever requests are pending."""
    stream = prefix + noise
    _, verdicts = watch(requests, pieces(stream, split_points(data, len(stream))))
    assert all(outcome in (UPGRADED, REFUSED) for outcome, _ in verdicts)
