"""Capture file readers: classic pcap, pcapng and gzip-compressed captures, as a stream.

:class:`FrameReader` yields ``(ts, linktype, frame)`` tuples in file order, reading the input in
blocks of up to a megabyte so memory stays constant whatever the file size. A read never
waits for more than the frame in hand needs: from a pipe (tcpdump writing a live capture,
``-``) each frame is yielded as soon as its last byte has arrived, not when a block has
filled. A file that cannot be read to its
end sets :attr:`FrameReader.problem` to ``(rule, reason, offset)`` and stops; the reader never
raises on bad bytes (only on an input that cannot be opened at all). A frame whose time is
outside what :func:`ioproto.timestamps.usable` allows (pcapng only: a classic
pcap's 32-bit seconds always fit) gets the time of the frame before it
(0 for the first) and a notice in :attr:`FrameReader.notices` (``capture.time.out-of-range``)
for the first such frame; :attr:`FrameReader.bad_times` counts them all. A pcapng block
whose framing is sound but whose inside is not (a packet naming an interface no block
described, a captured length past its block, a packet block too short) is skipped with a
``capture.block.invalid`` notice (for the first :data:`MAX_BAD_BLOCKS`;
:attr:`FrameReader.bad_blocks` counts them all), and reading goes on with the next block.
"""

from __future__ import annotations

import gzip
import struct
import sys
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from ioproto.timestamps import MAX_TS, MIN_TS

GZIP_MAGIC = b"\x1f\x8b"
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
#: classic pcap magic → (struct byte order, timestamp fraction unit)
PCAP_MAGICS: dict[bytes, tuple[str, float]] = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
CAPTURE_MAGICS = (*PCAP_MAGICS, PCAPNG_MAGIC)

#: The most read at once; a read returns what is available once the frame in hand is complete.
BLOCK = 1 << 20
#: Skipped blocks reported one by one (``capture.block.invalid``); the rest are counted.
MAX_BAD_BLOCKS = 100
#: A record or block larger than this is taken as corruption (real snap lengths are ≤ 256 KiB).
MAX_RECORD = 1 << 24

Frame = tuple[float, int, bytes]
Problem = tuple[str, str, int]


def open_input(input: str) -> BinaryIO:
    """The raw byte stream of ``input`` (``"-"`` is stdin), transparently un-gzipped."""
    raw: BinaryIO = sys.stdin.buffer if input == "-" else open(input, "rb")  # noqa: SIM115
    peek = getattr(raw, "peek", None)
    head = peek(2)[:2] if peek is not None else b""
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def sniff(input: str) -> bytes:
    """The first four bytes of the (un-gzipped) capture ``input``; ``b""`` if unreadable."""
    try:
        with open(input, "rb") as raw:
            head = raw.read(4)
            if head[:2] == GZIP_MAGIC:
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                    return unzipped.read(4)
            return head
    except (OSError, EOFError, zlib.error):
        return b""


#: File name endings of captures (also gzip-compressed).
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".dmp", ".pcap.gz", ".pcapng.gz")


def looks_like_capture(input: str) -> bool:
    """Whether ``input`` is plainly meant as a capture although :func:`sniff` found no magic:
    a gzip file, or a capture file name (a damaged header then gets an error record)."""
    try:
        with open(input, "rb") as raw:
            return input.lower().endswith(CAPTURE_SUFFIXES) or raw.read(2) == GZIP_MAGIC
    except OSError:  # missing, a directory, unreadable: not for this source to say
        return False


