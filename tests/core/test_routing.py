"""The router of sharded runs: one session's connections meet in one worker; budgets hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from ioproto_tcp.records import TcpClose, TcpData, TcpOpen

from ioproto.model import Record
from ioproto.routing import Router, owner_of

SID = st.text(alphabet="abcdefghijKLMNOP0123456789_-", min_size=4, max_size=24)


def connection(port: int) -> str:
    return f"10.0.0.1:{port}-10.0.0.2:80"


def session_records(sid: str, port: int, start: int) -> list[Record]:
    """A handshake poll (sid only in the answer), then a poll and an upgrade naming it."""
    first, second, third = connection(port), connection(port + 1), connection(port + 2)
    handshake = (
        b'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n0{"sid":"' + sid.encode() + b'"}'
    )
    query = b"?EIO=4&transport=polling&sid=" + sid.encode()
    return [
        TcpOpen(ts=start, connection=first, endpoints=("a", "b"), client=0),
        TcpData(ts=start, connection=first, side=0, data=b"GET /socket.io/?EIO=4 HTTP/1.1\r\n"),
        TcpData(ts=start, connection=first, side=1, data=handshake),
        TcpData(
            ts=start, connection=second, side=0, data=b"POST /socket.io/" + query + b" HTTP/1.1\r\n"
        ),
        TcpData(
            ts=start, connection=third, side=0, data=b"GET /socket.io/" + query + b" HTTP/1.1\r\n"
        ),
        TcpClose(ts=start, connection=first),
        TcpClose(ts=start, connection=second),
        TcpClose(ts=start, connection=third),
    ]


@given(sids=st.lists(SID, min_size=1, max_size=6, unique=True), workers=st.integers(1, 5))
def test_the_connections_of_one_session_go_to_one_worker(sids: list[str], workers: int) -> None:
    records = [
        record
        for number, sid in enumerate(sids)
        for record in session_records(sid, 1000 + 10 * number, number)
    ]
    fed: dict[int, list[int]] = {}
    for me in range(workers):
        router = Router(workers, me, "tcp")
        mine = [
            at
            for position, record in enumerate(records)
            for at, _ in router.route(position, record)
        ]
        mine += [position for position, _ in router.finish()]
        fed[me] = mine
    everything = sorted(position for positions in fed.values() for position in positions)
    assert everything == list(range(len(records)))  # each record fed once, by one worker
    for number, sid in enumerate(sids):
        owner = owner_of(sid, workers)
        positions = range(8 * number, 8 * number + 8)
        assert all(position in fed[owner] for position in positions)


@given(
    chunks=st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=40),
    budget=st.integers(1, 2000),
)
def test_an_undecided_connection_keeps_at_most_its_budget(chunks: list[bytes], budget: int) -> None:
    """A request without a sid and an answer without one: kept until ``route_bytes``."""
    router = Router(2, 0, "tcp", route_bytes=budget, route_window=10_000)
    name = connection(5000)
    router.route(0, TcpData(ts=0, connection=name, side=0, data=b"GET /index.html HTTP/1.1\r\n"))
    for position, chunk in enumerate(chunks, 1):
        router.route(position, TcpData(ts=0, connection=name, side=1, data=b"HTTP/1.1 " + chunk))
        assert router.kept_bytes <= budget
    assert router.kept_bytes == 0 or name in router.pending


def test_too_many_undecided_bytes_decide_the_oldest_by_address() -> None:
    router = Router(2, 0, "tcp", pending_bytes=100, route_window=10_000)
    request = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
    for port in range(10):
        router.route(port, TcpData(ts=0, connection=connection(port), side=0, data=request))
        assert router.kept_bytes <= 100
    assert len(router.pending) < 10


def test_the_window_bounds_how_long_output_is_held_back() -> None:
    router = Router(2, 0, "tcp", route_window=5)
    request = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n"
    router.route(0, TcpData(ts=0, connection=connection(1), side=0, data=request))
    assert router.watermark() == 0
    for position in range(1, 8):
        router.route(
            position, TcpOpen(ts=0, connection=connection(100 + position), endpoints=("a", "b"))
        )
        assert router.watermark() is None or position - router.watermark() <= 5


def test_not_http_goes_by_address_at_once() -> None:
    router = Router(3, owner_of(connection(7), 3), "tcp")
    ready = router.route(
        0, TcpData(ts=0, connection=connection(7), side=0, data=b"\x16\x03\x01tls")
    )
    assert ready and not router.pending


def test_a_compressed_handshake_still_names_the_session() -> None:
    import gzip

    body = gzip.compress(b'0{"sid":"abc123","upgrades":["websocket"]}')
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    answer = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    )
    workers = 7
    router = Router(workers, owner_of("abc123", workers), "tcp")
    name = connection(9)
    router.route(
        0, TcpData(ts=0, connection=name, side=0, data=b"GET /socket.io/?EIO=4 HTTP/1.1\r\n")
    )
    assert router.route(1, TcpData(ts=0, connection=name, side=1, data=answer))
    assert router.owners[name] == owner_of("abc123", workers)


def test_a_keep_alive_connection_takes_its_later_sessions_along() -> None:
    """Sessions ``a`` and ``b`` poll over one keep-alive connection (first ``a``'s); ``b``'s
    WebSocket, on a connection of its own, goes where ``b``'s polls went, in every worker
    alike. (``tests/data/keepalive_shared.pcap`` is the real case, run end to end by the
    sharding tests.)"""
    workers = 4
    a, b = "aaaaaaaaaa", "bbbbbbbbb1"
    assert owner_of(a, workers) != owner_of(b, workers)
    shared, websocket = connection(1), connection(2)
    handshake_b = b'HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0{"sid":"' + b.encode() + b'"}'
    records: list[Record] = [
        TcpOpen(ts=0, connection=shared, endpoints=("a", "b"), client=0),
        TcpData(
            ts=0,
            connection=shared,
            side=0,
            data=b"GET /s/?EIO=4&sid=" + a.encode() + b" HTTP/1.1\r\n",
        ),
        TcpData(ts=0, connection=shared, side=1, data=b"HTTP/1.1 200 OK\r\n\r\n2"),
        TcpData(ts=0, connection=shared, side=0, data=b"GET /s/?EIO=4 HTTP/1.1\r\n"),  # b's
        TcpData(ts=0, connection=shared, side=1, data=handshake_b),
        TcpOpen(ts=0, connection=websocket, endpoints=("a", "b"), client=0),
        TcpData(
            ts=0, connection=websocket, side=0, data=b"GET /s/?sid=" + b.encode() + b" HTTP/1.1\r\n"
        ),
    ]
    for me in range(workers):
        router = Router(workers, me, "tcp")
        for position, record in enumerate(records):
            router.route(position, record)
        router.finish()
        assert router.owners[websocket] == router.owners[shared] == owner_of(a, workers)


def test_the_dispatcher_takes_a_keep_alive_connections_later_sessions_along() -> None:
    from ioproto.split import SplitRouter

    router = SplitRouter(3, {})
    router.assigned["a"] = 2
    router.follow(2, b'HTTP/1.1 200 OK\r\n\r\n0{"sid":"b","upgrades":[]}')
    router.follow(2, b"POST /s/?EIO=4&sid=c HTTP/1.1\r\n")
    router.follow(2, b"POST /s/?EIO=4&sid=a HTTP/1.1\r\n")  # already someone's: unchanged
    router.follow(1, b"GET /s/?EIO=4&sid=a HTTP/1.1\r\n")
    assert router.assigned == {"a": 2, "b": 2, "c": 2}


def test_session_ids_in_bytes() -> None:
    import gzip

    from ioproto.routing import session_ids_in, session_ids_shown

    assert session_ids_in(b"GET /socket.io/?EIO=4&transport=polling&sid=x_1 HTTP/1.1") == ["x_1"]
    assert session_ids_in(b'0{"sid":"y-2","upgrades":["websocket"]}') == ["y-2"]
    body = gzip.compress(b'0{"sid":"z3"}')
    answer = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + body
    assert session_ids_in(answer) == ["z3"]
    assert session_ids_in(b'42["chat","hello"]') == []
    # Mid-connection only what starts an HTTP message is looked at (not a WebSocket frame).
    frame = b'\x81\x1242["/?sid=abc&x=1"]'
    assert session_ids_in(frame) == ["abc"]
    assert session_ids_shown(frame) == []
    assert session_ids_shown(b"POST /s/?sid=q HTTP/1.1\r\n") == ["q"]


@given(st.binary(max_size=600), st.binary(max_size=40))
def test_session_ids_in_never_fails(data: bytes, prefix: bytes) -> None:
    from ioproto.routing import session_ids_in

    for candidate in (data, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + data, prefix):
        assert all(isinstance(sid, str) for sid in session_ids_in(candidate))
