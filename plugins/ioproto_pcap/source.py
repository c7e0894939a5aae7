"""The ``pcap`` capture source: capture file → frames → TCP streams → HTTP/WebSocket chunks.

Options (``context.options``, from ``--source-option KEY=VALUE`` or the API):

* ``port``: an int, a list of ints or a comma-separated string; only TCP connections whose
  server port is one of them are decoded.
* ``all_http``: keep every HTTP message, not only those that look like Engine.IO.
* ``max_connections`` (default 20000) and ``idle_timeout`` (seconds, default 900): connections
  beyond the cap, or idle longer than the timeout, are finished early and forgotten.
* ``max_reorder_bytes`` (default 4 MiB) / ``max_reorder_segments`` (default 512): per direction,
  out-of-order data beyond this is declared lost (``capture.tcp.gap``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

from ioproto.components import SourceContext
from ioproto.model import Chunk, Record

from .files import (
    CAPTURE_MAGICS,
    FrameReader,
    Problem,
    looks_like_capture,
    open_input,
    sniff,
)
from .flow import Conversation, Emitter
from .link import (
    ACK,
    RST,
    SUPPORTED_LINKTYPES,
    SYN,
    Fragment,
    Unsupported,
    format_address,
    parse_frame,
)
from .tcp import Reassembler

FIN = 0x01
SWEEP_EVERY = 1 << 16
MAX_FRAGMENT_KEYS = 10_000
MAX_CLOSED_KEYS = 100_000

Key = tuple[bytes, int, bytes, int]


class TcpConnection:
    """Both directions of one TCP connection: reassembly feeding a :class:`Conversation`."""

    __slots__ = ("conversation", "keys", "last_ts", "streams")

    def __init__(self, key: Key, conversation: Conversation, options: Mapping[str, Any]) -> None:
        self.conversation = conversation
        self.keys = (key, (key[2], key[3], key[0], key[1]))
        self.last_ts = 0.0
        segments = int(options.get("max_reorder_segments", 512))
        size = int(options.get("max_reorder_bytes", 4 << 20))
        self.streams = (
            Reassembler(
                _bind_data(conversation, 0),
                _bind_gap(conversation, 0),
                max_segments=segments,
                max_bytes=size,
            ),
            Reassembler(
                _bind_data(conversation, 1),
                _bind_gap(conversation, 1),
                max_segments=segments,
                max_bytes=size,
            ),
        )

    def segment(self, index: int, seq: int, ack: int, flags: int, payload: bytes) -> bool:
        """One segment from side ``index``; True when the connection is over."""
        stream = self.streams[index]
        if flags & ACK and self.streams[1 - index].pending:
            self.streams[1 - index].acked(ack)
        if flags & SYN:
            stream.syn(seq)
            if payload:
                stream.add((seq + 1) & 0xFFFFFFFF, payload)
            return False
        if flags & RST:
            return True
        if payload:
            stream.add(seq, payload)
        if flags & FIN:
            stream.fin(seq, len(payload))
        if stream.fin_offset is not None and stream.finished:
            self.conversation.fin(index)
            other = self.streams[1 - index]
            return other.fin_offset is not None and other.finished
        return False

    def finish(self) -> None:
        """Declare the holes lost, deliver what is buffered and end the conversation."""
        for stream in self.streams:
            stream.flush()
        self.conversation.close()


def _bind_data(conversation: Conversation, index: int) -> Callable[[bytes], None]:
    return partial(conversation.data, index)  # a partial is called faster than a lambda


def _bind_gap(conversation: Conversation, index: int) -> Callable[[int, int], None]:
    return lambda offset, length: conversation.gap(index, offset, length)


def parse_ports(value: Any) -> frozenset[int] | None:
    """The ``port`` option as a set of ints (``None``: no filter)."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return frozenset({value})
    if isinstance(value, str):
        return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
    return frozenset(int(item) for item in value)


