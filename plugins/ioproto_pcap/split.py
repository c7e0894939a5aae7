"""A capture read once and decoded by the workers of a sharded run (:mod:`ioproto.split`).

The units are the capture's frames. The dispatcher reads the frames and the IP and TCP
headers only, and routes each frame by its connection (the 4-tuple; the connection's
session decides its owner, :class:`~ioproto.split.SplitRouter`); a worker runs the whole
:class:`~.source.CaptureDecoder` (reassembly and all) on the frames it gets. What is not a
TCP connection's goes to worker 0: frames with IP fragments, a bad IP or TCP header or an
unsupported link type (for their error records) and the reader's notices (a damaged or cut
file). Frames that are not TCP over IP make no record and go nowhere.

Limits (besides :mod:`ioproto.split`'s): the cap on connections followed at once and the
idle timeout apply per worker, each at its own pace; a connection whose ports are used
again without a FIN or RST first may be decided again (a new SYN), and go elsewhere.
"""

from __future__ import annotations

from typing import Any

from ioproto.components import SourceContext
from ioproto.model import Record
from ioproto.split import Position, SplitRouter, UnitSender

from .capture import CaptureDecoder, end_notices, open_capture, report
from .files import FrameReader
from .link import ACK, FIN, RST, SYN, BadHeader, Fragment, Unsupported, format_address, parse_frame
from .seen import Seen

#: Where the records of the end of input go: after every frame's.
_END = float("inf")


class CaptureSplit:
    """:class:`~ioproto.split.SplitReading` of one capture file."""

    def __init__(self, input: str, context: SourceContext) -> None:
        self.input = input
        self.context = context

    def dispatch(self, sender: UnitSender) -> None:
        router = SplitRouter(sender.workers, self.context.options, sender.load)
        owners, ended = router.owners, router.ended
        add, advance, route, follow = sender.add, sender.advance, router.route, router.follow
        index = 0
        latest = 0.0  # the time the decoder in one process would have: its segments' latest
        with open_capture(self.input) as stream:
            reader = FrameReader(stream)
            for ts, linktype, data in reader:
                if reader.notices:
                    add(0, index, ("notice", latest, list(reader.notices)))
                    reader.notices.clear()
                    index += 1
                segment = parse_frame(linktype, data)
                if segment is None:
                    continue
                if ts > latest:
                    latest = ts
                if isinstance(segment, (Fragment, BadHeader, Unsupported)):  # their records
                    add(0, index, (ts, linktype, data))
                else:
                    src, dst, sport, dport, _, _, flags, payload = segment
                    key = (src, sport, dst, dport)
                    owner = owners.get(key)
                    if owner is None and not flags & SYN:
                        owner = ended.get(key)  # a late unit of an ended connection
                    elif flags & SYN and not flags & ACK and (owner is not None or key in ended):
                        router.forget(key, (dst, dport, src, sport))  # a new connection
                        owner = None
                    if owner is not None:
                        add(owner, index, (ts, linktype, data))
                        if payload:
                            follow(owner, payload)
                    else:
                        ends = ((src, sport), (dst, dport))
                        side = 0 if ends[0] <= ends[1] else 1
                        low, high = ends if side == 0 else (ends[1], ends[0])
                        name = f"{format_address(*low)}-{format_address(*high)}"
                        reverse = (dst, dport, src, sport)
                        closing = bool(flags & RST) or (
                            bool(flags & FIN) and reverse in router.finished
                        )
                        # The raw frame, parsed again by its worker: a bytes object
                        # pickles far cheaper than the parsed tuple, and the dispatcher
                        # is the one part that does not scale with the workers.
                        unit = (ts, linktype, data)
                        ready = route(index, key, reverse, name, side, payload, unit, closing)
                        for at, kept, owner in ready:
                            add(owner, at, kept)
                    if flags & (FIN | RST):
                        reverse = (dst, dport, src, sport)
                        if flags & RST:
                            router.close(key, reverse)
                        else:
                            router.fin(key, reverse)
                index += 1
                advance(router.floor(index))
            end_notices(reader)
            if reader.notices:
                add(0, index, ("notice", latest, list(reader.notices)))
            for at, kept, owner in router.finish():
                add(owner, at, kept)
            add(0, index + 1, ("frames", reader.frames_read, latest))
        sender.end()

    def decoder(self) -> CaptureUnits:
        return CaptureUnits(self.input, self.context)

    def merge_summaries(self, parts: list[Any]) -> list[Record]:
        seen = Seen()
        frames = segments = 0
        latest = 0.0
        ports = None
        for part in parts:
            part_seen, part_frames, part_segments, part_ts, ports = part
            seen.merge(part_seen)
            frames += part_frames
            segments += part_segments
            latest = max(latest, part_ts)
        summary = seen.summary(
            self.input, latest, frames=frames, segments=segments, filter_ports=ports
        )
        return [summary]


class CaptureUnits:
    """A worker's :class:`~ioproto.split.UnitDecoder`: its frames through a
    :class:`~.source.CaptureDecoder`."""

    def __init__(self, input: str, context: SourceContext) -> None:
        self.input = input
        self.decoder = CaptureDecoder(context)
        self.frames = 0

    def feed(self, index: int, unit: Any) -> list[Record]:
        decoder = self.decoder
        kind = unit[0]
        if type(kind) is float:
            decoder.unit = index
            decoder.frame(kind, unit[1], unit[2])
        elif kind == "notice":
            latest = decoder.ts
            decoder.ts = unit[1]  # the notices take the time the run had reached
            report(decoder, self.input, list(unit[2]))
            decoder.ts = latest
        else:
            self.frames = unit[1]
            # the end's records (the count of bad headers) take the time the run reached
            decoder.ts = max(decoder.ts, unit[2])
        out = decoder.out
        if not out:
            return []
        made = out[:]
        out.clear()
        return made

    def finish(self) -> list[tuple[Position, Record]]:
        out = self.decoder.out
        ended: list[tuple[Position, Record]] = []
        for connection in self.decoder.ending():
            place = (_END, connection.last_ts, connection.opened)
            ended += [((*place, n), record) for n, record in enumerate(out)]
            out.clear()
        ended += [((_END, _END, 0, n), record) for n, record in enumerate(out)]  # the counts
        out.clear()
        return ended

    def summary_part(self) -> Any:
        decoder = self.decoder
        return decoder.seen, self.frames, decoder.count, decoder.ts, decoder.ports
