"""A small capture WRITER for tests: TCP conversations → frames → pcap / pcapng (/ gzip).

``Flow`` scripts one TCP connection (handshake, data in either direction with any segment
size, FIN); ``render`` wraps its packets in a link layer; ``write_pcap`` / ``write_pcapng``
produce files. Helpers build HTTP messages and WebSocket frames (masked, fragmented,
permessage-deflate).
"""

from __future__ import annotations

import gzip
import ipaddress
import os
import struct
import zlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


@dataclass
class TcpPacket:
    ts: float
    src: str
    dst: str
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int
    payload: bytes = b""


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_bytes(p: TcpPacket) -> bytes:
    """TCP header + payload with a correct checksum."""
    header = struct.pack(
        "!HHIIBBHHH",
        p.sport,
        p.dport,
        p.seq & 0xFFFFFFFF,
        p.ack & 0xFFFFFFFF,
        5 << 4,
        p.flags,
        65535,
        0,
        0,
    )
    src = ipaddress.ip_address(p.src).packed
    dst = ipaddress.ip_address(p.dst).packed
    length = len(header) + len(p.payload)
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, length)
    else:
        pseudo = src + dst + struct.pack("!IxxxB", length, 6)
    csum = _checksum(pseudo + header + p.payload)
    return header[:16] + struct.pack("!H", csum) + header[18:] + p.payload


def ip_bytes(p: TcpPacket, *, ident: int = 1, fragment: int = 0) -> bytes:
    """IPv4 or IPv6 packet around the TCP segment (fragment: raw flags/offset field)."""
    segment = tcp_bytes(p)
    src = ipaddress.ip_address(p.src).packed
    dst = ipaddress.ip_address(p.dst).packed
    if len(src) == 4:
        header = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(segment), ident, fragment, 64, 6, 0, src, dst
        )
        header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        return header + segment
    return struct.pack("!IHBB16s16s", 6 << 28, len(segment), 6, 64, src, dst) + segment


LINKTYPES = {
    "ethernet": 1,
    "vlan": 1,
    "qinq": 1,
    "sll": 113,
    "sll2": 276,
    "null": 0,
    "null-be": 0,
    "loop": 108,
    "raw": 101,
    "raw-ip": None,  # 228 or 229 by address family
}


def link_wrap(kind: str, packet: bytes, v6: bool) -> bytes:
    """``packet`` (an IP packet) inside the link layer ``kind``."""
    etype = 0x86DD if v6 else 0x0800
    macs = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01"
    if kind == "ethernet":
        frame = macs + struct.pack("!H", etype) + packet
        return frame + b"\0" * max(0, 60 - len(frame))  # minimum frame padding
    if kind == "vlan":
        return macs + struct.pack("!HHH", 0x8100, 42, etype) + packet
    if kind == "qinq":
        return macs + struct.pack("!HHHHH", 0x88A8, 7, 0x8100, 42, etype) + packet
    if kind == "sll":
        return struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, etype) + packet
    if kind == "sll2":
        return struct.pack("!HHIHBB8s", etype, 0, 1, 772, 0, 6, b"\0" * 8) + packet
    if kind == "null":
        return struct.pack("<I", 30 if v6 else 2) + packet
    if kind == "null-be":
        return struct.pack(">I", 30 if v6 else 2) + packet
    if kind == "loop":
        return struct.pack(">I", 30 if v6 else 2) + packet
    if kind in ("raw", "raw-ip"):
        return packet
    raise ValueError(kind)


def linktype_of(kind: str, v6: bool) -> int:
    value = LINKTYPES[kind]
    if value is None:
        return 229 if v6 else 228
    return value


def render(packets: Iterable[TcpPacket], kind: str = "ethernet") -> list[tuple[float, int, bytes]]:
    """(ts, linktype, frame) for each packet."""
    out = []
    for p in packets:
        v6 = ":" in p.src
        out.append((p.ts, linktype_of(kind, v6), link_wrap(kind, ip_bytes(p), v6)))
    return out