class CaptureDecoder:
    """Turns frames into records; :meth:`frame` per frame, :meth:`finish` at the end."""

    def __init__(self, context: SourceContext) -> None:
        options = context.options
        self.options = options
        self.emitter = Emitter(options, context.limits.max_payload, context.limits.max_raw_kept)
        self.out = self.emitter.out
        self.ports = parse_ports(options.get("port"))
        self.max_connections = int(options.get("max_connections", 20_000))
        self.idle_timeout = float(options.get("idle_timeout", 900))
        self.connections: dict[Key, tuple[TcpConnection, int]] = {}
        self.closed: dict[Key, float] = {}
        self.fragments: set[tuple[bytes, bytes, int]] = set()
        self.unsupported: set[int] = set()
        self.count = 0
        self.ts = 0.0

    def frame(self, ts: float, linktype: int, frame: bytes) -> None:
        segment = parse_frame(linktype, frame)
        if segment is None:
            return
        self.count += 1
        if ts > self.ts:
            self.ts = ts
        if self.count % SWEEP_EVERY == 0:
            self._sweep()
        if isinstance(segment, (Fragment, Unsupported)):
            self._odd_frame(ts, segment)
            return
        src, dst, sport, dport, seq, ack, flags, payload = segment
        ports = self.ports
        if ports is not None and sport not in ports and dport not in ports:
            return
        key = (src, sport, dst, dport)
        entry = self.connections.get(key)
        if entry is None or (flags & SYN and not flags & ACK and entry[0].streams[entry[1]].offset):
            if entry is not None:  # a new connection reusing the ports
                self._end(entry[0], ts)
            elif not payload and not flags & SYN:
                return  # a bare ACK, FIN or RST of a connection we do not follow
            if key in self.closed and not flags & SYN:
                return  # a late retransmission after the connection ended
            entry = self._open(key, flags)
        connection, index = entry
        connection.last_ts = ts
        self.emitter.ts = ts
        if connection.segment(index, seq, ack, flags, payload):
            self._end(connection, ts)

    def _open(self, key: Key, flags: int) -> tuple[TcpConnection, int]:
        client = None
        if flags & SYN:
            client = 1 if flags & ACK else 0
        addresses = (format_address(key[0], key[1]), format_address(key[2], key[3]))
        conversation = Conversation(self.emitter, addresses, client, (key[1], key[3]), self.ports)
        connection = TcpConnection(key, conversation, self.options)
        connection.last_ts = self.ts  # the newest: never the one a sweep evicts first
        self.connections[key] = (connection, 0)
        self.connections[connection.keys[1]] = (connection, 1)
        self.closed.pop(key, None)
        self.closed.pop(connection.keys[1], None)
        if len(self.connections) > 2 * self.max_connections:
            self._sweep()
        return connection, 0

    def _end(self, connection: TcpConnection, ts: float, closed: bool = True) -> None:
        """Finish ``connection``; ``closed`` (by FIN/RST): drop its late retransmissions."""
        for key in connection.keys:
            self.connections.pop(key, None)
            if closed:
                self.closed[key] = ts
        self.emitter.ts = max(connection.last_ts, self.emitter.ts)
        connection.finish()

    def _sweep(self) -> None:
        """Finish idle connections, and the least recently used beyond the cap."""
        live = {id(conn): conn for conn, _ in self.connections.values()}
        ordered = sorted(live.values(), key=lambda conn: conn.last_ts)
        excess = len(ordered) - self.max_connections
        for connection in ordered:
            if excess <= 0 and connection.last_ts >= self.ts - self.idle_timeout:
                break
            excess -= 1
            saved = self.emitter.ts
            self.emitter.ts = connection.last_ts
            self._end(connection, connection.last_ts, closed=False)
            self.emitter.ts = saved
        if len(self.closed) > MAX_CLOSED_KEYS:
            self.closed.clear()

    def _odd_frame(self, ts: float, segment: Fragment | Unsupported) -> None:
        self.emitter.ts = ts
        if isinstance(segment, Fragment):
            key = (segment.src, segment.dst, segment.ident)
            if key in self.fragments:
                return
            if len(self.fragments) > MAX_FRAGMENT_KEYS:
                self.fragments.clear()
            self.fragments.add(key)
            src = format_address(segment.src, 0).rsplit(":", 1)[0]
            dst = format_address(segment.dst, 0).rsplit(":", 1)[0]
            self.emitter.error(
                rule="capture.ip.fragment",
                reason=(
                    f"IP fragments of datagram {segment.ident} from {src} to {dst} are not "
                    "reassembled; its data is lost"
                ),
                connection=f"{src}-{dst}",
            )
        elif segment.linktype not in self.unsupported:
            self.unsupported.add(segment.linktype)
            self.emitter.error(
                rule="capture.link.unsupported",
                reason=f"link type {segment.linktype} is not supported; its frames are skipped",
            )

    def finish(self) -> None:
        """End of input: finish every connection, in the order they were last active."""
        live = {id(conn): conn for conn, _ in self.connections.values()}
        for connection in sorted(live.values(), key=lambda conn: conn.last_ts):
            self.emitter.ts = connection.last_ts
            self._end(connection, connection.last_ts)


