"""Classifier ``error``: what kind of problem a record reports.

Tag ``error.kind`` on:

* :class:`~ioproto.model.ErrorRecord`: ``plugin`` (a plugin crashed), ``capture`` (the
  source could not read its input), ``limit`` (a configured limit was hit: rules holding
  ``.too-``), ``protocol`` (well-formed input breaking a protocol rule: rules holding
  ``.strict.``, ``.unexpected``, ``.interrupted``, ``.illegal``, ``.reserved-name``,
  ``.direction``, ``.sequence`` or ``.protocol.``) and ``decode`` (anything else: bytes that do
  not parse).
* Engine.IO ``http-error`` records: ``http``.
* Socket.IO ``CONNECT_ERROR`` (and protocol 4 ``ERROR``): ``connect-error``.
* Engine.IO heartbeats sent in the wrong direction for their revision (a client ``ping``
  in revision 4, a server ``ping`` in revision 3; ``probe`` excluded): ``protocol``.

Records that are not ErrorRecords also get ``error.reason``, a short text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ioproto_engineio.records import EngineIOHttpError, EngineIOPacket
from ioproto_socketio.records import SocketIOPacket

from ioproto.components import DecodeContext
from ioproto.model import ErrorRecord, Record, Tag

_PROTOCOL_MARKERS = (
    ".protocol.",
    ".strict.",
    ".direction",
    ".sequence",
    ".unexpected",
    ".interrupted",
    ".illegal",
    ".reserved-name",
)

#: Who may send a ``ping`` in each revision (revision 2 is unknown: both accepted).
_PINGER = {3: "c2s", 4: "s2c"}


def error_kind(rule: str, layer: str) -> str:
    """The ``error.kind`` of an :class:`~ioproto.model.ErrorRecord` rule."""
    if rule.startswith("plugin."):
        return "plugin"
    if rule.startswith("capture.") or layer == "capture":
        return "capture"
    if ".too-" in rule:
        return "limit"
    if any(marker in rule for marker in _PROTOCOL_MARKERS):
        return "protocol"
    return "decode"


def _message(data: Any) -> str:
    if isinstance(data, dict):
        message = data.get("message")
        if isinstance(message, str):
            return message
    if isinstance(data, str):
        return data
    return "" if data is None else str(data)


class ErrorState:
    def classify(self, record: Record) -> Record:
        added = self.tags(record)
        return record.with_tags(added) if added else record

    def tags(self, record: Record) -> tuple[Tag, ...]:
        """The tags this classifier adds to ``record`` (the pipeline adds them in one go)."""
        if isinstance(record, ErrorRecord):
            return (Tag("error.kind", error_kind(record.rule, record.layer)),)
        if isinstance(record, SocketIOPacket):
            if record.type in ("CONNECT_ERROR", "ERROR"):
                return (
                    Tag("error.kind", "connect-error"),
                    Tag("error.reason", _message(record.data)),
                )
            return ()
        if isinstance(record, EngineIOHttpError):
            text = record.message or (record.data if isinstance(record.data, str) else "")
            reason = f"HTTP {record.status}" + (f": {text}" if text else "")
            return (Tag("error.kind", "http"), Tag("error.reason", reason))
        if (
            isinstance(record, EngineIOPacket)
            and record.type in ("ping", "pong")
            and record.data != "probe"
            and record.direction is not None
        ):
            pinger = _PINGER.get(record.revision or 0)
            if pinger is None:
                return ()
            expected = pinger if record.type == "ping" else ("s2c" if pinger == "c2s" else "c2s")
            if record.direction != expected:
                reason = (
                    f"{record.type} sent {record.direction} in Engine.IO revision {record.revision}"
                )
                tags = (Tag("error.kind", "protocol"), Tag("error.reason", reason))
                return tuple(tags)
        return ()

    def close(self) -> Iterable[Record]:
        return ()


class ErrorClassifier:
    name = "error"
    description = "tags error.kind (decode, protocol, limit, http, connect-error, capture, plugin)"
    types: tuple[str, ...] = ()

    def open(self, context: DecodeContext) -> ErrorState:
        return ErrorState()
