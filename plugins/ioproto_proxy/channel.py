"""The tap between processes: the proxy (child) sends what it forwards, the pipeline (parent)
rebuilds the records.

The wire is a pipe of frames: a 9-byte header (one type byte, an unsigned 64-bit big-endian
length) then the payload. ``R`` (ready) carries the bound ``(host, port)``, ``F`` (failed)
``(category, message)`` with category ``config`` or ``listen``, ``B`` (batch) a list of plain
tuples, one per record (pickle of tuples costs a tenth of pickle of attrs records, on the
proxy's side, which is the side that must stay fast):

* a chunk: ``(ts, connection, direction, kind, data, http, seq)``;
* an error: ``(ts, connection, http, rule, reason)``;

``http`` being the :class:`HttpInfo` fields as a tuple, made once per request (pickle's memo
then sends it once per batch). A batch holds what the proxy tapped in a few milliseconds
(at most :data:`MAX_BATCH` records, sent :data:`FLUSH_SECONDS` after the first).

The bound is in records, as for the in-process :class:`~.tap.Tap`: the child counts what it
sent, the parent what it took (a shared counter it alone writes); when ``sent - taken``
reaches the queue size, the child drops the record and counts it (a shared counter it alone
writes). The pipe is written through asyncio, so a full pipe never blocks forwarding.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import select
import struct
from collections.abc import Iterator
from typing import Any, Protocol

from ioproto.model import Chunk, ChunkKind, Direction, HttpInfo, Record

from .chunks import session_fields
from .tap import proxy_error

HEADER = struct.Struct("!cQ")
READY, FAILED, BATCH = b"R", b"F", b"B"
#: A batch is sent this long after its first record (or sooner when full): one write and
#: one wake-up of the parent per batch instead of per message, for a few ms of delay.
FLUSH_SECONDS = 0.005
#: Records per batch at most: a flood is sent in pieces the parent can start on early.
MAX_BATCH = 512
_READ_SIZE = 1 << 20
_KINDS = {kind.value: kind for kind in ChunkKind}
_INFO_CACHE_SIZE = 4096

InfoTuple = tuple[Any, ...]


class Counter(Protocol):
    """A shared 64-bit integer (``multiprocessing.RawValue("q")``)."""

    value: int


def frame(kind: bytes, payload: object) -> bytes:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(kind, len(data)) + data


class ChannelTap:
    """The child's tap (a :class:`~.tap.TapWriter`): batches records as tuples and writes
    them to ``transport`` (the pipe to the parent) once per event-loop turn.

    ``dropped`` is written here only, ``taken`` read only (the parent writes it).
    """

    def __init__(
        self,
        transport: asyncio.WriteTransport,
        loop: asyncio.AbstractEventLoop,
        maxsize: int,
        dropped: Counter,
        taken: Counter,
    ) -> None:
        self._transport = transport
        self._loop = loop
        self._maxsize = max(1, maxsize)
        self._dropped = dropped
        self._taken = taken
        self._taken_seen = 0
        self._sent = 0
        self._seq = 0
        self._batch: list[tuple[Any, ...]] = []
        # id(info) -> (info, its tuple); holding info keeps its id from being reused.
        self._infos: dict[int, tuple[HttpInfo, InfoTuple]] = {}

    def send(self, kind: bytes, payload: object) -> None:
        if not self._transport.is_closing():
            self._transport.write(frame(kind, payload))

    def put_chunk(
        self,
        ts: float,
        connection: str,
        direction: Direction,
        kind: ChunkKind,
        data: bytes,
        info: HttpInfo,
    ) -> None:
        self._seq += 1
        if self._has_room():
            self._add((ts, connection, direction, kind.value, data, self._info(info), self._seq))

    def put_error(self, ts: float, connection: str, info: HttpInfo, rule: str, reason: str) -> None:
        if self._has_room():
            self._add((ts, connection, self._info(info), rule, reason))

    def flush(self) -> None:
        """Send what is batched (called by the loop :data:`FLUSH_SECONDS` after the batch's
        first record)."""
        batch = self._batch
        if not batch:
            return
        self._batch = []
        self._sent += len(batch)
        self.send(BATCH, batch)

    def _add(self, item: tuple[Any, ...]) -> None:
        batch = self._batch
        batch.append(item)
        if len(batch) == 1:
            self._loop.call_later(FLUSH_SECONDS, self.flush)
        elif len(batch) >= MAX_BATCH:
            self.flush()

    def _has_room(self) -> bool:
        queued = self._sent + len(self._batch)
        if queued - self._taken_seen < self._maxsize:
            return True
        self._taken_seen = self._taken.value
        if queued - self._taken_seen < self._maxsize:
            return True
        self._dropped.value += 1
        return False

    def _info(self, info: HttpInfo) -> InfoTuple:
        cached = self._infos.get(id(info))
        if cached is not None:
            return cached[1]
        if len(self._infos) >= _INFO_CACHE_SIZE:
            self._infos.clear()
        fields = (
            info.method,
            info.target,
            info.path,
            info.query,
            info.status,
            info.reason,
            info.headers,
            info.request_headers,
            info.request_ts,
        )
        self._infos[id(info)] = (info, fields)
        return fields


class ChannelReader:
    """The parent's end: frames from the pipe ``fd`` (which it owns and closes)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._buffer = bytearray()
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)
        self.eof = False

    def read(self, timeout: float) -> list[tuple[bytes, Any]]:
        """The complete frames that arrive within ``timeout`` seconds (``[]`` if none), as
        ``(type, payload)``; sets :attr:`eof` once the child closed its end."""
        if self.eof or not self._poll.poll(max(0, int(timeout * 1000))):
            return []
        try:
            data = os.read(self.fd, _READ_SIZE)
        except OSError:
            data = b""
        if not data:
            self.eof = True
            return []
        buffer = self._buffer
        buffer += data
        frames: list[tuple[bytes, Any]] = []
        offset, size = 0, len(buffer)
        with memoryview(buffer) as view:
            while size - offset >= HEADER.size:
                kind, length = HEADER.unpack_from(view, offset)
                end = offset + HEADER.size + length
                if end > size:
                    break
                frames.append((kind, pickle.loads(view[offset + HEADER.size : end])))
                offset = end
        if offset:
            del buffer[:offset]
        return frames

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def rebuild(batch: list[tuple[Any, ...]]) -> Iterator[Record]:
    """The records of one batch, as the in-process tap would have made them."""
    # A batch's items share their http tuple object per request (pickle's memo).
    infos: dict[int, tuple[HttpInfo, str | None, str | None, int | None]] = {}
    for item in batch:
        fields = item[2] if len(item) == 5 else item[5]
        cached = infos.get(id(fields))
        if cached is None:
            http = HttpInfo(*fields)
            cached = infos[id(fields)] = (http, *session_fields(http))
        if len(item) == 5:
            ts, connection, _, rule, reason = item
            yield proxy_error(ts, connection, cached[0], rule, reason)
            continue
        ts, connection, direction, kind, data, _, seq = item
        http, sid, transport, revision = cached
        yield Chunk(
            ts=ts,
            connection=connection,
            direction=direction,
            sid=sid,
            transport=transport,
            kind=_KINDS[kind],
            data=data,
            http=http,
            revision=revision,
            seq=seq,
        )
