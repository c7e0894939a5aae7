"""Shared helpers for the pcap source tests."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parents[1] / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from ioproto_http.decoder import HttpStream  # noqa: E402
from ioproto_http.records import Chunk  # noqa: E402
from ioproto_pcap.capture import CaptureDecoder, read_capture  # noqa: E402

from ioproto.components import DecodeContext, Limits, SourceContext  # noqa: E402
from ioproto.model import ErrorRecord, InputSummary, Record  # noqa: E402


def decode_frames(
    frames: Iterable[tuple[float, int, bytes]],
    options: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
) -> list[Record]:
    """Run frames straight through the capture decoder (no file), then the ``http`` layer."""
    context = SourceContext(options=dict(options or {}), limits=limits or Limits())
    decoder = CaptureDecoder(context)
    for ts, linktype, frame in frames:
        decoder.frame(ts, linktype, frame)
    decoder.finish()
    return http_layer(decoder.out, context)


def decode_file(path: str, options: Mapping[str, Any] | None = None) -> list[Record]:
    """The chunks and errors of the capture at ``path``: the pcap source, then ``http``
    (without the source's closing InputSummary)."""
    context = SourceContext(options=dict(options or {}))
    records = read_capture(str(path), context)
    return http_layer((r for r in records if not isinstance(r, InputSummary)), context)


def http_layer(records: Iterable[Record], context: SourceContext) -> list[Record]:
    """What the ``http`` layer makes of a source's records (errors pass through), in order.

    The source's options are also given to the layer (``all_http``), as a test's one mapping;
    the layer above is Engine.IO's (which HTTP messages are wanted).
    """
    from ioproto_engineio.decoder import EngineIODecoder

    wanted = EngineIODecoder().accepts
    stream = HttpStream(
        DecodeContext(limits=context.limits, options=context.options, wanted=wanted)
    )
    out: list[Record] = []
    for record in records:
        if isinstance(record, ErrorRecord):
            out.append(record)
        else:
            out.extend(stream.feed(record))
    out.extend(stream.close())
    return out


def project(records: Sequence[Record]) -> list[tuple[Any, ...]]:
    """What must not change between equivalent captures (everything but ts/seq)."""
    out = []
    for r in records:
        if isinstance(r, Chunk):
            http = r.http
            out.append(
                (
                    r.connection,
                    r.direction,
                    str(r.kind),
                    r.data,
                    None
                    if http is None
                    else (
                        http.method,
                        http.target,
                        http.status,
                        http.headers,
                        http.request_headers,
                    ),
                )
            )
        elif isinstance(r, ErrorRecord):
            out.append(("error", r.rule, r.connection, r.direction))
    return out


def per_direction(records: Sequence[Record]) -> dict[tuple[Any, Any], list[tuple[Any, ...]]]:
    """Chunks grouped by (connection, direction), in order: capture order across directions
    may change with reordering, order within one direction may not."""
    groups: dict[tuple[Any, Any], list[tuple[Any, ...]]] = {}
    for item in project(records):
        if item[0] == "error":
            continue
        groups.setdefault((item[0], item[1]), []).append(item)
    return groups


def errors(records: Sequence[Record]) -> list[ErrorRecord]:
    return [r for r in records if isinstance(r, ErrorRecord)]


def chunks(records: Sequence[Record]) -> list[Chunk]:
    return [r for r in records if isinstance(r, Chunk)]
