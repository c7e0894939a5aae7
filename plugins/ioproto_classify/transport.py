"""Classifier ``transport``: tags every record with the transport it travelled on.

Tag ``transport.kind``: ``polling-xhr``, ``polling-jsonp`` (HTTP requests with a ``j``
query parameter), ``websocket`` or ``webtransport``. Records whose transport is unknown get
no tag.
"""

from __future__ import annotations

from collections.abc import Iterable

from ioproto.components import DecodeContext
from ioproto.model import Record, Tag

from .common import find_chunk, transport_kind

_TAGS = {
    kind: (Tag("transport.kind", kind),)
    for kind in ("polling-xhr", "polling-jsonp", "websocket", "webtransport")
}


class TransportState:
    def classify(self, record: Record) -> Record:
        added = self.tags(record)
        return record.with_tags(added) if added else record

    def tags(self, record: Record) -> tuple[Tag, ...]:
        """The tags this classifier adds to ``record`` (the pipeline adds them in one go)."""
        kind = transport_kind(record, find_chunk(record))
        if kind is None:
            return ()
        tags = _TAGS.get(kind) or (Tag("transport.kind", kind),)
        return tuple(tags)

    def close(self) -> Iterable[Record]:
        return ()


class TransportClassifier:
    name = "transport"
    description = "tags transport.kind: polling-xhr, polling-jsonp, websocket, webtransport"
    types: tuple[str, ...] = ()

    def open(self, context: DecodeContext) -> TransportState:
        return TransportState()
