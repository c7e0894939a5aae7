"""The ``socketio-msgpack`` decoder: Socket.IO packets sent by socket.io-msgpack-parser.

With that parser each Socket.IO packet is one msgpack map ``{type, nsp, data?, id?}`` in one
binary Engine.IO message (protocols.md 2.8). Version 3.x (Socket.IO protocol 5) sends every
packet so; version 2.x (protocol 4) sends CONNECT, DISCONNECT and ERROR as JSON text
(``{"type":0,"nsp":"/"}``) and the rest as msgpack. The records are the default parser's:
:class:`~ioproto_socketio.records.SocketIOPacket` and
:class:`~ioproto_socketio.records.SocketIOUnansweredAck`, with ``answers`` links kept by
:class:`ioproto_socketio.acks.AckBook`, so classifiers and sinks need not know which parser
a session used. ``wire_type`` is the map's ``type``; ``attachments`` is 0 (binary values are
inline); ``raw`` is the msgpack bytes (or the JSON text).

Which sessions: this decoder produces layer ``socketio`` next to the default parser, with a
higher priority, so the pipeline asks its stream first. Unless the decode option
``socketio_parser`` says ``msgpack`` (take every session) or ``default`` (take none), the
stream claims a session (by ``sid``, else connection) when the session's first Engine.IO
message is a binary msgpack map with ``type`` and ``nsp`` keys, or text starting with ``{``;
from then on every ``message`` and the ``close`` of that session come here. The choice is
remembered for at most ``limits.max_sessions`` sessions and ``limits.max_state_bytes`` bytes
(the oldest choice is forgotten first; its session is then judged again by its next message).

Checks follow socket.io-msgpack-parser 3.0.2 (in its order), with protocol 4 (Engine.IO 3)
allowing types 0-6. Error rules are in ``RULES``; nothing raises out of ``feed``/``close``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ioproto_socketio.acks import AckBook, key_size
from ioproto_socketio.records import LAYER, RECORD_TYPES

from ioproto.components import DecodeContext, choice_option
from ioproto.model import ErrorRecord, Record, error_from
from ioproto.sessions import Session, SessionEnd, session_key

from .unpack import UnpackError, map_keys, unpack

#: Every error rule this decoder emits, with what it means.
RULES = {
    "socketio.msgpack.unparseable": "not one msgpack value (empty, truncated, trailing bytes), "
    "or text that is not a JSON object",
    "socketio.msgpack.too-deep": "values nested deeper than limits.max_json_depth",
    "socketio.msgpack.invalid-type": "not a map, or 'type' is not an integer 0-4 (0-6 for "
    "protocol 4)",
    "socketio.msgpack.invalid-namespace": "'nsp' missing or not a string ('nil' is accepted "
    "with a note, except in strict mode)",
    "socketio.msgpack.invalid-payload": "'data' breaks the rule of its packet type",
    "socketio.msgpack.invalid-id": "'id' present but not an integer",
    "socketio.msgpack.too-large": "a message larger than limits.max_payload, or a value that "
    "would take more than limits.max_json_bytes once decoded (many small arrays or maps)",
    "socketio.message.not-data": "an Engine.IO message whose data is neither text nor bytes",
    "socketio.state.too-many-pending-acks": "see ioproto_socketio.acks",
    "socketio.state.too-many-sessions": "see ioproto_socketio.acks",
    "socketio.msgpack.internal": "a bug in this decoder (the packet is skipped)",
}

NOTE_NIL_NAMESPACE = "lenient:nil-namespace"

_NAMES_V5 = ("CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR")
_NAMES_V4 = ("CONNECT", "DISCONNECT", "EVENT", "ACK", "ERROR", "EVENT", "ACK")
_SIO_REVISION: dict[int | None, int] = {4: 5, 3: 4, 2: 4}
_PARSER_OPTION = "socketio_parser"
_MSGPACK, _DEFAULT = True, False


def looks_like_msgpack_packet(data: object) -> bool:
    """Whether an Engine.IO message's data starts a msgpack-parser session (see module doc)."""
    if isinstance(data, str):
        return data[:1] == "{"
    if not isinstance(data, bytes) or not data:
        return False
    first = data[0]
    if not (0x80 <= first <= 0x8F or first in (0xDE, 0xDF)):
        return False
    return {"type", "nsp"} <= map_keys(data)