def write_pcap(
    path: str | os.PathLike[str],
    frames: Sequence[tuple[float, int, bytes]],
    *,
    big_endian: bool = False,
    nanos: bool = False,
    compress: bool = False,
    snaplen: int = 262144,
) -> bytes:
    """A classic pcap of ``frames`` (one link type: the first frame's). Returns the bytes."""
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    linktype = frames[0][1] if frames else 1
    parts = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    scale = 10**9 if nanos else 10**6
    for ts, _lt, frame in frames:
        ticks = round(ts * scale)
        captured = frame[:snaplen]
        parts.append(
            struct.pack(order + "IIII", ticks // scale, ticks % scale, len(captured), len(frame))
        )
        parts.append(captured)
    data = b"".join(parts)
    if compress:
        data = gzip.compress(data)
    with open(path, "wb") as handle:
        handle.write(data)
    return data


def _block(order: str, kind: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack(order + "II", kind, length) + body + struct.pack(order + "I", length)


def write_pcapng(
    path: str | os.PathLike[str],
    frames: Sequence[tuple[float, int, bytes]],
    *,
    big_endian: bool = False,
    resolutions: dict[int, int] | None = None,
    compress: bool = False,
    spread: int = 1,
    simple: Collection[int] = (),
) -> bytes:
    """A pcapng with one interface per link type (``spread`` copies of each, frames dealt
    round-robin). ``resolutions`` maps interface index → if_tsresol byte. The frames whose
    index is in ``simple`` are written as Simple Packet Blocks (no timestamp, interface 0)."""
    order = ">" if big_endian else "<"
    shb = _block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))
    interfaces: list[int] = []
    index_of: dict[int, list[int]] = {}
    for _ts, linktype, _frame in frames:
        if linktype not in index_of:
            index_of[linktype] = []
            for _ in range(spread):
                index_of[linktype].append(len(interfaces))
                interfaces.append(linktype)
    blocks = [shb]
    resolutions = resolutions or {}
    for number, linktype in enumerate(interfaces):
        options = b""
        if number in resolutions:
            options += struct.pack(order + "HHB3x", 9, 1, resolutions[number])
        options += struct.pack(order + "HH", 0, 0)
        blocks.append(_block(order, 1, struct.pack(order + "HHI", linktype, 0, 0) + options))
    counters: dict[int, int] = {}
    for position, (ts, linktype, frame) in enumerate(frames):
        if position in simple:
            blocks.append(_block(order, 3, struct.pack(order + "I", len(frame)) + frame))
            continue
        choices = index_of[linktype]
        number = choices[counters.get(linktype, 0) % len(choices)]
        counters[linktype] = counters.get(linktype, 0) + 1
        resol = resolutions.get(number, 6)
        unit = 2.0 ** -(resol & 0x7F) if resol & 0x80 else 10.0**-resol
        ticks = round(ts / unit)
        body = struct.pack(
            order + "IIIII", number, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)
        )
        blocks.append(_block(order, 6, body + frame))
    data = b"".join(blocks)
    if compress:
        data = gzip.compress(data)
    with open(path, "wb") as handle:
        handle.write(data)
    return data


