"""Classifier ``client``: names the client of each session from its User-Agent.

Tags, on the session's handshake record (or, when the handshake was not captured, on the
first record of the session that came with HTTP headers):

* ``client.kind``: ``browser``, ``library``, ``tool``, ``bot`` or ``unknown``.
* ``client.name``: browser family (``Chrome``, ``Firefox``, ``Mobile Safari``) or library /
  tool name (``Node.js engine.io-client``, ``python-requests``, ``aiohttp``, ``curl``).
* ``client.version``, ``client.os``, ``client.device``: when known.

The User-Agent is the ``user-agent`` header of the HTTP request the record came with (for
WebSocket records, the upgrade request).
"""

from __future__ import annotations

from collections.abc import Iterable

from ioproto_engineio.records import EngineIOHandshake

from ioproto.components import DecodeContext
from ioproto.model import Record, Tag
from ioproto.sessions import SessionStore, session_key

from .common import PerSession, find_chunk
from .useragent import ClientInfo, identify, save_known


def client_tags(info: ClientInfo) -> tuple[Tag, ...]:
    """The ``client.*`` tags for ``info`` (fields that are ``None`` are left out)."""
    tags = [Tag("client.kind", info.kind), Tag("client.name", info.name)]
    for name in ("version", "os", "device"):
        value = getattr(info, name)
        if value is not None:
            tags.append(Tag(f"client.{name}", value))
    return tuple(tags)


#: Estimated bytes of what this classifier keeps per session (a flag, in the session's state).
_COST = 100


def _named() -> bool:
    """A session's client has been named (the flag kept per session)."""
    return True


class ClientState:
    def __init__(self, sessions: SessionStore | None) -> None:
        self._done: PerSession[bool] = PerSession(sessions, "client", _named, _COST)
        self._tags: dict[ClientInfo, tuple[Tag, ...]] = {}

    def classify(self, record: Record) -> Record:
        added = self.tags(record)
        return record.with_tags(added) if added else record

    def tags(self, record: Record) -> tuple[Tag, ...]:
        """The tags this classifier adds to ``record`` (the pipeline adds them in one go)."""
        key = session_key(record)
        if key is None:
            return ()
        handshake = isinstance(record, EngineIOHandshake)
        if not handshake and (self._done.get(key) or self._done.store.has_ended(key)):
            return ()
        chunk = find_chunk(record)
        if chunk is None or chunk.http is None:
            return ()
        info = identify(chunk.http.request_header("user-agent"))
        self._done.of(key, record.ts)
        tags = self._tags.get(info)
        if tags is None:
            tags = client_tags(info)
            if len(self._tags) < 10_000:
                self._tags[info] = tags
        return tuple(tags)

    def close(self) -> Iterable[Record]:
        save_known()  # what this run identified, for the next run (see .uacache)
        return ()


class ClientClassifier:
    name = "client"
    description = "tags client.kind/name/version/os/device from the session's User-Agent"
    types: tuple[str, ...] = ()

    def open(self, context: DecodeContext) -> ClientState:
        return ClientState(context.sessions)