class MsgpackDecoder:
    """Socket.IO over socket.io-msgpack-parser (layer ``socketio``, rides on ``engineio``)."""

    name = "socketio-msgpack"
    layer = LAYER
    rides_on = "engineio"
    priority = 10
    description = "Socket.IO packets sent with socket.io-msgpack-parser (chosen per session)"
    options = {
        "socketio_parser": "auto (default: by the first message of each session), msgpack or "
        "default",
        "socketio_revision": "Socket.IO protocol (4 or 5) when the session does not say",
    }
    types = RECORD_TYPES

    def accepts(self, record: Record) -> bool:
        """Engine.IO ``message``/``close`` records; the stream decides per session."""
        return record.layer == "engineio" and record.type in ("message", "close")

    def open(self, context: DecodeContext) -> MsgpackStream:
        return MsgpackStream(context)


#: Estimated bytes of one remembered parser choice besides its key.
_CHOICE_COST = 150
#: The names this parser keeps its state under in a session: its acks, its parser choice.
_NAME = "socketio-msgpack"
_CHOICE = "socketio-parser"


class MsgpackStream:
    """One pipeline's msgpack-parser state: the parser choice per session, and pending acks."""

    def __init__(self, context: DecodeContext) -> None:
        limits = context.limits
        self._max_depth = limits.max_json_depth
        self._max_json_bytes = limits.max_json_bytes
        self._max_payload = limits.max_payload
        self._max_raw = limits.max_raw_kept
        self._strict = context.strict
        self._default_revision = 5
        option = choice_option(context.options, "socketio_revision", ("4", "5"))
        if option is not None:
            self._default_revision = int(option)
        self._mode = choice_option(
            context.options, _PARSER_OPTION, ("auto", "msgpack", "default"), "auto"
        )
        self._book: AckBook[Any] = AckBook(limits, store=context.sessions, name=_NAME)
        self._sessions = self._book.store
        self._last: Record | None = None

    # -- choosing sessions --------------------------------------------------------------------

    def accepts(self, record: Record) -> bool:
        """Whether ``record`` belongs to a msgpack-parser session (claiming it if it starts one).

        The choice is kept with the session (in the session store), so it ends with it.
        """
        if record.layer != "engineio" or record.type != "message":
            return False
        if self._mode != "auto":
            return self._mode == "msgpack"
        key = session_key(record)
        holder = self._sessions.sessions.get(key)
        choice = holder.state.get(_CHOICE) if holder is not None else None
        if choice is None:
            choice = looks_like_msgpack_packet(getattr(record, "data", None))
            holder = self._sessions.session(key, record.ts)
            holder.state[_CHOICE] = choice
            holder.charge(_CHOICE_COST + key_size(key))
        return bool(choice)

    # -- the StreamDecoder protocol -----------------------------------------------------------

    def feed(self, record: Record) -> Iterable[Record]:
        """The Socket.IO records of one Engine.IO ``message``."""
        self._last = record
        out: list[Record] = []
        try:
            data = getattr(record, "data", None)
            if isinstance(data, bytes | bytearray | memoryview):
                self._binary(record, bytes(data), out)
            elif isinstance(data, str):
                self._text(record, data, out)
            else:
                out.append(
                    self._error(
                        record,
                        "socketio.message.not-data",
                        f"Engine.IO message data of type {type(data).__name__}",
                    )
                )
        except Exception as exc:  # a bug here must not stop the session
            out.append(
                self._error(record, "socketio.msgpack.internal", f"{type(exc).__name__}: {exc}")
            )
        return out

    def session_ended(self, session: Session, end: SessionEnd) -> list[Record]:
        """Unanswered acks of a session that ended."""
        return self._book.session_ended(session, end)

    def close(self) -> Iterable[Record]:
        """Unanswered acks of every session still open (without a pipeline's store)."""
        out: list[Record] = []
        last = self._last
        self._book.close(last.ts if last is not None else 0.0, out)
        return out

    # -- decoding -----------------------------------------------------------------------------

    def _binary(self, record: Record, data: bytes, out: list[Record]) -> None:
        if len(data) > self._max_payload:
            out.append(
                self._error(
                    record,
                    "socketio.msgpack.too-large",
                    f"{len(data)} bytes (limit {self._max_payload})",
                    data,
                )
            )
            return
        try:
            value = unpack(data, self._max_depth, self._max_json_bytes)
        except UnpackError as exc:
            out.append(self._error(record, exc.rule, exc.reason, data))
            return
        self._packet(record, value, data, out)

    def _text(self, record: Record, text: str, out: list[Record]) -> None:
        raw = text.encode("utf-8", "surrogatepass")
        if text[:1] != "{":
            out.append(
                self._error(
                    record,
                    "socketio.msgpack.unparseable",
                    "text message in a msgpack-parser session that is not a JSON object",
                    raw,
                )
            )
            return
        try:
            value = json.loads(text)
            _check_depth(value, self._max_depth)
        except (ValueError, RecursionError) as exc:
            out.append(self._error(record, "socketio.msgpack.unparseable", f"bad JSON: {exc}", raw))
            return
        except UnpackError as exc:
            out.append(self._error(record, exc.rule, exc.reason, raw))
            return
        self._packet(record, value, raw, out)

    def _packet(self, record: Record, value: Any, raw: bytes, out: list[Record]) -> None:
        revision = _SIO_REVISION.get(getattr(record, "revision", None), self._default_revision)
        names = _NAMES_V5 if revision >= 5 else _NAMES_V4
        if not isinstance(value, dict):
            out.append(self._error(record, "socketio.msgpack.invalid-type", "not a map", raw))
            return
        wire_type = _integer(value.get("type"))
        if wire_type is None or not 0 <= wire_type < len(names):
            out.append(
                self._error(
                    record,
                    "socketio.msgpack.invalid-type",
                    f"invalid packet type {value.get('type')!r}",
                    raw,
                )
            )
            return
        notes: tuple[str, ...] = ()
        nsp = value.get("nsp")
        if nsp is None and "nsp" in value:
            if self._strict:
                out.append(
                    self._error(
                        record,
                        "socketio.msgpack.invalid-namespace",
                        "nsp is nil (refused in strict mode)",
                        raw,
                    )
                )
                return
            nsp = "/"
            notes = (NOTE_NIL_NAMESPACE,)
        if not isinstance(nsp, str):
            out.append(
                self._error(
                    record,
                    "socketio.msgpack.invalid-namespace",
                    f"invalid namespace {nsp!r}",
                    raw,
                )
            )
            return
        data = value.get("data")
        problem = _payload_problem(wire_type, data, revision)
        if problem is not None:
            out.append(self._error(record, "socketio.msgpack.invalid-payload", problem, raw))
            return
        ack_id: int | None = None
        if value.get("id") is not None:
            ack_id = _integer(value["id"])
            if ack_id is None:
                out.append(
                    self._error(
                        record,
                        "socketio.msgpack.invalid-id",
                        f"invalid packet id {value['id']!r}",
                        raw,
                    )
                )
                return
        query = value.get("query") if revision < 5 else None
        self._book.emit(
            record,
            out,
            wire_type=wire_type,
            revision=revision,
            nsp=nsp,
            ack_id=ack_id,
            data=data,
            raw=raw,
            notes=notes,
            query=query if isinstance(query, str) else None,
        )

    def _error(self, record: Record, rule: str, reason: str, raw: bytes = b"") -> ErrorRecord:
        return error_from(record, layer=LAYER, rule=rule, reason=reason, raw=raw[: self._max_raw])


