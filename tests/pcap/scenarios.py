"""Synthetic Engine.IO traffic used by the pcap tests: polling, upgrade, WebSocket."""

from __future__ import annotations

from pcapbuild import (
    Deflater,
    Flow,
    TcpPacket,
    http_request,
    http_response,
    ws_frame,
)

SID = "lv_VI97HAXpY6yYWAAAC"
OPEN = (
    b'0{"sid":"' + SID.encode() + b'","upgrades":["websocket"],"pingInterval":25000,'
    b'"pingTimeout":20000,"maxPayload":1000000}'
)
BIG = b"4" + b'42["big",' + b'"x' * 900 + b'"]'
MASK = b"\x11\x22\x33\x44"


def polling_flow(client: tuple[str, int] = ("10.0.0.1", 51000), mss: int = 1400) -> Flow:
    base = "/socket.io/?EIO=4&transport=polling"
    f = Flow(client=client, server=("10.0.0.2", 3000), ts=1_700_000_000.0)
    f.handshake()
    ua = [("User-Agent", "pcap-test/1.0"), ("Accept-Encoding", "gzip, deflate, br")]
    f.send(0, http_request("GET", base + "&t=N8hyd6w", headers=ua), mss)
    f.send(1, http_response(200, OPEN, [("Content-Type", "text/plain; charset=UTF-8")]), mss)
    # pipelined: a POST and the next GET before any answer
    f.send(
        0,
        http_request("POST", f"{base}&sid={SID}", b"40", ua)
        + http_request("GET", f"{base}&sid={SID}&t=2", headers=ua),
        mss,
    )
    f.send(1, http_response(200, b"ok", [("Content-Type", "text/html")]), mss)
    f.send(1, http_response(200, BIG, chunked=True, encoding="gzip"), mss)
    f.send(0, http_request("GET", f"{base}&sid={SID}&t=3", headers=ua, chunked=True), mss)
    f.send(1, http_response(100, reason="Continue", length=False), mss)
    f.send(1, http_response(200, b"2", encoding="deflate"), mss)
    f.send(0, http_request("GET", "/favicon.ico"), mss)
    f.send(1, http_response(404, b"not found"), mss)
    f.send(0, http_request("HEAD", f"{base}&sid={SID}&t=4"), mss)
    f.send(1, http_response(200, headers=[("Content-Length", "99")], length=False), mss)
    f.send(0, http_request("POST", f"{base}&sid={SID}", b"3", chunked=True), mss)
    f.send(1, http_response(200, b"ok", encoding="br"), mss)
    f.send(0, http_request("GET", f"{base}&sid={SID}&t=5"), mss)
    f.send(1, http_response(200, b"6", encoding="raw-deflate"), mss)
    f.close()
    return f


def websocket_flow(
    client: tuple[str, int] = ("10.0.0.1", 51001),
    mss: int = 1400,
    *,
    deflate: bool = True,
    server_takeover: bool = True,
    client_takeover: bool = False,
    sid: str | None = SID,
    server: tuple[str, int] = ("10.0.0.2", 3000),
) -> Flow:
    f = Flow(client=client, server=server, ts=1_700_000_000.0005, isn=(0xFFFFFF00, 77))
    f.handshake()
    target = "/socket.io/?EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")
    headers = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
        ("User-Agent", "pcap-test/1.0"),
    ]
    if deflate:
        headers.append(("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"))
    f.send(0, http_request("GET", target, headers=headers), mss)
    reply = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    ]
    if deflate:
        params = ["permessage-deflate"]
        if not server_takeover:
            params.append("server_no_context_takeover")
        if not client_takeover:
            params.append("client_no_context_takeover")
        params.append("client_max_window_bits=15")
        reply.append(("Sec-WebSocket-Extensions", "; ".join(params)))
    f.send(1, http_response(101, reason="Switching Protocols", length=False, headers=reply), mss)
    cdef = Deflater(client_takeover)
    sdef = Deflater(server_takeover)
    f.send(0, ws_frame(1, b"2probe", mask=MASK), mss)
    f.send(1, ws_frame(1, b"3probe"), mss)
    f.send(0, ws_frame(1, b"5", mask=MASK), mss)
    # fragmented client message with a ping in between
    f.send(0, ws_frame(1, b'42["frag', fin=False, mask=MASK), mss)
    f.send(0, ws_frame(9, b"hi", mask=MASK), mss)
    f.send(0, ws_frame(0, b'mented"]', mask=MASK), mss)
    f.send(1, ws_frame(10, b"hi"), mss)
    f.send(0, ws_frame(2, bytes(range(256)) * 300, mask=MASK), mss)  # 76800 bytes: 64-bit len
    if deflate:
        for text in (BIG, BIG + b"!", b'42["small"]'):
            f.send(1, ws_frame(1, sdef.compress(text), rsv1=True), mss)
            f.send(0, ws_frame(1, cdef.compress(text), rsv1=True, mask=MASK), mss)
        payload = sdef.compress(BIG)
        half = len(payload) // 2
        f.send(1, ws_frame(1, payload[:half], fin=False, rsv1=True), mss)
        f.send(1, ws_frame(0, payload[half:]), mss)
    f.send(1, ws_frame(1, b"2"), mss)
    f.send(0, ws_frame(1, b"3", mask=MASK), mss)
    f.send(0, ws_frame(8, b"\x03\xe8bye", mask=MASK), mss)
    f.send(1, ws_frame(8, b"\x03\xe8"), mss)
    f.close()
    return f


def expected_ws_messages(deflate: bool = True) -> list[tuple[str, str, bytes]]:
    """(direction, kind, data) of :func:`websocket_flow` in order."""
    out = [
        ("c2s", "ws-text", b"2probe"),
        ("s2c", "ws-text", b"3probe"),
        ("c2s", "ws-text", b"5"),
        ("c2s", "ws-control", b"hi"),
        ("c2s", "ws-text", b'42["fragmented"]'),
        ("s2c", "ws-control", b"hi"),
        ("c2s", "ws-binary", bytes(range(256)) * 300),
    ]
    if deflate:
        for text in (BIG, BIG + b"!", b'42["small"]'):
            out += [("s2c", "ws-text", text), ("c2s", "ws-text", text)]
        out.append(("s2c", "ws-text", BIG))
    out += [
        ("s2c", "ws-text", b"2"),
        ("c2s", "ws-text", b"3"),
        ("c2s", "ws-control", b"\x03\xe8bye"),
        ("s2c", "ws-control", b"\x03\xe8"),
    ]
    return out


def mixed_packets() -> list[TcpPacket]:
    """A polling connection, a WebSocket upgrade with deflate and a WS-only connection (IPv6),
    interleaved in time."""
    flows = [
        polling_flow(),
        websocket_flow(),
        websocket_flow(("fd00::1", 51002), deflate=False, sid=None, server=("fd00::2", 3000)),
    ]
    packets = [p for flow in flows for p in flow.packets]
    packets.sort(key=lambda p: p.ts)
    for number, p in enumerate(packets):  # unique times: every file format keeps the order
        p.ts = 1_700_000_000.0 + number * 0.000125
    return packets
