"""The decoders of an :class:`~ioproto_appproto.protocol.AppProtocol`'s bindings.

:class:`EventDecoder` (layer ``app``, rides on ``socketio``) accepts only the Socket.IO
EVENTs one of its bindings names, and the ACKs answering such an EVENT (``answers``). For
each it returns the EVENT or ACK itself, unchanged, followed by one
:class:`~ioproto_appproto.records.AppMessage` per bound argument (or an error record
``app.<protocol>.parse`` / ``app.<protocol>.not-binary``). Every other record passes the
layer untouched, because no decoder of the layer accepts it. Keeping the EVENT means
classifiers, statistics and ack pairing (``answers``) see the same Socket.IO records with or
without an application protocol; the AppMessage adds the decoded view next to it.

:class:`EngineIODecoder` sits in the ``socketio`` layer with ``priority`` 20 (asked before
the Socket.IO parsers) and accepts only the binary Engine.IO messages its bindings name; it
replaces each with an AppMessage (on a parse failure: an error record, and the Engine.IO
message passes on unchanged).

Neither raises: construct exceptions (and any exception of a format's own code, which need
not be a ``ConstructError``) become error records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ioproto_http.records import Chunk
from ioproto_socketio.records import AckRequest, SocketIOPacket

from ioproto.components import DecodeContext
from ioproto.constructs import parse as parse_construct
from ioproto.model import ErrorRecord, Record, error_from, record_context

from .bindings import AckArg, Binding, EngineIOBinary, EventArg, SocketIOArg
from .convert import to_plain
from .records import LAYER, AppMessage


def parse(
    protocol: str, binding: SocketIOArg | EngineIOBinary, data: bytes
) -> tuple[Any, str | None]:
    """``(fields, None)`` for ``data`` parsed with ``binding.format``, or ``(None, reason)``."""
    try:
        return to_plain(parse_construct(binding.format, data)), None
    except Exception as exc:  # construct errors, and adapters' own exceptions
        return None, f"{binding.name}: {type(exc).__name__}: {exc}"


class EventDecoder:
    """``app-<protocol>``: Socket.IO event arguments → AppMessage records."""

    layer = LAYER
    rides_on = "socketio"

    def __init__(self, protocol: str, description: str, bindings: tuple[Binding, ...]) -> None:
        self.protocol = protocol
        self.name = f"app-{protocol}"
        self.description = description or f"application protocol {protocol!r}"
        self.options: dict[str, str] = {}
        bound = [b for b in bindings if isinstance(b, EventArg | AckArg)]
        self.types = tuple(f"{protocol}.{binding.name}" for binding in bound)
        # (type, nsp, event) -> bindings; an ACK is keyed by the EVENT it answers
        self._bound: dict[tuple[str, str, str], list[SocketIOArg]] = {}
        for binding in bindings:
            if isinstance(binding, EventArg | AckArg):
                kind = "EVENT" if isinstance(binding, EventArg) else "ACK"
                key = (kind, binding.nsp, binding.event)
                self._bound.setdefault(key, []).append(binding)

    def accepts(self, record: Record) -> bool:
        """Socket.IO EVENTs whose namespace and name one of the bindings names, and ACKs
        answering such an EVENT."""
        return bool(bindings_for(record, self._bound))

    def open(self, context: DecodeContext) -> EventStream:
        return EventStream(self.protocol, self._bound, context)


def bindings_for(
    record: Record, bound: dict[tuple[str, str, str], list[SocketIOArg]]
) -> list[SocketIOArg]:
    """The bindings that apply to Socket.IO record ``record`` (none for other records)."""
    if not isinstance(record, SocketIOPacket):
        return []
    if record.type == "EVENT":
        event = record.event
    elif record.type == "ACK" and isinstance(record.answers, AckRequest):
        event = record.answers.event
    else:
        return []
    if type(event) is not str:
        return []
    return bound.get((record.type, record.nsp, event), [])


class EventStream:
    def __init__(
        self,
        protocol: str,
        bound: dict[tuple[str, str, str], list[SocketIOArg]],
        context: DecodeContext,
    ) -> None:
        self._protocol = protocol
        self._bound = bound
        self._max_raw = context.limits.max_raw_kept
        self._max_payload = context.limits.max_payload

    def feed(self, record: Record) -> Iterable[Record]:
        out: list[Record] = [record]
        assert isinstance(record, SocketIOPacket)
        for binding in bindings_for(record, self._bound):
            if binding.direction is not None and binding.direction != record.direction:
                continue
            value = record.args[binding.arg] if 0 <= binding.arg < len(record.args) else None
            if not isinstance(value, bytes):
                what = (
                    f"{binding.event!r}"
                    if record.type == "EVENT"
                    else f"the ack of {binding.event!r}"
                )
                out.append(
                    error_from(
                        record,
                        layer=LAYER,
                        rule=f"app.{self._protocol}.not-binary",
                        reason=f"{binding.name}: argument {binding.arg} of {what} "
                        f"is {type(value).__name__}, not bytes",
                    )
                )
                continue
            out.append(self._message(record, binding, value))
        return out

    def _message(self, record: Record, binding: SocketIOArg, data: bytes) -> Record:
        if len(data) > self._max_payload:
            return error_from(
                record,
                layer=LAYER,
                rule=f"app.{self._protocol}.parse",
                reason=f"{binding.name}: {len(data)} bytes (limit {self._max_payload})",
                raw=data[: self._max_raw],
            )
        fields, problem = parse(self._protocol, binding, data)
        if problem is not None:
            return error_from(
                record,
                layer=LAYER,
                rule=f"app.{self._protocol}.parse",
                reason=problem,
                raw=data[: self._max_raw],
            )
        return AppMessage(
            **record_context(record),
            type=f"{self._protocol}.{binding.name}",
            revision=getattr(record, "revision", None),
            raw=data,
            protocol=self._protocol,
            message=binding.name,
            nsp=binding.nsp,
            event=binding.event,
            arg=binding.arg,
            fields=fields,
        )

    def close(self) -> Iterable[Record]:
        return ()


def http_path(record: Record) -> str | None:
    """The HTTP path of the request ``record`` came from (the WebSocket upgrade request for
    WebSocket messages), from the nearest chunk below it; ``None`` if unknown."""
    for ancestor in record.lineage():
        if isinstance(ancestor, Chunk):
            http = ancestor.http
            return http.path if http is not None else None
    return None


def _same_path(path: str | None, wanted: str) -> bool:
    return path is not None and path.rstrip("/") == wanted.rstrip("/")


class EngineIODecoder:
    """``app-<protocol>-engineio``: bound binary Engine.IO messages → AppMessage records."""

    layer = "socketio"
    rides_on = "engineio"
    priority = 20

    def __init__(self, protocol: str, bindings: tuple[Binding, ...]) -> None:
        self.protocol = protocol
        self.name = f"app-{protocol}-engineio"
        self.description = f"binary Engine.IO messages of application protocol {protocol!r}"
        self.bindings = [b for b in bindings if isinstance(b, EngineIOBinary)]
        self.options: dict[str, str] = {}
        self.types = tuple(f"{protocol}.{b.name}" for b in self.bindings)

    def binding_for(self, record: Record) -> EngineIOBinary | None:
        """The first binding that claims Engine.IO record ``record``, if any."""
        if record.layer != "engineio" or record.type != "message":
            return None
        data = getattr(record, "data", None)
        if not isinstance(data, bytes):
            return None
        for binding in self.bindings:
            if binding.direction is not None and binding.direction != record.direction:
                continue
            if binding.path is not None and not _same_path(http_path(record), binding.path):
                continue
            if binding.probe is not None:
                try:
                    if not binding.probe(data):
                        continue
                except Exception:  # a probe's bug must not stop decoding: "not mine"
                    continue
            return binding
        return None

    def accepts(self, record: Record) -> bool:
        return self.binding_for(record) is not None

    def open(self, context: DecodeContext) -> EngineIOStream:
        return EngineIOStream(self, context)


class EngineIOStream:
    def __init__(self, decoder: EngineIODecoder, context: DecodeContext) -> None:
        self._decoder = decoder
        self._protocol = decoder.protocol
        self._max_raw = context.limits.max_raw_kept

    def feed(self, record: Record) -> Iterable[Record]:
        binding = self._decoder.binding_for(record)
        data = getattr(record, "data", b"")
        if binding is None or not isinstance(data, bytes):
            return [record]
        fields, problem = parse(self._protocol, binding, data)
        if problem is not None:
            error: ErrorRecord = error_from(
                record,
                layer=LAYER,
                rule=f"app.{self._protocol}.parse",
                reason=problem,
                raw=data[: self._max_raw],
            )
            return [error, record]
        return [
            AppMessage(
                **record_context(record),
                type=f"{self._protocol}.{binding.name}",
                revision=getattr(record, "revision", None),
                raw=data,
                protocol=self._protocol,
                message=binding.name,
                fields=fields,
            )
        ]

    def close(self) -> Iterable[Record]:
        return ()
