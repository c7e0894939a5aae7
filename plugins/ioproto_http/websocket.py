"""WebSocket (RFC 6455) frames → messages for one direction, with permessage-deflate (RFC 7692).

:class:`WsDirection` parses frames from a stream buffer, unmasks them, joins fragmented
messages (control frames may be interleaved) and inflates compressed ones. It appends events to
a list: ``(kind, payload, reason)`` where ``kind`` is a :class:`~ioproto_http.records.ChunkKind`
(``ws-text``, ``ws-binary``), a control frame's type (``ws-close``, ``ws-ping``, ``ws-pong``:
:data:`~ioproto_http.records.CONTROL_TYPES`) or an error rule (``capture.websocket.invalid``,
``capture.websocket.inflate``). A frame that breaks the framing stops the parser (:attr:`dead`:
what follows is dropped) until its owner resynchronises it (:meth:`lost_sync`) where the
stream may hold frames again: frames cannot be re-synchronised reliably from inside one.

A compressed message that is not kept (it inflates beyond the limit, or its compressed frames
already exceed it) is still inflated, its output dropped in pieces of at most
:data:`DISCARD_PIECE` bytes, so that the compression context it shares with the messages
after it stays in step and they decode. That costs time, not memory; past
:data:`KEEP_IN_STEP` times the limit of output for one message, the context is let go (the
messages after it are dropped, ``capture.websocket.inflate``).

A data frame whose header is valid but whose length exceeds the limit is not held: its message
is reported once (as one fragmented beyond the limit is) and the frame's payload is skipped by
its length as it arrives, across as many calls as it takes (:attr:`WsDirection.skip_left`);
the frame after it decodes. A TCP gap inside it only counts down the skip
(:meth:`WsDirection.skip_lost`); where a connection is picked up mid-stream, or its frames are
looked for again, it counts as a frame (:func:`probe_frames`). A compressed one is inflated as
it passes, as above, to keep the context in step. A length past :data:`MAX_TRUSTED_LENGTH` is
taken for a bad frame instead.
"""

from __future__ import annotations

import struct
import zlib

from ioproto.render import plural

from .masking import unmask
from .records import control_type

Event = tuple[str, bytes, str]

INVALID = "capture.websocket.invalid"
INFLATE = "capture.websocket.inflate"
_KINDS = {1: "ws-text", 2: "ws-binary"}
_VALID_OPCODES = frozenset({0, 1, 2, 8, 9, 10})
_TAIL = b"\x00\x00\xff\xff"
#: A message dropped for its size is inflated (its output thrown away) to keep the shared
#: compression context in step for up to this many times the limit of output; past it, a
#: deflate bomb would cost seconds per message: the context is lost instead.
KEEP_IN_STEP = 16
#: The most output one step of inflating a dropped message makes (memory, not correctness).
DISCARD_PIECE = 256 * 1024
#: The most compressed input one step hands to zlib: its unconsumed tail is copied at each
#: step, so a large input would cost time quadratic in its size.
_DISCARD_INPUT = 64 * 1024
#: Why the compression context is not known, unless said otherwise.
_UNKNOWN_CONTEXT = "started before the capture (or a gap)"
_UNINFLATABLE = "was let go after a message that could not be inflated"
#: What a bad frame's reason adds: what happens to the frames after it (the HTTP layer
#: resynchronises the direction as after lost bytes).
_AFTER_BAD_FRAME = "; the frames after it are looked for again where a TCP segment starts"
#: Why the compression context is not known after a bad frame.
AFTER_BAD_FRAME_CONTEXT = "was let go at a bad frame"
#: A frame length beyond this is not trusted: no capture holds such a frame, so its header is
#: more likely bytes out of step read as one, and skipping by it would silently swallow the
#: rest of the direction; it is a bad frame (the resync loses only the rest of its segment).
#: Up to it a length is trusted, as skipping costs time, never memory.
MAX_TRUSTED_LENGTH = 1 << 40
_u16 = struct.Struct(">H").unpack_from
_u64 = struct.Struct(">Q").unpack_from


def deflate_parameters(header: str | None) -> dict[str, str] | None:
    """The permessage-deflate parameters accepted in a 101 ``Sec-WebSocket-Extensions``."""
    if not header:
        return None
    for extension in header.split(","):
        name, *params = (part.strip() for part in extension.split(";"))
        if name.lower() != "permessage-deflate":
            continue
        result: dict[str, str] = {}
        for param in params:
            key, _, value = param.partition("=")
            result[key.strip().lower()] = value.strip().strip('"')
        return result
    return None


