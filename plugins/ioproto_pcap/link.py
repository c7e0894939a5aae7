"""Link, IP and TCP header parsing for one captured frame.

:func:`parse_frame` is on the per-frame hot path: it uses precompiled ``struct`` unpackers on the
frame bytes and returns a plain tuple (no per-frame objects beyond the payload slice).
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

#: (src address, dst address, src port, dst port, sequence number, ack number, TCP flags,
#: payload)
Segment = tuple[bytes, bytes, int, int, int, int, int, bytes]

FIN = 0x01
SYN = 0x02
RST = 0x04
ACK = 0x10

ETHERNET = 1
NULL = 0
LOOP = 108
RAW = 101
RAW_BSD = 12
RAW_OPENBSD = 14
IPV4 = 228
IPV6 = 229
LINUX_SLL = 113
LINUX_SLL2 = 276

SUPPORTED_LINKTYPES = frozenset(
    {ETHERNET, NULL, LOOP, RAW, RAW_BSD, RAW_OPENBSD, IPV4, IPV6, LINUX_SLL, LINUX_SLL2}
)

IP_INVALID = "capture.ip.invalid"
TCP_INVALID = "capture.tcp.invalid"
# what a BadHeader says is wrong
_SHORT_IHL = "IPv4 header length of {} bytes (under 20)"
_SHORT_TOTAL = "IPv4 total length of {} bytes, under its header length of {}"
_LONG_IHL = "IPv4 header of {} bytes runs past the packet ({} bytes left)"
_LONG_IP6_EXTENSION = "IPv6 extension header of {} bytes runs past the packet ({} bytes left)"
_CUT_TCP = "TCP header cut short ({} of 20 bytes)"
_SHORT_OFFSET = "TCP data offset of {} bytes (under 20)"
_LONG_OFFSET = (
    "TCP header of {} bytes runs past the packet ({} bytes left; a snap length too short?)"
)

_VLAN_TYPES = (0x8100, 0x88A8, 0x9100)
_IP6_EXTENSIONS = (0, 43, 60, 51, 135, 139, 140)  # hop-by-hop, routing, dest opts, AH, ...
_NULL_IPV6 = (10, 24, 28, 30)

_u16 = struct.Struct(">H").unpack_from
_u32_le = struct.Struct("<I").unpack_from
_u32_be = struct.Struct(">I").unpack_from
_ipv4 = struct.Struct(">BxHHH").unpack_from  # version/ihl, total length, id, flags/fragment
_tcp = struct.Struct(">HHIIH").unpack_from  # ports, seq, ack, offset/flags
# An option-less IPv4 header and the TCP header after it, in one call: total length,
# fragment field, protocol, addresses; then as _tcp.
_ipv4_tcp = struct.Struct(">2x H 2x H x B 2x 4s 4s HHIIH").unpack_from


class Fragment(NamedTuple):
    """An IP fragment: not reassembled, reported once per datagram."""

    src: bytes
    dst: bytes
    ident: int


class BadHeader(NamedTuple):
    """A TCP/IP frame whose IPv4, IPv6 extension or TCP header length cannot be right (``rule``:
    ``capture.ip.invalid`` or ``capture.tcp.invalid``; what is wrong:
    ``template.format(*values)``, formatted only when it is reported, for a flood of them
    is counted): the frame is skipped. ``ports``: (source, destination), when the TCP
    header was read."""

    rule: str
    template: str
    values: tuple[int, int]
    src: bytes
    dst: bytes
    ports: tuple[int, int] | None


class Unsupported(NamedTuple):
    """A frame of a link type this reader does not know."""

    linktype: int


def format_address(addr: bytes, port: int) -> str:
    """``"1.2.3.4:80"`` or ``"[::1]:80"``."""
    if len(addr) == 4:
        return f"{socket.inet_ntop(socket.AF_INET, addr)}:{port}"
    return f"[{socket.inet_ntop(socket.AF_INET6, addr)}]:{port}"


Parsed = Segment | Fragment | BadHeader | Unsupported | None


def parse_frame(linktype: int, frame: bytes) -> Parsed:
    """The TCP segment carried by ``frame``; ``None`` for anything that is not TCP over IP.

    Never raises: short or malformed frames give ``None``, except a TCP/IP frame whose IPv4
    or TCP header length does not fit (IHL or data offset under 5 words, a header running
    past the packet; an IPv6 extension header before the TCP header running past it):
    :class:`BadHeader`.
    """
    size = len(frame)
    if linktype == ETHERNET:
        if size < 14:
            return None
        etype = (frame[12] << 8) | frame[13]
        off = 14
        while etype in _VLAN_TYPES:
            if off + 4 > size:
                return None
            etype = (frame[off + 2] << 8) | frame[off + 3]
            off += 4
        if etype == 0x0800:
            if off + 40 <= size and frame[off] == 0x45:
                # the common case (no IP options), all headers read at once
                total, fragment, proto, src, dst, sport, dport, seq, ack, offset_flags = _ipv4_tcp(
                    frame, off
                )
                if proto == 6 and not fragment & 0x3FFF:
                    end = off + total
                    if total < 20 or end > size:
                        end = size  # as in _ipv4_segment
                    data_off = (offset_flags >> 12) * 4
                    tcp = off + 20
                    if data_off < 20 or tcp + data_off > end:
                        return _ipv4_segment(frame, off, size)  # to say what is wrong
                    flags = offset_flags & 0x1FF
                    return src, dst, sport, dport, seq, ack, flags, frame[tcp + data_off : end]
            return _ipv4_segment(frame, off, size)
        if etype == 0x86DD:
            return _ipv6_segment(frame, off, size)
        return None
    if linktype in (LINUX_SLL, LINUX_SLL2):
        if linktype == LINUX_SLL:
            if size < 16:
                return None
            etype = (frame[14] << 8) | frame[15]
            off = 16
        else:
            if size < 20:
                return None
            etype = (frame[0] << 8) | frame[1]
            off = 20
        if etype == 0x0800:
            return _ipv4_segment(frame, off, size)
        if etype == 0x86DD:
            return _ipv6_segment(frame, off, size)
        return None
    if linktype in (NULL, LOOP):
        if size < 4:
            return None
        if linktype == LOOP:
            (family,) = _u32_be(frame, 0)
        else:
            (family,) = _u32_le(frame, 0)
            if family > 0xFFFF:  # written on a big-endian host
                (family,) = _u32_be(frame, 0)
        if family == 2:
            return _ipv4_segment(frame, 4, size)
        if family in _NULL_IPV6:
            return _ipv6_segment(frame, 4, size)
        return None
    if linktype in (RAW, RAW_BSD, RAW_OPENBSD, IPV4, IPV6):
        if size < 1:
            return None
        version = frame[0] >> 4
        if version == 4:
            return _ipv4_segment(frame, 0, size)
        if version == 6:
            return _ipv6_segment(frame, 0, size)
        return None
    return Unsupported(linktype)


def _ipv4_segment(frame: bytes, off: int, size: int) -> Segment | Fragment | BadHeader | None:
    if off + 20 > size:
        return None
    vihl, total, ident, fragment = _ipv4(frame, off)
    if vihl >> 4 != 4:
        return None
    if frame[off + 9] != 6:
        return None
    if fragment & 0x3FFF:  # more-fragments flag or a fragment offset
        return Fragment(frame[off + 12 : off + 16], frame[off + 16 : off + 20], ident)
    ihl = (vihl & 15) * 4
    src = frame[off + 12 : off + 16]
    dst = frame[off + 16 : off + 20]
    if ihl < 20:
        return BadHeader(IP_INVALID, _SHORT_IHL, (ihl, 0), src, dst, None)
    if 0 < total < ihl:
        return BadHeader(IP_INVALID, _SHORT_TOTAL, (total, ihl), src, dst, None)
    end = off + total
    if total == 0 or end > size:
        end = size  # truncated by the snap length, or TSO (total 0): use what is there
    if off + ihl > end:
        return BadHeader(IP_INVALID, _LONG_IHL, (ihl, end - off), src, dst, None)
    return _tcp_segment(frame, off + ihl, end, src, dst)


def _ipv6_segment(frame: bytes, off: int, size: int) -> Segment | Fragment | BadHeader | None:
    if off + 40 > size:
        return None
    (length,) = _u16(frame, off + 4)
    nxt = frame[off + 6]
    src = frame[off + 8 : off + 24]
    dst = frame[off + 24 : off + 40]
    end = off + 40 + length
    if length == 0 or end > size:
        end = size
    pos = off + 40
    hdr_len = 0
    while nxt != 6:
        if nxt == 44:
            if pos + 8 > end:
                return None
            (ident,) = _u32_be(frame, pos + 4)
            return Fragment(src, dst, ident)
        if nxt not in _IP6_EXTENSIONS or pos + 8 > end:
            return None
        hdr_len = (frame[pos + 1] + 2) * 4 if nxt == 51 else (frame[pos + 1] + 1) * 8
        nxt = frame[pos]
        pos += hdr_len
    if pos > end:  # the header before TCP says more than the packet holds
        values = (hdr_len, end - pos + hdr_len)
        return BadHeader(IP_INVALID, _LONG_IP6_EXTENSION, values, src, dst, None)
    return _tcp_segment(frame, pos, end, src, dst)


def _tcp_segment(frame: bytes, off: int, end: int, src: bytes, dst: bytes) -> Segment | BadHeader:
    if off + 20 > end:
        return BadHeader(TCP_INVALID, _CUT_TCP, (max(end - off, 0), 0), src, dst, None)
    sport, dport, seq, ack, offset_flags = _tcp(frame, off)
    data_off = (offset_flags >> 12) * 4
    if data_off < 20:
        return BadHeader(TCP_INVALID, _SHORT_OFFSET, (data_off, 0), src, dst, (sport, dport))
    if off + data_off > end:
        values = (data_off, end - off)
        return BadHeader(TCP_INVALID, _LONG_OFFSET, values, src, dst, (sport, dport))
    return src, dst, sport, dport, seq, ack, offset_flags & 0x1FF, frame[off + data_off : end]
