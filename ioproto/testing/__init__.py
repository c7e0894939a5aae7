"""Helpers for testing ioproto plugins (ours and third-party ones).

* :func:`make_chunk` / :func:`ws_messages` build input records;
* :func:`run_pipeline` runs a real pipeline over them with the plugins you name;
* :func:`roundtrip` checks a construct declaration parses and builds both ways;
* :mod:`ioproto.testing.strategies` has hypothesis strategies (split, mutated input).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ioproto.components import Limits
from ioproto.model import Chunk, ChunkKind, Direction, Record
from ioproto.pipeline import Pipeline
from ioproto.plugins import make_plugin_manager


def make_chunk(
    data: bytes | str,
    *,
    kind: ChunkKind | str = ChunkKind.WS_TEXT,
    direction: Direction | None = "s2c",
    ts: float = 0.0,
    sid: str | None = None,
    revision: int | None = 4,
    transport: str | None = "websocket",
    connection: str = "test",
) -> Chunk:
    """A chunk as a capture source would make it; text is UTF-8 encoded."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return Chunk(
        ts=ts,
        connection=connection,
        direction=direction,
        sid=sid,
        transport=transport,
        kind=ChunkKind(kind),
        data=data,
        revision=revision,
    )


def ws_messages(
    messages: Iterable[tuple[Direction, str | bytes]],
    *,
    revision: int = 4,
    start: float = 0.0,
    step: float = 0.001,
    connection: str = "test",
) -> list[Chunk]:
    """One WebSocket chunk per ``(direction, message)``: text → ws-text, bytes → ws-binary."""
    chunks = []
    for number, (direction, message) in enumerate(messages):
        kind = ChunkKind.WS_BINARY if isinstance(message, bytes) else ChunkKind.WS_TEXT
        chunks.append(
            make_chunk(
                message,
                kind=kind,
                direction=direction,
                ts=start + number * step,
                revision=revision,
                connection=connection,
            )
        )
    return chunks


def run_pipeline(
    records: Iterable[Record],
    *,
    proto: str = "socketio",
    plugins: Sequence[object] | None = None,
    classifiers: Sequence[str] | None = (),
    options: dict[str, Any] | None = None,
    limits: Limits | None = None,
    strict: bool = True,
) -> list[Record]:
    """Every record a pipeline emits for ``records``, including what ``close`` flushes.

    :param plugins: plugin modules/objects to use *instead of* the installed entry points;
        ``None`` uses the installed plugins.
    :param strict: on by default in tests, so a plugin exception fails the test.
    """
    if plugins is None:
        pm = make_plugin_manager()
    else:
        pm = make_plugin_manager(load_entrypoints=False, plugins=plugins)
    pipeline = Pipeline.build(
        proto=proto,
        plugin_manager=pm,
        classifiers=None if classifiers is None else list(classifiers),
        options=options,
        limits=limits,
        strict=strict,
    )
    return list(pipeline.stream(records))


def roundtrip(format: Any, data: bytes, obj: Any = None) -> Any:
    """Check that construct ``format`` parses ``data`` (to ``obj`` if given) and builds back.

    Returns the parsed object. Comparison ignores construct's ``_io`` bookkeeping.
    """
    parsed = format.parse(data)
    if obj is not None:
        assert _plain(parsed) == _plain(obj), f"parsed {parsed!r}, expected {obj!r}"
    rebuilt = format.build(parsed)
    assert rebuilt == data, f"built {rebuilt!r}, expected {data!r}"
    return parsed


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


__all__ = ["make_chunk", "roundtrip", "run_pipeline", "ws_messages"]
