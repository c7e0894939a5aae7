"""The Socket.IO decoder layer: Engine.IO ``message`` records in, Socket.IO records out.

State is kept per session (the Engine.IO ``sid``, falling back to the connection), in the
pipeline's session store, and per direction:

* a binary packet being reassembled (a type 5/6 header waiting for its N binary messages);
* EVENTs that asked for an ack and have not been answered yet (for ``answers`` links and
  :class:`~ioproto_socketio.records.SocketIOUnansweredAck` records), kept by the public
  :class:`ioproto_socketio.acks.AckBook` that other Socket.IO parsers share.

All of it is bounded by :class:`ioproto.components.Limits`: ``max_sessions`` sessions and
``max_state_bytes`` bytes in all of them, ``max_pending`` pending acks and
``max_pending_bytes`` bytes per session, ``max_attachments`` attachments per packet.
Overflow evicts the oldest entry and says so with an error record (a session that waits for
nothing is evicted silently).

When a session ends (the Engine.IO layer's ``close``, an eviction by the store, the end of
the input), the pipeline calls :meth:`SocketIOStream.session_ended`: the session's unanswered
acks, and an error for a binary packet left incomplete, follow.

Nothing raises out of :meth:`SocketIOStream.feed` / :meth:`SocketIOStream.close`; bad input
becomes :class:`~ioproto.model.ErrorRecord` records (rules are listed in ``RULES``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ioproto.components import DecodeContext, choice_option
from ioproto.model import ErrorRecord, Record, error_from
from ioproto.sessions import Session, SessionEnd

from .acks import AckBook, AckSession
from .fastwire import FAST_MATCH, Header, parse_fast
from .payload import PayloadError, check, loads, reconstruct
from .records import LAYER, RECORD_TYPES

if TYPE_CHECKING:
    from construct import ConstructError

#: Every error rule this layer emits, with what it means.
RULES = {
    "socketio.type.unknown": "the type digit is not 0-6 (or the packet does not start with one)",
    "socketio.attachments.illegal": "a 5/6 packet without a positive '<count>-' attachment count",
    "socketio.attachments.too-many": "more attachments than limits.max_attachments",
    "socketio.id.too-long": "an ack id of more than 100 digits",
    "socketio.payload.bad-json": "the payload is not strict JSON (NaN, >100-digit integers, ...)",
    "socketio.payload.too-deep": "JSON nested deeper than limits.max_json_depth",
    "socketio.payload.too-large": "JSON that would take more than limits.max_json_bytes once "
    "decoded (many small arrays, objects or numbers)",
    "socketio.payload.invalid": "the payload breaks the rule of its packet type",
    "socketio.event.reserved-name": "a protocol-5 EVENT named connect, disconnect, ...",
    "socketio.placeholder.invalid": "a placeholder 'num' that is not an attachment index",
    "socketio.binary.unexpected": "a binary message with no binary packet waiting for it",
    "socketio.binary.interrupted": "a text packet arrived before all attachments (the partial "
    "packet is dropped; the text packet is decoded)",
    "socketio.binary.incomplete": "the session or input ended before all attachments arrived",
    "socketio.message.not-data": "an Engine.IO message whose data is neither text nor bytes",
    "socketio.state.too-many-pending-acks": "limits.max_pending unanswered acks in one session; "
    "the oldest was forgotten",
    "socketio.state.too-many-sessions": "limits.max_sessions sessions with state; the oldest "
    "was forgotten",
    "socketio.state.over-budget": "the state of all sessions went over limits.max_state_bytes; "
    "the oldest session was forgotten",
    "socketio.state.too-large": "a binary packet waiting for its attachments went over "
    "limits.max_pending_bytes; it is dropped",
    "socketio.strict.<note>": "strict mode: a leniency (see notes) refused",
    "socketio.internal": "a bug in this decoder (the packet is skipped)",
}

_SIO_REVISION: dict[int | None, int] = {4: 5, 3: 4, 2: 4}
_MAX_COUNT_DIGITS = 10
_MAX_ID_DIGITS = 100

NOTE_MISSING_PAYLOAD = "lenient:missing-payload"
NOTE_EMPTY_PACKET = "lenient:empty-packet"
NOTE_MISSING_COMMA = "lenient:missing-comma"
NOTE_NAMESPACE_QUERY = "lenient:namespace-query"


#: Estimated bytes of a binary packet's bookkeeping besides its text and attachments.
_PARTIAL_COST = 1000


class _Partial:
    """A binary packet waiting for its attachments."""

    __slots__ = (
        "buffers",
        "cost",
        "count",
        "data",
        "header",
        "id",
        "notes",
        "nsp",
        "parts",
        "query",
        "revision",
        "text",
        "wire_type",
    )

    def __init__(
        self,
        header: Record,
        text: str,
        wire_type: int,
        count: int,
        nsp: str,
        query: str | None,
        ack_id: int | None,
        data: Any,
        notes: tuple[str, ...],
        revision: int,
    ) -> None:
        self.header = header
        self.text = text
        self.wire_type = wire_type
        self.count = count
        self.nsp = nsp
        self.query = query
        self.id = ack_id
        self.data = data
        self.notes = notes
        self.revision = revision
        self.buffers: list[bytes] = []
        self.parts: list[Record] = []
        # the text and its parsed JSON, then each attachment as it comes
        self.cost = _PARTIAL_COST + 2 * len(text)


class _Session(AckSession):
    """What one session still waits for: pending acks (see AckSession) and binary packets."""

    __slots__ = ("partials", "stream")

    def __init__(self, stream: SocketIOStream) -> None:
        super().__init__()
        self.stream = stream
        self.partials: dict[str | None, _Partial] = {}

    def waiting(self) -> bool:
        return self.pending > 0 or bool(self.partials)

    def flush(self, ts: float, closing: Record | None, reason: str, out: list[Record]) -> None:
        stream = self.stream
        for partial in self.partials.values():
            stream._partials -= 1
            out.append(
                stream._error(
                    partial.header,
                    "socketio.binary.incomplete",
                    f"{reason} after {len(partial.buffers)} of {partial.count} attachments",
                    partial.text,
                )
            )
        self.partials.clear()


class SocketIODecoder:
    """The ``socketio`` decoder layer (rides on ``engineio``)."""

    name = "socketio"
    rides_on = "engineio"
    description = "Socket.IO packets (protocol 4 and 5) from Engine.IO messages"
    options = {"socketio_revision": "Socket.IO protocol (4 or 5) when the session does not say"}
    types = RECORD_TYPES

    def accepts(self, record: Record) -> bool:
        """Engine.IO ``message`` records."""
        return record.layer == "engineio" and record.type == "message"

    def open(self, context: DecodeContext) -> SocketIOStream:
        return SocketIOStream(context)


class SocketIOStream:
    """One pipeline's Socket.IO decoding state. See the module docstring."""

    def __init__(self, context: DecodeContext, *, fast: bool = True) -> None:
        """``fast=False`` parses every packet with the construct declaration (parity tests)."""
        self._fast = fast
        limits = context.limits
        self._max_depth = limits.max_json_depth
        self._max_json_bytes = limits.max_json_bytes
        self._max_attachments = limits.max_attachments
        self._max_raw = limits.max_raw_kept
        self._strict = context.strict
        self._default_revision = 5
        option = choice_option(context.options, "socketio_revision", ("4", "5"))
        if option is not None:
            self._default_revision = int(option)
        self._book: AckBook[_Session] = AckBook(
            limits, lambda: _Session(self), store=context.sessions, name="socketio"
        )
        self._partials = 0
        self._last: Record | None = None

    # -- the StreamDecoder protocol -----------------------------------------------------------

    def feed(self, record: Record) -> Iterable[Record]:
        """The Socket.IO records completed by Engine.IO record ``record``."""
        try:
            self._last = record
            data = getattr(record, "data", None)
            if type(data) is str:
                return self._text(record, data)
            if isinstance(data, bytes | bytearray | memoryview):
                return self._binary(record, bytes(data))
            return [
                self._error(
                    record,
                    "socketio.message.not-data",
                    f"Engine.IO message data of type {type(data).__name__}",
                )
            ]
        except Exception as exc:  # a bug here must not stop the session
            return [self._error(record, "socketio.internal", f"{type(exc).__name__}: {exc}")]

    def session_ended(self, session: Session, end: SessionEnd) -> list[Record]:
        """Unanswered acks and incomplete binary packets of a session that ended."""
        try:
            return self._book.session_ended(session, end)
        except Exception as exc:
            if self._last is not None:
                return [self._error(self._last, "socketio.internal", f"{exc!r}")]
            return []

    def close(self) -> Iterable[Record]:
        """Unanswered acks and incomplete binary packets of every session still open (when
        the stream runs without a pipeline's session store)."""
        out: list[Record] = []
        try:
            last = self._last
            ts = last.ts if last is not None else 0.0
            self._book.close(ts, out)
            self._partials = 0
        except Exception as exc:
            if self._last is not None:
                out.append(self._error(self._last, "socketio.internal", f"{exc!r}"))
        return out

    # -- text packets -------------------------------------------------------------------------

    def _text(self, record: Record, text: str) -> list[Record]:
        if self._partials:
            interrupted = self._interrupt(record)
            if interrupted is not None:
                return [interrupted, *self._text(record, text)]
        if self._fast:
            # The common shapes (types 0-4, namespace with comma, JSON payload) are decoded
            # here without the general path's calls; anything else, or any error, goes to
            # _text_general, which gives the same result for these shapes (parity test).
            match = FAST_MATCH(text)
            if match is not None:
                count, nsp, id_text = match.groups()
                payload = text[match.end() :]
                if payload[:1] == "/" or (nsp is not None and "?" in nsp):
                    return self._text_general(record, text)
                if count is not None:
                    binary: list[Record] = []
                    header = (ord(text[0]) - 48, count, nsp, nsp is not None, id_text, payload)
                    self._decode(record, text, header, (), binary)
                    return binary
                if payload and len(id_text) <= _MAX_ID_DIGITS:
                    wire_type = ord(text[0]) - 48
                    revision = _SIO_REVISION.get(
                        getattr(record, "revision", None), self._default_revision
                    )
                    try:
                        data = loads(payload, self._max_depth, self._max_json_bytes)
                        check(wire_type, data, revision)
                    except PayloadError:
                        return self._text_general(record, text)
                    out: list[Record] = []
                    self._book.emit(
                        record,
                        out,
                        wire_type=wire_type,
                        revision=revision,
                        nsp=nsp or "/",
                        ack_id=int(id_text) if id_text else None,
                        data=data,
                        raw=text.encode("utf-8", "surrogatepass"),
                    )
                    return out
        return self._text_general(record, text)

    def _interrupt(self, record: Record) -> ErrorRecord | None:
        """Drop the binary packet ``record``'s session and direction waits for, if any."""
        session = self._book.get(record)
        if session is None:
            return None
        partial = session.partials.pop(record.direction, None)
        if partial is None:
            return None
        self._partials -= 1
        self._book.charge(record, session, -partial.cost, [])
        return self._error(
            partial.header,
            "socketio.binary.interrupted",
            f"text packet before attachment {len(partial.buffers) + 1} of "
            f"{partial.count}: the binary packet is dropped",
            partial.text,
        )

    def _text_general(self, record: Record, text: str) -> list[Record]:
        out: list[Record] = []
        header = parse_fast(text) if self._fast else None
        notes: tuple[str, ...] = ()
        if header is None:
            if not text:
                # socket.io-parser reads "" as type Number("") === 0: CONNECT "/"
                header = (0, None, None, False, "", "")
                notes = (NOTE_EMPTY_PACKET,)
            else:
                # Only here: a run whose packets all take the fast path never loads construct.
                from construct import ConstructError

                from .wire import parse_slow

                try:
                    header = parse_slow(text)
                except ConstructError as exc:
                    out.append(self._header_error(record, text, exc))
                    return out
                except UnicodeError as exc:
                    out.append(self._error(record, "socketio.type.unknown", str(exc), text))
                    return out
        self._decode(record, text, header, notes, out)
        return out

    def _header_error(self, record: Record, text: str, exc: ConstructError) -> ErrorRecord:
        path = str(getattr(exc, "path", "") or "")
        if "attachments" in path:
            return self._error(
                record,
                "socketio.attachments.illegal",
                "a BINARY packet needs a '<count>-' attachment count",
                text,
                offset=1,
            )
        return self._error(
            record, "socketio.type.unknown", f"unknown packet type {text[:1]!r}", text, offset=0
        )

    def _decode(
        self,
        record: Record,
        text: str,
        header: Header,
        notes: tuple[str, ...],
        out: list[Record],
    ) -> None:
        wire_type, count_text, nsp_text, terminated, id_text, payload = header
        revision = _SIO_REVISION.get(getattr(record, "revision", None), self._default_revision)

        count = 0
        if count_text is not None:
            if len(count_text) > _MAX_COUNT_DIGITS or int(count_text) > self._max_attachments:
                out.append(
                    self._error(
                        record,
                        "socketio.attachments.too-many",
                        f"{count_text} attachments (limit {self._max_attachments})",
                        text,
                        offset=1,
                    )
                )
                return
            count = int(count_text)
            if count < 1:
                out.append(
                    self._error(
                        record,
                        "socketio.attachments.illegal",
                        "the attachment count must be at least 1",
                        text,
                        offset=1,
                    )
                )
                return

        nsp = "/"
        query = None
        if nsp_text is not None:
            nsp = nsp_text
            if not terminated:
                notes += (NOTE_MISSING_COMMA,)
            mark = nsp.find("?")
            if mark >= 0:
                query = nsp[mark + 1 :]
                nsp = nsp[:mark]
                if wire_type != 0 or revision >= 5:
                    notes += (NOTE_NAMESPACE_QUERY,)

        ack_id = None
        if id_text:
            if len(id_text) > _MAX_ID_DIGITS:
                out.append(
                    self._error(
                        record,
                        "socketio.id.too-long",
                        f"ack id of {len(id_text)} digits (limit {_MAX_ID_DIGITS})",
                        text,
                    )
                )
                return
            ack_id = int(id_text)

        data: Any = None
        if payload:
            try:
                data = loads(payload, self._max_depth, self._max_json_bytes)
                check(wire_type, data, revision)
            except PayloadError as exc:
                out.append(
                    self._error(record, exc.rule, exc.reason, text, offset=len(text) - len(payload))
                )
                return
        elif wire_type > 1 and wire_type != 4:
            notes += (NOTE_MISSING_PAYLOAD,)

        if count:
            session = self._book.session(record, out)
            partial = _Partial(
                record, text, wire_type, count, nsp, query, ack_id, data, notes, revision
            )
            if session.cost + partial.cost > self._book.max_pending_bytes:
                out.append(self._too_large(record, partial))
                return
            session.partials[record.direction] = partial
            self._partials += 1
            self._book.charge(record, session, partial.cost, out)
            return
        self._emit(record, text, wire_type, revision, nsp, query, ack_id, data, notes, (), out)

    # -- binary attachments -------------------------------------------------------------------

    def _binary(self, record: Record, data: bytes) -> list[Record]:
        session = self._book.get(record)
        partial = session.partials.get(record.direction) if session is not None else None
        if session is None or partial is None:
            return [
                self._error(
                    record,
                    "socketio.binary.unexpected",
                    "binary message with no binary packet waiting for attachments",
                    data,
                )
            ]
        out: list[Record] = []
        if session.cost + len(data) > self._book.max_pending_bytes:
            del session.partials[record.direction]
            self._partials -= 1
            self._book.charge(record, session, -partial.cost, out)
            out.append(self._too_large(partial.header, partial))
            return out
        partial.buffers.append(data)
        partial.parts.append(record)
        if len(partial.buffers) < partial.count:
            partial.cost += len(data)
            self._book.charge(record, session, len(data), out)
            return out
        del session.partials[record.direction]
        self._partials -= 1
        self._book.charge(record, session, -partial.cost, out)
        try:
            value = reconstruct(partial.data, partial.buffers)
        except PayloadError as exc:
            out.append(self._error(partial.header, exc.rule, exc.reason, partial.text))
            return out
        self._emit(
            partial.header,
            partial.text,
            partial.wire_type,
            partial.revision,
            partial.nsp,
            partial.query,
            partial.id,
            value,
            partial.notes,
            tuple(partial.parts),
            out,
            partial.count,
        )
        return out

    # -- records and ack pairing --------------------------------------------------------------

    def _emit(
        self,
        record: Record,
        text: str,
        wire_type: int,
        revision: int,
        nsp: str,
        query: str | None,
        ack_id: int | None,
        data: Any,
        notes: tuple[str, ...],
        parts: tuple[Record, ...],
        out: list[Record],
        attachments: int = 0,
    ) -> None:
        if notes and self._strict:
            out.append(
                self._error(
                    record,
                    "socketio.strict." + notes[0].partition(":")[2],
                    f"refused in strict mode: {', '.join(notes)}",
                    text,
                )
            )
            return
        self._book.emit(
            record,
            out,
            wire_type=wire_type,
            revision=revision,
            nsp=nsp,
            ack_id=ack_id,
            data=data,
            raw=text.encode("utf-8", "surrogatepass"),
            notes=notes,
            query=query,
            attachments=attachments,
            parts=parts,
        )

    def _too_large(self, record: Record, partial: _Partial) -> ErrorRecord:
        return self._error(
            record,
            "socketio.state.too-large",
            f"binary packet waiting for attachment {len(partial.buffers) + 1} of "
            f"{partial.count} would hold more than {self._book.max_pending_bytes} bytes "
            "(limits.max_pending_bytes): dropped",
            partial.text,
        )

    # -- errors -------------------------------------------------------------------------------

    def _error(
        self,
        record: Record,
        rule: str,
        reason: str,
        raw: str | bytes = b"",
        offset: int | None = None,
    ) -> ErrorRecord:
        if isinstance(raw, str):
            raw = raw[: self._max_raw].encode("utf-8", "surrogatepass")
        return error_from(
            record,
            layer=LAYER,
            rule=rule,
            reason=reason,
            raw=raw[: self._max_raw],
            offset=offset,
        )
