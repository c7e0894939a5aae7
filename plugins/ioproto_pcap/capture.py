"""Frames of a capture → reassembled TCP byte streams, as ``tcp`` records.

:class:`CaptureDecoder` turns frames into the records of the ``tcp`` layer
(:mod:`ioproto_tcp.records`): per connection a ``TcpOpen``, the ``TcpData`` of each side in
stream order, ``TcpGap`` for lost bytes, ``TcpFin`` and a final ``TcpClose``.
:func:`read_capture` runs it over a capture file (the ``pcap`` source, :mod:`.source`); a
sharded run's workers run it over their share of the frames (:mod:`.split`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO, NamedTuple

from ioproto_tcp.records import TcpClose, TcpData, TcpFin, TcpGap, TcpOpen

from ioproto.components import SourceContext, number_option, ports_option, size_option
from ioproto.errors import UsageError
from ioproto.fastrecords import positional_maker
from ioproto.model import ErrorRecord, Record

from .files import (
    MAX_BAD_BLOCKS,
    FrameReader,
    Problem,
    open_input,
)
from .link import (
    ACK,
    FIN,
    IP_INVALID,
    RST,
    SYN,
    BadHeader,
    Fragment,
    Unsupported,
    format_address,
    parse_frame,
)
from .seen import Seen
from .tcp import Reassembler, ReorderBudget

SWEEP_EVERY = 1 << 16
#: Frames with a bad IP or TCP header reported one by one, per capture and rule; the rest
#: are counted in one record at the end (a flood of them must not flood the output).
MAX_BAD_HEADERS = 100
MAX_FRAGMENT_KEYS = 10_000
MAX_CLOSED_KEYS = 100_000
#: The ends of a connection its peers made (a FIN each, an RST): what comes after is late.
_BY_PEERS = frozenset({"closed", "reset"})
#: What all connections may hold out of order together (source option ``max_reorder_total``).
DEFAULT_REORDER_TOTAL = 64 << 20

Key = tuple[bytes, int, bytes, int]


#: TcpData(ts=, connection=, side=, data=), positionally: one per segment with payload.
make_data = positional_maker(TcpData, ("ts", "connection", "side", "data"))

LAYER = "capture"


class Output:
    """The records of a capture in order; ``ts`` is the time of the current frame."""

    __slots__ = ("out", "ts")

    def __init__(self) -> None:
        self.out: list[Record] = []
        self.ts = 0.0

    def error(
        self,
        *,
        rule: str,
        reason: str,
        connection: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.out.append(
            ErrorRecord(
                ts=self.ts,
                connection=connection,
                layer=LAYER,
                rule=rule,
                reason=reason,
                offset=offset,
            )
        )


class TcpConnection:
    """Both directions of one TCP connection: reassembly, reported as ``tcp`` records."""

    __slots__ = ("fins", "keys", "last_ts", "name", "opened", "output", "streams")

    def __init__(
        self,
        key: Key,
        name: str,
        output: Output,
        reorder: tuple[int, int],
        budget: ReorderBudget | None = None,
    ) -> None:
        self.keys = (key, (key[2], key[3], key[0], key[1]))
        self.name = name
        self.output = output
        self.last_ts = 0.0
        self.opened = 0  # the input's unit that opened it (a split read: ioproto.split)
        self.fins = [False, False]
        segments, size = reorder
        self.streams = tuple(
            Reassembler(
                self._data_of(side),
                self._gap_of(side),
                max_segments=segments,
                max_bytes=size,
                budget=budget,
                on_give_up=self._give_up_of(side, budget),
            )
            for side in (0, 1)
        )

    def _data_of(self, side: int) -> Callable[[bytes], None]:
        output, name = self.output, self.name
        append = output.out.append

        def data(payload: bytes) -> None:
            append(make_data(output.ts, name, side, payload))

        return data

    def _gap_of(self, side: int) -> Callable[[int, int], None]:
        def gap(offset: int, length: int) -> None:
            self.output.out.append(
                TcpGap(
                    ts=self.output.ts, connection=self.name, side=side, offset=offset, length=length
                )
            )

        return gap

    def _give_up_of(self, side: int, budget: ReorderBudget | None) -> Callable[[int], None] | None:
        if budget is None:
            return None

        src, sport, dst, dport = self.keys[side]
        sender, receiver = format_address(src, sport), format_address(dst, dport)

        def give_up(held: int) -> None:
            self.output.error(
                rule="capture.reorder.over-budget",
                reason=(
                    f"the connections held more than {budget.max_bytes} bytes of out-of-order "
                    f"segments together (source option max_reorder_total): the {held} bytes "
                    f"{sender} sent to {receiver} behind a hole were delivered and the holes "
                    "declared lost"
                ),
                connection=self.name,
            )

        return give_up

    def segment(self, index: int, seq: int, ack: int, flags: int, payload: bytes) -> str | None:
        """One segment from side ``index``; when it ends the connection, the ``TcpClose``
        reason: ``reset`` (an RST), ``closed`` (both sides' FINs, all bytes before them
        delivered)."""
        stream = self.streams[index]
        if flags & ACK and self.streams[1 - index].pending:
            self.streams[1 - index].acked(ack)
        if flags & SYN:
            stream.syn(seq)
            if payload:
                stream.add((seq + 1) & 0xFFFFFFFF, payload)
            return None
        if flags & RST:
            return "reset"
        if payload:
            stream.add(seq, payload)
        if flags & FIN:
            stream.fin(seq, len(payload))
        if stream.fin_offset is not None and stream.finished:
            if not self.fins[index]:
                self.fins[index] = True
                self.output.out.append(TcpFin(ts=self.output.ts, connection=self.name, side=index))
            other = self.streams[1 - index]
            if other.fin_offset is not None and other.finished:
                return "closed"
        return None

    def finish(self, reason: str) -> None:
        """Declare the holes lost, deliver what is buffered and report the end."""
        for stream in self.streams:
            stream.flush()
        self.output.out.append(TcpClose(ts=self.output.ts, connection=self.name, reason=reason))


class CaptureOptions(NamedTuple):
    """The source options a capture decoder reads (docs/cli.md)."""

    #: the bounds of each direction's out-of-order segments: (count, bytes)
    reorder: tuple[int, int]
    #: the bound of all connections' out-of-order segments together, in bytes
    reorder_total: int
    ports: frozenset[int] | None
    max_connections: int
    idle_timeout: float

    @classmethod
    def read(cls, options: Mapping[str, Any]) -> CaptureOptions:
        """The options' values; :class:`~ioproto.errors.UsageError` for one not taken."""
        return cls(
            reorder=(
                number_option(options, "max_reorder_segments", 512, minimum=1),
                size_option(options, "max_reorder_bytes", 4 << 20),
            ),
            reorder_total=size_option(options, "max_reorder_total", DEFAULT_REORDER_TOTAL),
            ports=ports_option(options),
            max_connections=number_option(options, "max_connections", 20_000, minimum=1),
            idle_timeout=number_option(options, "idle_timeout", 900, float, minimum=0),
        )