@dataclass
class Flow:
    """One scripted TCP connection. Times advance by ``step`` per packet."""

    client: tuple[str, int] = ("10.0.0.1", 51000)
    server: tuple[str, int] = ("10.0.0.2", 3000)
    isn: tuple[int, int] = (1000, 5000)
    ts: float = 1_700_000_000.0
    step: float = 0.001
    packets: list[TcpPacket] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seq = [self.isn[0], self.isn[1]]

    def _packet(self, side: int, flags: int, payload: bytes = b"") -> TcpPacket:
        src, dst = (self.client, self.server) if side == 0 else (self.server, self.client)
        p = TcpPacket(
            self.ts,
            src[0],
            dst[0],
            src[1],
            dst[1],
            self.seq[side],
            self.seq[1 - side],
            flags,
            payload,
        )
        self.ts += self.step
        self.packets.append(p)
        return p

    def handshake(self) -> Flow:
        self._packet(0, SYN)
        self.seq[0] += 1
        self._packet(1, SYN | ACK)
        self.seq[1] += 1
        self._packet(0, ACK)
        return self

    def send(self, side: int, data: bytes, mss: int = 1400) -> Flow:
        """``data`` from side 0 (client) or 1 (server), cut into ``mss``-sized segments."""
        for start in range(0, len(data), mss):
            piece = data[start : start + mss]
            self._packet(side, ACK | PSH, piece)
            self.seq[side] = (self.seq[side] + len(piece)) & 0xFFFFFFFF
        return self

    def ack(self, side: int) -> Flow:
        self._packet(side, ACK)
        return self

    def close(self) -> Flow:
        for side in (0, 1):
            self._packet(side, FIN | ACK)
            self.seq[side] += 1
        self._packet(0, ACK)
        return self


# -- HTTP and WebSocket builders ---------------------------------------------------------------


def http_request(
    method: str,
    target: str,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    *,
    chunked: bool = False,
) -> bytes:
    lines = [
        f"{method} {target} HTTP/1.1",
        "Host: localhost:3000",
        *(f"{k}: {v}" for k, v in headers),
    ]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        encoded = _chunk(body)
    else:
        if body or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(body)}")
        encoded = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + encoded


def _chunk(body: bytes, size: int = 7) -> bytes:
    out = b""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += f"{len(piece):x};ext=1\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\nX-Trailer: y\r\n\r\n"


def http_response(
    status: int,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    *,
    chunked: bool = False,
    encoding: str | None = None,
    reason: str = "OK",
    length: bool = True,
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    if encoding == "gzip":
        body = gzip.compress(body)
    elif encoding == "deflate":
        body = zlib.compress(body)
    elif encoding == "raw-deflate":
        c = zlib.compressobj(wbits=-15)
        body = c.compress(body) + c.flush()
        encoding = "deflate"
    elif encoding == "br":
        import brotli

        body = brotli.compress(body)
    if encoding:
        lines.append(f"Content-Encoding: {encoding}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        encoded = _chunk(body)
    else:
        if length:
            lines.append(f"Content-Length: {len(body)}")
        encoded = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + encoded


def ws_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    mask: bytes | None = None,
    rsv1: bool = False,
) -> bytes:
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    size = len(payload)
    mbit = 0x80 if mask else 0
    if size < 126:
        head = struct.pack("!BB", b0, mbit | size)
    elif size < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, size)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, size)
    if mask:
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return head + mask + masked
    return head + payload


def websocket_upgrade(flow: Flow, extensions: str | None = None) -> Flow:
    """A WebSocket-only Engine.IO upgrade on ``flow`` (after its handshake): the GET and its
    ``101``, both with ``Sec-WebSocket-Extensions: extensions`` when given."""
    ask = [("Upgrade", "websocket"), ("Connection", "Upgrade")]
    if extensions:
        ask.append(("Sec-WebSocket-Extensions", extensions))
    flow.send(0, http_request("GET", "/socket.io/?EIO=4&transport=websocket", headers=ask))
    answer = http_response(101, reason="Switching Protocols", length=False, headers=ask)
    return flow.send(1, answer)


class Deflater:
    """permessage-deflate sender for one direction."""

    def __init__(self, takeover: bool = True) -> None:
        self.takeover = takeover
        self.obj = zlib.compressobj(wbits=-15)

    def compress(self, data: bytes) -> bytes:
        if not self.takeover:
            self.obj = zlib.compressobj(wbits=-15)
        out = self.obj.compress(data) + self.obj.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(b"\x00\x00\xff\xff")
        return out[:-4]