class WsDirection:
    """Frame parser and message assembler for one direction.

    ``deflate`` says whether permessage-deflate was negotiated, ``no_takeover`` whether this
    direction resets its compression context per message, ``context_known`` whether the
    capture holds the start of the compression context (false after a mid-stream pick-up or a
    gap). Inflating always uses a 2**15 window: a larger window decodes any smaller one.
    """

    __slots__ = (
        "compressed",
        "context_known",
        "context_why",
        "dead",
        "deflate",
        "discard_budget",
        "inflate_reported",
        "inflater",
        "limit",
        "no_takeover",
        "opcode",
        "parts",
        "size",
        "skip_fin",
        "skip_left",
        "skip_mask",
        "skipping",
    )

    def __init__(
        self, *, deflate: bool, no_takeover: bool, limit: int, context_known: bool = True
    ) -> None:
        self.deflate = deflate
        self.no_takeover = no_takeover
        self.limit = limit
        self.context_known = context_known
        self.context_why = _UNKNOWN_CONTEXT  # why the context is not known, when it is not
        self.inflater: zlib._Decompress | None = None
        # output bytes a skipped compressed message may still make (see KEEP_IN_STEP)
        self.discard_budget = 0
        self.inflate_reported = False
        self.dead = False
        self.opcode = 0  # opcode of the message being assembled, 0 = none
        self.compressed = False
        self.parts: list[bytes] = []
        self.size = 0
        self.skipping = False
        # payload bytes of a frame over the limit still to skip, whether the frame ends its
        # message, and its mask key turned to where the skip stands (b"": unmasked)
        self.skip_left = 0
        self.skip_fin = False
        self.skip_mask = b""

    def lost_sync(self, why: str = _UNKNOWN_CONTEXT) -> None:
        """Bytes were lost (or skipped after a bad frame: ``why`` the compression context
        is not known): drop the message in progress; the compression context is gone."""
        self.dead = False
        self.opcode = 0
        self.parts = []
        self.size = 0
        self.skipping = False
        self.skip_left = 0
        if not self.no_takeover:
            self._context_lost(why)

    def skip_lost(self, length: int, out: list[Event]) -> bool:
        """``length`` bytes of the stream were lost where the parser stands: when they all
        fall inside the frame being skipped, count them off its skip (a compressed one being
        inflated to keep the context in step loses that context, as after any gap) and
        return True; else False: nothing changes, the owner resynchronises."""
        if not 0 < length <= self.skip_left or self.dead:
            return False
        self.skip_left -= length
        if self.discard_budget:
            self._context_lost(_UNKNOWN_CONTEXT)
        if not self.skip_left and self.skip_fin:
            self._finish(out)
        return True

    def unfinished(self) -> tuple[str, bytes] | None:
        """The fragmented message in progress, as ``(what, first bytes)`` for a report that
        it was cut short; ``None`` when there is none, or it is being skipped for its size
        (that is reported already), or the direction stopped at a bad frame (that too)."""
        if not self.opcode or self.skipping or self.dead:
            return None
        what = (
            f"{plural(self.size, 'byte')} in {plural(len(self.parts), 'frame')} of a fragmented"
            f"{' compressed' if self.compressed else ''} {_KINDS[self.opcode]} message"
        )
        return what, self.parts[0][:64]

    def parse(self, buf: bytearray | bytes, pos: int, out: list[Event]) -> int:
        """Consume whole frames from ``buf[pos:]``; return the position after the last one."""
        if self.dead:
            return len(buf)
        size = len(buf)
        if self.skip_left:
            pos = self._skip(buf, pos, size, out)
        limit = self.limit
        while size - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            header = frame_length(buf, pos, size)
            if header is None:
                break
            length, head = header
            mask_at = head
            if b1 & 0x80:
                head += 4
            opcode = b0 & 0x0F
            if not b0 & 0x70 and (opcode == 1 or opcode == 2) and length <= limit:
                # An uncompressed text or binary frame: the common case, valid as far as
                # its header goes.
                end = head + length
                if end > size:
                    break
                if b1 & 0x80:
                    payload = unmask(buf[head:end], buf[mask_at : mask_at + 4])
                else:
                    payload = bytes(buf[head:end])
                pos = end
                if b0 & 0x80 and not self.opcode:  # a whole message in one frame
                    out.append((_KINDS[opcode], payload, ""))
                    continue
                self._start(opcode, b0, payload, out)
                continue
            problem = None
            if opcode not in _VALID_OPCODES:
                problem = f"unknown opcode {opcode:#x}"
            elif b0 & 0x30 or (b0 & 0x40 and (not self.deflate or opcode == 0 or opcode >= 8)):
                problem = f"reserved bits set ({b0 & 0x70:#x})"
            elif opcode >= 8 and (not b0 & 0x80 or length > 125):
                problem = "fragmented or oversized control frame"
            elif length > MAX_TRUSTED_LENGTH:
                problem = (
                    f"frame of {length} bytes: a length past {MAX_TRUSTED_LENGTH} bytes is not "
                    "trusted"
                )
            elif length > limit:
                if head > size:
                    break  # its mask key is still to come
                mask = bytes(buf[mask_at:head]) if b1 & 0x80 else b""
                first = bytes(buf[head : head + min(length, 64)])
                self._oversized(opcode, b0, length, mask, first, out)
                pos = self._skip(buf, head, size, out)
                continue
            if problem is not None:
                self.dead = True
                if self.opcode:
                    problem += "; the fragmented message in progress is lost"
                out.append((INVALID, bytes(buf[pos : pos + 16]), problem + _AFTER_BAD_FRAME))
                return size
            end = head + length
            if end > size:
                break
            if b1 & 0x80:
                payload = unmask(buf[head:end], buf[mask_at : mask_at + 4])
            else:
                payload = bytes(buf[head:end])
            pos = end
            if opcode >= 8:
                out.append((control_type(opcode), payload, ""))
                continue
            if opcode:
                self._start(opcode, b0, payload, out)
                continue
            if not self.opcode:
                out.append((INVALID, payload[:64], "continuation frame without a message"))
                continue
            if not self.skipping:
                self.parts.append(payload)
                self.size += len(payload)
            elif self.discard_budget:
                self._discard(payload)
            self._check_size(b0, out)
        return pos

    def _start(self, opcode: int, b0: int, payload: bytes, out: list[Event]) -> None:
        """The first frame of a message (opcode 1 or 2), header ``b0``."""
        if self.opcode:
            out.append((INVALID, payload[:64], "new message before the previous ended"))
            if self.compressed and not self.no_takeover:
                # the sender compressed all of it: what was not inflated is out of step
                self._context_lost("was let go after a message cut off by the next one")
        self.opcode = opcode
        self.compressed = bool(b0 & 0x40)
        self.parts = [payload]
        self.size = len(payload)
        self.skipping = False
        self._check_size(b0, out)

    def _check_size(self, b0: int, out: list[Event]) -> None:
        """After a data frame with header ``b0``: enforce the size limit, finish on FIN."""
        if self.size > self.limit and not self.skipping:
            self._drop_message(out)
        if b0 & 0x80:
            self._finish(out)

    def _drop_message(self, out: list[Event]) -> None:
        """The message in progress is over the limit: say so, let go of its frames and skip
        the rest of it (a compressed one is inflated as it passes, see the module)."""
        out.append((INVALID, b"", f"message larger than {self.limit} bytes"))
        self.skipping = True
        parts = self.parts
        self.parts = []
        self.size = 0
        if self.compressed and self.context_known and not self.no_takeover:
            # keep the context in step: inflate the frames, here and as they come
            self.discard_budget = KEEP_IN_STEP * self.limit
            for part in parts:
                self._discard(part)

    def _oversized(
        self, opcode: int, b0: int, length: int, mask: bytes, first: bytes, out: list[Event]
    ) -> None:
        """A data frame (header ``b0``, mask key ``mask``, payload starting with the masked
        bytes ``first``) of ``length`` bytes, over the limit: its message is dropped and the
        frame's payload is to be skipped (:meth:`_skip`)."""
        self.skip_left = length
        self.skip_mask = mask
        self.skip_fin = bool(b0 & 0x80)
        if opcode:
            self._start(opcode, b0 & 0x7F, b"", out)  # its end waits for the skip
        elif not self.opcode:
            payload = unmask(first, mask) if mask else first
            out.append((INVALID, payload, "continuation frame without a message"))
            self.skip_fin = False
            return
        if not self.skipping:
            self._drop_message(out)

    def _skip(self, buf: bytearray | bytes, pos: int, size: int, out: list[Event]) -> int:
        """Skip what ``buf[pos:size]`` holds of the frame being skipped (inflating it when
        its message keeps the context in step); return the position after it."""
        end = min(pos + self.skip_left, size)
        self.skip_left -= end - pos
        if self.discard_budget:
            mask = self.skip_mask
            view = memoryview(buf)
            for start in range(pos, end, _DISCARD_INPUT):
                piece = view[start : min(start + _DISCARD_INPUT, end)]
                if mask:
                    data = unmask(piece, mask)
                    turn = len(piece) & 3
                    mask = mask[turn:] + mask[:turn]
                else:
                    data = bytes(piece)
                self._discard(data)
                if not self.discard_budget:
                    break
            view.release()
            self.skip_mask = mask
        if not self.skip_left and self.skip_fin:
            self._finish(out)
        return end

    def _finish(self, out: list[Event]) -> None:
        kind = _KINDS[self.opcode]
        data = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        skipping = self.skipping
        self.opcode = 0
        self.parts = []
        self.size = 0
        self.skipping = False
        if skipping:
            if self.discard_budget:
                self._discard(_TAIL)
                self.discard_budget = 0
            return
        if self.compressed:
            inflated = self._inflate(data, out)
            if inflated is None:
                return
            data = inflated
        out.append((kind, data, ""))

    def _context_lost(self, why: str) -> None:
        self.context_known = False
        self.context_why = why
        self.inflater = None
        self.discard_budget = 0

    def _inflate(self, data: bytes, out: list[Event]) -> bytes | None:
        if not self.context_known and not self.no_takeover:
            if not self.inflate_reported:
                self.inflate_reported = True
                out.append(
                    (
                        INFLATE,
                        data[:64],
                        f"compressed message whose compression context {self.context_why}; "
                        "later compressed messages are dropped",
                    )
                )
            return None
        if self.inflater is None or self.no_takeover:
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        inflater = self.inflater
        limit = self.limit
        try:
            result = inflater.decompress(data + _TAIL, limit + 1)
        except zlib.error as exc:
            self._context_lost(_UNINFLATABLE)
            out.append((INFLATE, data[:64], f"cannot inflate message: {exc}"))
            return None
        if len(result) > limit or inflater.unconsumed_tail:
            reason = f"message inflates beyond {limit} bytes"
            if not self.no_takeover:
                # the output so far came in one piece: now go on in bounded ones
                self.discard_budget = KEEP_IN_STEP * limit - len(result)
                del result
                self._discard(inflater.unconsumed_tail, more=True)
                if not self.context_known:
                    reason += f"; its compression context {self.context_why}"
                self.discard_budget = 0
            out.append((INVALID, b"", reason))
            return None
        return result

    def _discard(self, data: bytes, more: bool = False) -> None:
        """Inflate ``data`` in the context of a message that is not kept, dropping the
        output, within :attr:`discard_budget` (past it, or on a deflate error, the context
        is lost). ``more``: the inflater may hold output of earlier input still."""
        inflater = self.inflater
        if inflater is None:
            inflater = self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        view = memoryview(data)
        budget = self.discard_budget
        try:
            for start in range(0, max(len(view), 1), _DISCARD_INPUT):
                piece: bytes | memoryview = view[start : start + _DISCARD_INPUT]
                while piece or more:
                    made = len(inflater.decompress(piece, DISCARD_PIECE))
                    budget -= made
                    if budget <= 0:
                        self._context_lost(
                            f"was let go after a message inflated beyond {KEEP_IN_STEP} times "
                            f"the limit ({KEEP_IN_STEP * self.limit} bytes)"
                        )
                        return
                    piece = inflater.unconsumed_tail
                    # a full piece of output may leave more in the inflater
                    more = made == DISCARD_PIECE
        except zlib.error:
            self._context_lost(_UNINFLATABLE)
            return
        self.discard_budget = budget