class CaptureDecoder:
    """Turns frames into records; :meth:`frame` per frame, :meth:`finish` at the end."""

    def __init__(self, context: SourceContext) -> None:
        settings = CaptureOptions.read(context.options)
        self.reorder = settings.reorder
        self.reorder_budget = ReorderBudget(settings.reorder_total)
        self.output = Output()
        self.out = self.output.out
        self.ports = settings.ports
        self.max_connections = settings.max_connections
        self.idle_timeout = settings.idle_timeout
        self.connections: dict[Key, tuple[TcpConnection, int]] = {}
        #: the live connections, least recently active first (a frame moves its own last)
        self.recent: OrderedDict[TcpConnection, None] = OrderedDict()
        self.closed: dict[Key, float] = {}
        self.fragments: set[tuple[bytes, bytes, int]] = set()
        self.unsupported: set[int] = set()
        self.bad_headers: dict[str, int] = {}  # frames skipped for a bad header, by rule
        self.count = 0
        self.ts = 0.0
        self.seen = Seen()
        self.unit = 0  # the unit (frame) being decoded, when a split read numbers them

    def frame(self, ts: float, linktype: int, frame: bytes) -> None:
        segment = parse_frame(linktype, frame)
        if segment is None:
            return
        self.count += 1
        if ts > self.ts:
            self.ts = ts
        if self.count % SWEEP_EVERY == 0:
            self._sweep()
        if isinstance(segment, (Fragment, BadHeader, Unsupported)):
            self._odd_frame(ts, segment)
            return
        src, dst, sport, dport, seq, ack, flags, payload = segment
        ports = self.ports
        if ports is not None and sport not in ports and dport not in ports:
            self.seen.filtered.add(sport, dport, flags)
            return
        key = (src, sport, dst, dport)
        entry = self.connections.get(key)
        if entry is None or (flags & SYN and not flags & ACK and entry[0].streams[entry[1]].offset):
            if entry is not None:  # a new connection reusing the ports
                self._end(entry[0], ts, "reused")
            elif not payload and not flags & SYN:
                return  # a bare ACK, FIN or RST of a connection we do not follow
            if key in self.closed and not flags & SYN:
                return  # a late retransmission after the connection ended
            entry = self._open(key, flags, ts)
            if entry is None:
                return
        connection, index = entry
        connection.last_ts = ts
        self.recent.move_to_end(connection)
        self.output.ts = ts
        ending = connection.segment(index, seq, ack, flags, payload)
        if ending is not None:
            self._end(connection, ts, ending)

    def _open(self, key: Key, flags: int, ts: float) -> tuple[TcpConnection, int] | None:
        """Start following the connection of ``key`` (its side 0 sent this frame).

        With a port filter and the SYN in the capture, a connection whose *server* port is
        not in the filter is not followed (its client port matched); ``None`` then.
        """
        client = None
        if flags & SYN:
            client = 1 if flags & ACK else 0
            if self.ports is not None and key[3 if client == 0 else 1] not in self.ports:
                self.seen.filtered.add(key[1], key[3], flags)
                self.closed[key] = self.closed[(key[2], key[3], key[0], key[1])] = ts
                return None
        self.seen.connection(key[1], key[3], flags)
        addresses = (format_address(key[0], key[1]), format_address(key[2], key[3]))
        connection = TcpConnection(
            key, f"{addresses[0]}-{addresses[1]}", self.output, self.reorder, self.reorder_budget
        )
        connection.opened = self.unit
        self.output.ts = ts
        self.out.append(
            TcpOpen(ts=ts, connection=connection.name, endpoints=addresses, client=client)
        )
        connection.last_ts = self.ts  # the newest: never the one a sweep evicts first
        self.connections[key] = (connection, 0)
        self.connections[connection.keys[1]] = (connection, 1)
        self.recent[connection] = None
        self.closed.pop(key, None)
        self.closed.pop(connection.keys[1], None)
        if len(self.recent) > self.max_connections:
            self._evict()
        return connection, 0

    def _end(self, connection: TcpConnection, ts: float, reason: str) -> None:
        """Finish ``connection`` (``reason``: a ``TcpClose`` reason); ``closed`` (FINs) or
        ``reset`` (RST): drop its late retransmissions."""
        self.recent.pop(connection, None)
        for key in connection.keys:
            self.connections.pop(key, None)
            if reason in _BY_PEERS:
                self.closed[key] = ts
        self.output.ts = max(connection.last_ts, self.output.ts)
        connection.finish(reason)

    def _sweep(self) -> None:
        """Finish the connections idle for longer than ``idle_timeout``.

        It looks at every live connection (by ``last_ts``, which need not follow frame
        order), so it runs only every :data:`SWEEP_EVERY` frames.
        """
        live = {id(conn): conn for conn, _ in self.connections.values()}
        for connection in sorted(live.values(), key=lambda conn: conn.last_ts):
            if connection.last_ts >= self.ts - self.idle_timeout:
                break
            self._end_early(connection, "idle")
        if len(self.closed) > MAX_CLOSED_KEYS:
            self.closed.clear()

    def _evict(self) -> None:
        """Back within ``max_connections``: finish the least recently active connections
        beyond the cap (``evicted``), then those idle at the head of that order (``idle``).

        Amortised O(1) per connection: each is finished once, and the walk stops at the
        first connection it keeps.
        """
        recent = self.recent
        while len(recent) > self.max_connections:
            self._end_early(next(iter(recent)), "evicted")
        oldest = self.ts - self.idle_timeout
        while recent:
            connection = next(iter(recent))
            if connection.last_ts >= oldest:
                break
            self._end_early(connection, "idle")

    def _end_early(self, connection: TcpConnection, reason: str) -> None:
        """Finish ``connection`` before its end (``idle``, ``evicted``), at its last time."""
        saved = self.output.ts
        self.output.ts = connection.last_ts
        self._end(connection, connection.last_ts, reason)
        self.output.ts = saved

    def _odd_frame(self, ts: float, segment: Fragment | BadHeader | Unsupported) -> None:
        self.output.ts = ts
        if isinstance(segment, BadHeader):
            self._bad_header(segment)
        elif isinstance(segment, Fragment):
            key = (segment.src, segment.dst, segment.ident)
            if key in self.fragments:
                return
            if len(self.fragments) > MAX_FRAGMENT_KEYS:
                self.fragments.clear()
            self.fragments.add(key)
            src = format_address(segment.src, 0).rsplit(":", 1)[0]
            dst = format_address(segment.dst, 0).rsplit(":", 1)[0]
            self.output.error(
                rule="capture.ip.fragment",
                reason=(
                    f"IP fragments of datagram {segment.ident} from {src} to {dst} are not "
                    "reassembled; its data is lost"
                ),
                connection=f"{src}-{dst}",
            )
        elif segment.linktype not in self.unsupported:
            self.unsupported.add(segment.linktype)
            self.output.error(
                rule="capture.link.unsupported",
                reason=f"link type {segment.linktype} is not supported; its frames are skipped",
            )

    def _bad_header(self, bad: BadHeader) -> None:
        """Report a frame skipped for ``bad``, one of the first :data:`MAX_BAD_HEADERS` of
        its rule (the others are counted: :meth:`ending`)."""
        seen = self.bad_headers.get(bad.rule, 0)
        self.bad_headers[bad.rule] = seen + 1
        if seen >= MAX_BAD_HEADERS:
            return
        ports = bad.ports or (0, 0)
        src = format_address(bad.src, ports[0])
        dst = format_address(bad.dst, ports[1])
        if bad.ports is None:
            src, dst = src.rsplit(":", 1)[0], dst.rsplit(":", 1)[0]
        self.output.error(
            rule=bad.rule,
            reason=f"{bad.template.format(*bad.values)}: the frame is skipped",
            connection=f"{src}-{dst}",
        )

    def finish(self) -> None:
        """End of input: finish every connection, in the order they were last active."""
        for _ in self.ending():
            pass

    def ending(self) -> Iterator[TcpConnection]:
        """:meth:`finish`, one connection at a time: each is yielded once its records are
        in :attr:`out` (ties of ``last_ts`` in the order they opened); then the count of
        frames skipped for a bad header beyond those reported, in :attr:`out`."""
        live = {id(conn): conn for conn, _ in self.connections.values()}
        for connection in sorted(live.values(), key=lambda conn: conn.last_ts):
            self.output.ts = connection.last_ts
            self._end(connection, connection.last_ts, "input ended")
            yield connection
        self.output.ts = self.ts
        for rule, count in self.bad_headers.items():
            if count > MAX_BAD_HEADERS:
                self.output.error(
                    rule=rule,
                    reason=f"{count} frames in all were skipped for a bad "
                    f"{'IP' if rule == IP_INVALID else 'TCP'} header (the first "
                    f"{MAX_BAD_HEADERS} are reported one by one)",
                )