class FrameReader:
    """Iterates the frames of one capture stream (pcap or pcapng, any byte order).

    ``frames_read`` and ``bytes_read`` count progress; ``problem`` is set when the file
    turned out truncated (``capture.file.truncated``) or corrupt (``capture.file.invalid``).
    ``notices`` collects problems that do not stop reading (the caller reports and clears
    them); ``bad_times`` counts frames whose time was replaced, ``bad_blocks`` the blocks
    skipped (see the module docstring).
    """

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.problem: Problem | None = None
        self.notices: list[Problem] = []
        self.frames_read = 0
        self.bytes_read = 0
        self.bad_times = 0
        self.bad_blocks = 0
        # A raw file or pipe has no read1, but its read is already one system call.
        self._read1 = getattr(stream, "read1", stream.read)

    def _bad_time(self, ts: float, offset: int) -> None:
        """Count a frame whose time ``ts`` is not usable (a notice for the first)."""
        if not self.bad_times:
            self.notices.append(
                (
                    "capture.time.out-of-range",
                    f"frame {self.frames_read} has the time {ts!r}, outside years 1-9999: it "
                    "and any later such frame get the time of the frame before",
                    offset,
                )
            )
        self.bad_times += 1

    def _bad_block(self, reason: str, offset: int) -> None:
        """Count a well-framed block that is bad inside, skipped (a notice for each of the
        first :data:`MAX_BAD_BLOCKS`: bounded memory between two frames)."""
        if self.bad_blocks < MAX_BAD_BLOCKS:
            self.notices.append(("capture.block.invalid", f"{reason}: skipped", offset))
        self.bad_blocks += 1

    def _read(self, size: int, minimum: int | None = None) -> bytes:
        """Up to ``size`` bytes: what is available once ``minimum`` bytes (default ``size``)
        have arrived; fewer only at the end of the input.

        Each call of ``read1`` is one read of the underlying file or pipe, so from a pipe this
        returns as soon as ``minimum`` bytes came, where ``read(size)`` would wait for
        ``size`` of them (a megabyte of traffic before the first frame of a live capture).
        """
        want = size if minimum is None else minimum
        parts: list[bytes] = []
        got = 0
        try:
            while got < want:
                data = self._read1(size - got)
                if not data:
                    break
                parts.append(data)
                got += len(data)
        except EOFError:
            self.problem = ("capture.file.truncated", "compressed stream ended early", -1)
            return b""
        except (OSError, zlib.error) as exc:
            self.problem = ("capture.file.invalid", f"cannot read the input: {exc}", -1)
            return b""
        self.bytes_read += got
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _refill(self, buf: bytes, pos: int, need: int, what: str, base: int) -> bytes | None:
        """``buf[pos:]`` followed by at least ``need`` more bytes (at least one when ``need``
        is 0: the size of what comes next is not known yet), and whatever else is available,
        up to a block; ``None`` at the end of the input, with ``problem`` set when a ``what``
        (record, block) was left cut short."""
        block = self._read(max(BLOCK, need), need or 1)
        if self.problem is not None:
            return None
        if not block:
            if pos < len(buf):
                self.problem = (
                    "capture.file.truncated",
                    f"the last {what} is cut short ({len(buf) - pos} bytes left)",
                    base + pos,
                )
            return None
        return buf[pos:] + block if pos < len(buf) else block

    def __iter__(self) -> Iterator[Frame]:
        head = self._read(4)
        if self.problem is not None:
            return
        if len(head) < 4:
            short = "shorter than a header" if head else "empty (0 bytes)"
            self.problem = ("capture.file.truncated", f"the file is {short}", 0)
            return
        if head in PCAP_MAGICS:
            yield from self._pcap(head)
        elif head == PCAPNG_MAGIC:
            yield from self._pcapng(head)
        else:
            self.problem = ("capture.file.invalid", f"not a pcap or pcapng file ({head.hex()})", 0)

    # -- classic pcap ---------------------------------------------------------------------

    def _pcap(self, magic: bytes) -> Iterator[Frame]:
        order, unit = PCAP_MAGICS[magic]
        header = magic + self._read(20)
        if len(header) < 24:
            self.problem = ("capture.file.truncated", "pcap header cut short", 0)
            return
        snaplen, network = struct.unpack_from(order + "II", header, 16)
        linktype = network & 0x0FFFFFFF  # upper bits may carry FCS length information
        limit = max(snaplen, 262144) if snaplen <= MAX_RECORD else MAX_RECORD
        record = struct.Struct(order + "IIII").unpack_from
        buf = b""
        base = 24  # file offset of buf[0]
        pos = 0
        need = 0
        while True:
            fresh = self._refill(buf, pos, need, "record", base)
            if fresh is None:
                return
            buf = fresh
            base += pos
            pos = 0
            size = len(buf)
            need = 0
            while pos + 16 <= size:
                sec, frac, incl, _orig = record(buf, pos)
                if incl > limit:
                    self.problem = (
                        "capture.file.invalid",
                        f"record length {incl} exceeds the snap length {snaplen}",
                        base + pos,
                    )
                    return
                end = pos + 16 + incl
                if end > size:
                    need = end - size
                    break
                self.frames_read += 1
                # 32-bit seconds and fractions always give a usable time (up to 2106).
                yield sec + frac * unit, linktype, buf[pos + 16 : end]
                pos = end

    # -- pcapng ---------------------------------------------------------------------------

    def _pcapng(self, magic: bytes) -> Iterator[Frame]:
        buf = magic
        base = 0
        pos = 0
        need = 0
        order = "<"
        # per interface: (linktype, unit seconds per tick, offset seconds, snaplen)
        interfaces: list[tuple[int, float, float, int]] = []
        last_ts = 0.0  # of the latest packet with a timestamp
        while True:
            fresh = self._refill(buf, pos, need, "block", base)
            if fresh is None:
                return
            buf = fresh
            base += pos
            pos = 0
            size = len(buf)
            need = 0
            while pos + 12 <= size:
                btype = buf[pos : pos + 4]
                if btype == PCAPNG_MAGIC:
                    bom = buf[pos + 8 : pos + 12]
                    if bom == b"\x4d\x3c\x2b\x1a":
                        order = "<"
                    elif bom == b"\x1a\x2b\x3c\x4d":
                        order = ">"
                    else:
                        self.problem = (
                            "capture.file.invalid",
                            f"bad pcapng byte-order magic {bom.hex()}",
                            base + pos,
                        )
                        return
                    interfaces = []
                (kind, length) = struct.unpack_from(order + "II", buf, pos)
                if length < 12 or length % 4 or length > MAX_RECORD:
                    self.problem = (
                        "capture.file.invalid",
                        f"bad pcapng block length {length}",
                        base + pos,
                    )
                    return
                end = pos + length
                if end > size:
                    need = end - size
                    break
                body = pos + 8
                body_end = end - 4
                if kind == 6 or kind == 2:
                    if body_end - body < 20:
                        self._bad_block(
                            f"packet block too short ({body_end - body} bytes after its header)",
                            base + pos,
                        )
                        pos = end
                        continue
                    if kind == 6:
                        iface, high, low, caplen, _ = struct.unpack_from(order + "IIIII", buf, body)
                    else:
                        iface, _drops, high, low, caplen, _ = struct.unpack_from(
                            order + "HHIIII", buf, body
                        )
                    if iface >= len(interfaces) or caplen > body_end - body - 20:
                        why = _packet_problem(iface, len(interfaces), caplen, body_end - body - 20)
                        self._bad_block(why, base + pos)
                        pos = end
                        continue
                    linktype, tick, offset, _snap = interfaces[iface]
                    self.frames_read += 1
                    ts = ((high << 32) | low) * tick + offset
                    if MIN_TS <= ts <= MAX_TS:
                        last_ts = ts
                    else:
                        self._bad_time(ts, base + pos)
                    yield last_ts, linktype, buf[body + 20 : body + 20 + caplen]
                elif kind == 3:
                    if not interfaces or body_end - body < 4:
                        what = "too short" if interfaces else "before any interface block"
                        self._bad_block(f"simple packet block {what}", base + pos)
                        pos = end
                        continue
                    (orig,) = struct.unpack_from(order + "I", buf, body)
                    linktype, _tick, _offset, snap = interfaces[0]
                    caplen = min(orig, body_end - body - 4, snap or orig)
                    self.frames_read += 1
                    # No timestamp in a Simple Packet Block: the packet before's is the
                    # nearest known time (0, i.e. 1970, would wreck latencies and rates).
                    yield last_ts, linktype, buf[body + 4 : body + 4 + caplen]
                elif kind == 1:
                    if body_end - body < 8:
                        self.problem = (
                            "capture.file.invalid",
                            "interface block too short",
                            base + pos,
                        )
                        return
                    linktype, _res, snap = struct.unpack_from(order + "HHI", buf, body)
                    tick, offset = _interface_options(buf, body + 8, body_end, order)
                    interfaces.append((linktype, tick, offset, snap))
                pos = end


def _packet_problem(iface: int, interfaces: int, caplen: int, room: int) -> str:
    """What is wrong with a packet block naming ``iface`` (of ``interfaces`` described) that
    says it holds ``caplen`` bytes in its ``room``."""
    if iface >= interfaces:
        return (
            f"packet block names interface {iface}, which no interface block before it "
            f"describes ({interfaces} did)"
        )
    return f"packet block's captured length {caplen} overruns its block ({room} bytes)"


def _interface_options(buf: bytes, pos: int, end: int, order: str) -> tuple[float, float]:
    """The (seconds per tick, offset seconds) an interface description block declares."""
    tick = 1e-6
    offset = 0.0
    while pos + 4 <= end:
        code, length = struct.unpack_from(order + "HH", buf, pos)
        value = pos + 4
        if code == 0 or value + length > end:
            break
        if code == 9 and length >= 1:
            resol = buf[value]
            tick = 2.0 ** -(resol & 0x7F) if resol & 0x80 else 10.0**-resol
        elif code == 14 and length >= 8:
            (offset_int,) = struct.unpack_from(order + "q", buf, value)
            offset = float(offset_int)
        pos = value + ((length + 3) & ~3)
    return tick, offset
