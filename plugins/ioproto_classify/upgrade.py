"""Classifier ``upgrade``: follows the polling → WebSocket upgrade of each session.

Tags:

* ``upgrade.probe`` on the ``2probe`` / ``3probe`` packets: ``"ping"`` / ``"pong"``.
* ``upgrade.time`` on the Engine.IO ``upgrade`` packet: seconds since the session's
  handshake (only when the handshake was seen).
* ``upgrade.failed`` (``True``) on the Engine.IO ``close`` packet of a session that sent a
  probe but never an ``upgrade`` packet.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs
from ioproto_engineio.records import EngineIOHandshake, EngineIOPacket

from ioproto.components import DecodeContext
from ioproto.model import Record, Tag
from ioproto.sessions import SessionStore, session_key

from .common import PerSession

_PROBE = {"ping": (Tag("upgrade.probe", "ping"),), "pong": (Tag("upgrade.probe", "pong"),)}
_FAILED = (Tag("upgrade.failed", True),)


@attrs.define(slots=True)
class _Session:
    handshake_ts: float | None = None
    probed: bool = False
    upgraded: bool = False


#: Estimated bytes of what this classifier keeps per session (a _Session).
_COST = 150


class UpgradeState:
    def __init__(self, sessions: SessionStore | None) -> None:
        self._sessions: PerSession[_Session] = PerSession(sessions, "upgrade", _Session, _COST)

    def classify(self, record: Record) -> Record:
        added = self.tags(record)
        return record.with_tags(added) if added else record

    def tags(self, record: Record) -> tuple[Tag, ...]:
        """The tags this classifier adds to ``record`` (the pipeline adds them in one go)."""
        if not isinstance(record, EngineIOPacket):
            return ()
        kind = record.type
        if kind == "message":
            return ()
        key = session_key(record)
        if key is None:
            return ()
        if isinstance(record, EngineIOHandshake):
            self._sessions.of(key, record.ts).handshake_ts = record.ts
            return ()
        if kind in _PROBE and record.data == "probe":
            self._sessions.of(key, record.ts).probed = True
            return tuple(_PROBE[kind])
        if kind == "upgrade":
            session = self._sessions.of(key, record.ts)
            session.upgraded = True
            if session.handshake_ts is not None:
                return (Tag("upgrade.time", record.ts - session.handshake_ts),)
            return ()
        if kind == "close":
            closed = self._sessions.get(key)
            if closed is not None and closed.probed and not closed.upgraded:
                return tuple(_FAILED)
        return ()

    def close(self) -> Iterable[Record]:
        return ()


class UpgradeClassifier:
    name = "upgrade"
    description = "tags upgrade.probe, upgrade.time (handshake → upgrade) and upgrade.failed"
    types: tuple[str, ...] = ()

    def open(self, context: DecodeContext) -> UpgradeState:
        return UpgradeState(context.sessions)
