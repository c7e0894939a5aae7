"""Helpers shared by the classifiers: finding a record's chunk, state per session, bounded
maps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from ioproto_http.records import Chunk, ChunkKind

from ioproto.model import Record
from ioproto.sessions import SessionStore

V = TypeVar("V")

_WEBSOCKET_KINDS = frozenset({ChunkKind.WS_TEXT, ChunkKind.WS_BINARY, ChunkKind.WS_CONTROL})
_HTTP_KINDS = frozenset({ChunkKind.HTTP_REQUEST, ChunkKind.HTTP_RESPONSE})
_BY_TRANSPORT = {
    "websocket": "websocket",
    "webtransport": "webtransport",
    "polling": "polling-xhr",
}


def find_chunk(record: Record) -> Chunk | None:
    """The capture chunk ``record`` was decoded from (itself if it is one), or ``None``."""
    current: Record | None = record
    while current is not None:  # not lineage(): a generator per record is measurably slower
        if isinstance(current, Chunk):
            return current
        current = current.parent
    return None


def transport_kind(record: Record, chunk: Chunk | None) -> str | None:
    """``polling-xhr``, ``polling-jsonp``, ``websocket``, ``webtransport`` or ``None``.

    From the chunk when there is one (JSONP = a ``j`` query parameter), else from the
    record's ``transport`` field (the ``lines`` source cannot tell JSONP from XHR).
    """
    if chunk is not None:
        kind = chunk.kind
        if kind in _HTTP_KINDS and record.transport != "websocket":  # not an upgrade request
            if chunk.http is not None and chunk.http.query_value("j") is not None:
                return "polling-jsonp"
            return "polling-xhr"
        if kind in _WEBSOCKET_KINDS:
            return "websocket"
        if kind == ChunkKind.WT_STREAM:
            return "webtransport"
    if record.transport is None:
        return None
    return _BY_TRANSPORT.get(record.transport, record.transport)


class PerSession(Generic[V]):
    """A classifier's state of each session, kept in the pipeline's session store under
    ``name`` (it ends with the session), ``cost`` bytes each; ``factory`` makes a new one.

    Without a pipeline's store (``store`` ``None``) it keeps a store of its own.
    """

    __slots__ = ("cost", "factory", "name", "store")

    def __init__(
        self, store: SessionStore | None, name: str, factory: Callable[[], V], cost: int
    ) -> None:
        self.store = store if store is not None else SessionStore()
        self.name = name
        self.factory = factory
        self.cost = cost

    def get(self, key: str) -> V | None:
        """The state of session ``key`` if it has one (nothing is started)."""
        holder = self.store.sessions.get(key)
        return holder.state.get(self.name) if holder is not None else None

    def of(self, key: str, ts: float) -> V:
        """The state of session ``key``, made if needed."""
        holder = self.store.sessions.get(key)
        state: V | None = holder.state.get(self.name) if holder is not None else None
        if state is None:
            holder = self.store.session(key, ts)
            state = self.factory()
            holder.state[self.name] = state
            holder.charge(self.cost)
        return state


def wire_size(record: Record) -> int:
    """Bytes ``record`` took on the wire: the ``raw`` of its Engine.IO packet (else of the
    nearest record that has one) plus the bytes of the binary attachments that came with it."""
    size = 0
    parent = record.parent
    if parent is not None and parent.layer == "engineio":
        parent_raw: bytes = getattr(parent, "raw", b"")
        size = len(parent_raw)
    for ancestor in () if size else record.lineage():
        raw = getattr(ancestor, "raw", b"")
        if raw:
            size = len(raw)
            break
        data = getattr(ancestor, "data", None)
        if isinstance(ancestor, Chunk) and isinstance(data, bytes):
            size = len(data)
            break
    for attachment in getattr(record, "attachment_records", ()):
        raw = getattr(attachment, "raw", b"") or getattr(attachment, "data", b"")
        if isinstance(raw, bytes | str):
            size += len(raw)
    return size


class BoundedMap(Generic[V]):
    """A dict that forgets its oldest entries beyond ``limit`` (O(1) per operation).

    ``evicted`` receives the dropped items so that callers can account for them.
    """

    __slots__ = ("_items", "evicted", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._items: dict[str, V] = {}
        self.evicted: list[tuple[str, V]] = []

    def get(self, key: str) -> V | None:
        return self._items.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def set(self, key: str, value: V, *, keep_evicted: bool = False) -> None:
        items = self._items
        if key not in items and len(items) >= self.limit:
            oldest = next(iter(items))
            dropped = items.pop(oldest)
            if keep_evicted:
                self.evicted.append((oldest, dropped))
        items[key] = value

    def pop(self, key: str) -> V | None:
        return self._items.pop(key, None)

    def items(self) -> Iterator[tuple[str, V]]:
        return iter(list(self._items.items()))