def frame_length(
    buf: bytearray | bytes | memoryview, pos: int, size: int
) -> tuple[int, int] | None:
    """The payload length of the frame at ``buf[pos]`` (at least 2 bytes there) and where its
    mask key, or else its payload, starts; ``None`` while the extended length is incomplete."""
    length = buf[pos + 1] & 0x7F
    head = pos + 2
    if length == 126:
        if size - pos < 4:
            return None
        (length,) = _u16(buf, head)
        head += 2
    elif length == 127:
        if size - pos < 10:
            return None
        (length,) = _u64(buf, head)
        head += 8
    return length, head


def probe_frames(buf: bytearray | bytes | memoryview) -> int:
    """Whether ``buf`` starts with plausible WebSocket frames (mid-stream pick-up).

    1: masked frames (a client), 2: unmasked frames (a server), 0: not WebSocket,
    -1: too little data to tell. A data frame of any length up to :data:`MAX_TRUSTED_LENGTH`
    counts, one over the size limit too (the parser then skips it by its length).
    """
    size = len(buf)
    pos = 0
    masked: bool | None = None
    complete = 0
    while pos < size and complete < 8:
        if size - pos < 2:
            break
        b0 = buf[pos]
        b1 = buf[pos + 1]
        header = frame_length(buf, pos, size)
        if header is None:
            break
        length, head = header
        opcode = b0 & 0x0F
        if b0 & 0x30 or opcode not in _VALID_OPCODES or length > MAX_TRUSTED_LENGTH:
            return 0
        if opcode >= 8 and (not b0 & 0x80 or length > 125):
            return 0
        this_masked = bool(b1 & 0x80)
        if masked is None:
            masked = this_masked
        elif masked != this_masked:
            return 0
        if this_masked:
            head += 4
        end = head + length
        if end > size:
            break
        complete += 1
        pos = end
    if masked is None:
        return -1
    return 1 if masked else 2
