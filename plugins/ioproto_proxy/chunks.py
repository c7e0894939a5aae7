"""Turning what the proxy forwards into :class:`~ioproto.model.Chunk` records.

Contract (same for every source): an HTTP request body becomes one ``http-request`` chunk
(``c2s``, even when empty), the decoded response body one ``http-response`` chunk (``s2c``),
each WebSocket message one ``ws-text``/``ws-binary`` chunk and each control frame one
``ws-control`` chunk. WebSocket chunks carry the :class:`HttpInfo` of the upgrade request.
``sid``, ``revision`` and ``transport`` come from the ``sid``, ``EIO`` and ``transport``
query parameters.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

from ioproto.model import Chunk, ChunkKind, Direction, HttpInfo


def lower_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Header pairs with lower-case names, order kept."""
    return tuple((name.lower(), value) for name, value in headers)


def request_info(
    *,
    method: str,
    target: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    ts: float,
) -> HttpInfo:
    """The :class:`HttpInfo` of a request (``request_headers`` equal to ``headers``)."""
    lowered = lower_headers(headers)
    return HttpInfo(
        method=method,
        target=target,
        path=path,
        query=tuple(query),
        headers=lowered,
        request_headers=lowered,
        request_ts=ts,
    )


def response_info(
    request: HttpInfo, *, status: int, reason: str | None, headers: Iterable[tuple[str, str]]
) -> HttpInfo:
    """The :class:`HttpInfo` of the response to ``request``."""
    return HttpInfo(
        method=request.method,
        target=request.target,
        path=request.path,
        query=request.query,
        status=status,
        reason=reason,
        headers=lower_headers(headers),
        request_headers=request.request_headers,
        request_ts=request.request_ts,
    )


def make_chunk(
    *,
    ts: float,
    connection: str,
    direction: Direction,
    kind: ChunkKind,
    data: bytes,
    http: HttpInfo,
    seq: int,
) -> Chunk:
    """A chunk with ``sid``/``revision``/``transport`` taken from ``http``'s query."""
    sid, transport, revision = session_fields(http)
    return Chunk(
        ts=ts,
        connection=connection,
        direction=direction,
        sid=sid,
        transport=transport,
        kind=kind,
        data=data,
        http=http,
        revision=revision,
        seq=seq,
    )


def session_fields(http: HttpInfo) -> tuple[str | None, str | None, int | None]:
    """``(sid, transport, revision)`` of a chunk, from the ``sid``, ``transport`` and ``EIO``
    query parameters of ``http``."""
    revision_text = http.query_value("EIO")
    revision: int | None = None
    if revision_text is not None and revision_text.isdigit():
        revision = int(revision_text)
    return http.query_value("sid") or None, http.query_value("transport"), revision


class UndecodableBody(Exception):
    """A body whose Content-Encoding the tap cannot undo (it is forwarded unchanged)."""


def decode_body(body: bytes, headers: Mapping[str, str], limit: int) -> bytes:
    """``body`` with its ``Content-Encoding`` (gzip, deflate, identity) undone.

    Raises :class:`UndecodableBody` for another encoding, corrupt data, or output larger
    than ``limit`` bytes (a decompression bomb must not cost the proxy its memory).
    """
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        # RFC 9110 deflate is zlib-wrapped; some servers send raw deflate: try both.
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS
    else:
        raise UndecodableBody(f"content-encoding {encoding!r} is not supported by the tap")
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(body, limit + 1)
    except zlib.error as exc:
        raise UndecodableBody(f"corrupt {encoding} body: {exc}") from None
    if len(out) > limit:
        raise UndecodableBody(f"decoded body is larger than {limit} bytes")
    return out