def read_capture(input: str, context: SourceContext) -> Iterator[Record]:
    """Every ``tcp`` record and error record of the capture ``input``, in capture order,
    then an :class:`~ioproto.model.InputSummary` of what it held. A file that cannot be
    opened raises :class:`~ioproto.errors.UsageError`."""
    decoder = CaptureDecoder(context)
    out = decoder.out
    with open_capture(input) as stream:
        reader = FrameReader(stream)
        frame = decoder.frame
        for ts, linktype, data in reader:
            if reader.notices:
                report(decoder, input, reader.notices)
            frame(ts, linktype, data)
            if out:
                yield from out
                out.clear()
        end_notices(reader)
        report(decoder, input, reader.notices)
        decoder.finish()
    yield from out
    out.clear()
    yield decoder.seen.summary(
        input,
        decoder.ts,
        frames=reader.frames_read,
        segments=decoder.count,
        filter_ports=decoder.ports,
    )


def open_capture(input: str) -> BinaryIO:
    """The byte stream of the capture ``input``; :class:`~ioproto.errors.UsageError` when
    it cannot be opened."""
    try:
        return open_input(input)
    except FileNotFoundError:
        raise UsageError(f"no such file: {input}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {input}: {exc.strerror or exc}") from None


def end_notices(reader: FrameReader) -> None:
    """Add the notices of the end of the input to ``reader.notices``."""
    if reader.bad_times > 1:
        reader.notices.append(
            (
                "capture.time.out-of-range",
                f"{reader.bad_times} frames in all had a time outside years 1-9999",
                -1,
            )
        )
    if reader.bad_blocks > MAX_BAD_BLOCKS:
        reader.notices.append(
            (
                "capture.block.invalid",
                f"{reader.bad_blocks} blocks in all were skipped as invalid (the first "
                f"{MAX_BAD_BLOCKS} are reported one by one)",
                -1,
            )
        )
    if reader.problem is not None:
        reader.notices.append(reader.problem)


def report(decoder: CaptureDecoder, input: str, problems: list[Problem]) -> None:
    """Error records for the reader's ``problems`` (emptied); the first that ended reading
    the file is kept for the input's summary."""
    for rule, reason, offset in problems:
        if rule.startswith("capture.file.") and decoder.seen.problem is None:
            decoder.seen.problem = reason
        decoder.output.ts = decoder.ts
        decoder.output.error(
            rule=rule,
            reason=f"{input}: {reason}",
            connection=input,
            offset=offset if offset >= 0 else None,
        )
    problems.clear()