def read_capture(input: str, context: SourceContext) -> Iterator[Chunk | Record]:
    """Every chunk and error record of the capture ``input``, in capture order."""
    decoder = CaptureDecoder(context)
    out = decoder.out
    try:
        stream = open_input(input)
    except OSError as exc:
        decoder.emitter.error(
            rule="capture.file.invalid", reason=f"cannot open {input}: {exc}", connection=input
        )
        yield from out
        return
    with stream:
        reader = FrameReader(stream)
        frame = decoder.frame
        for ts, linktype, data in reader:
            if reader.notices:
                _report(decoder, input, reader.notices)
            frame(ts, linktype, data)
            if out:
                yield from out
                out.clear()
        if reader.bad_times > 1:
            reader.notices.append(
                (
                    "capture.time.out-of-range",
                    f"{reader.bad_times} frames in all had a time outside years 1-9999",
                    -1,
                )
            )
        if reader.problem is not None:
            reader.notices.append(reader.problem)
        _report(decoder, input, reader.notices)
        decoder.finish()
    yield from out
    out.clear()


def _report(decoder: CaptureDecoder, input: str, problems: list[Problem]) -> None:
    """Error records for the reader's ``problems`` (emptied)."""
    for rule, reason, offset in problems:
        decoder.emitter.ts = decoder.ts
        decoder.emitter.error(
            rule=rule,
            reason=f"{input}: {reason}",
            connection=input,
            offset=offset if offset >= 0 else None,
        )
    problems.clear()


class PcapSource:
    """Reads pcap and pcapng files (optionally gzip-compressed, or ``-`` for stdin)."""

    name = "pcap"
    description = (
        "pcap/pcapng capture files (also gzip-compressed, '-' for stdin): "
        "HTTP long-polling and WebSocket traffic over TCP"
    )

    def probe(self, input: str) -> float:
        """100 for a capture magic; 1 for a file that is plainly a capture although its
        header is damaged (gzip magic, or a capture file name), so that reading it gives
        an error record rather than "no source can read"; else -1."""
        if input == "-":
            return 0.1
        head = sniff(input)
        if head in CAPTURE_MAGICS:
            return 100.0
        if looks_like_capture(input):
            return 1.0
        return -1.0

    def open(self, input: str, context: SourceContext) -> Iterator[Chunk | Record]:
        """The capture's records; a large file is read in a worker process (worker.py)."""
        from .worker import read_capture_in_worker, use_worker

        if use_worker(input, context):
            return read_capture_in_worker(input, context)
        return read_capture(input, context)


__all__ = ["SUPPORTED_LINKTYPES", "PcapSource", "read_capture"]