def _integer(value: Any) -> int | None:
    """``value`` if JavaScript's ``Number.isInteger`` would say yes, as an int; else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _payload_problem(wire_type: int, data: Any, revision: int) -> str | None:
    """Why ``data`` is not a valid payload for ``wire_type`` (socket.io-msgpack-parser rules)."""
    if revision >= 5:
        if wire_type == 0:
            ok = data is None or isinstance(data, dict)
            rule = "CONNECT takes nothing or an object"
        elif wire_type == 1:
            ok = data is None
            rule = "DISCONNECT takes nothing"
        elif wire_type == 4:
            ok = isinstance(data, str | dict)
            rule = "CONNECT_ERROR takes a string or an object"
        else:
            ok = isinstance(data, list)
            rule = "EVENT and ACK take an array"
    elif wire_type in (0, 1):
        ok = data is None or isinstance(data, dict)
        rule = "CONNECT and DISCONNECT take no payload"
    elif wire_type == 4:
        ok = isinstance(data, str | dict)
        rule = "ERROR takes a string"
    else:
        ok = isinstance(data, list)
        rule = "EVENT and ACK take an array"
    return None if ok else f"invalid payload: {rule}, got {type(data).__name__}"


def _check_depth(value: Any, max_depth: int) -> None:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, list | dict):
            if depth >= max_depth:
                raise UnpackError("socketio.msgpack.too-deep", f"nested deeper than {max_depth}")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
