"""Helpers for testing ioproto plugins (ours and third-party ones), whatever their protocol.

* :func:`run_pipeline` runs a real pipeline over records with the plugins you name (the
  records of an Engine.IO and Socket.IO exchange are built by :mod:`ioproto_socketio.testing`);
* :func:`roundtrip` checks a construct declaration parses and builds both ways;
* :func:`plain` turns construct containers into plain dicts and lists for comparisons;
* :mod:`ioproto.testing.strategies` has hypothesis strategies (split and mutated input, JSON
  values);
* :class:`ioproto.testing.oracle.OracleProcess` runs a reference implementation (a Node
  script, say) for differential tests, one JSON request and answer per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ioproto.components import Limits
from ioproto.model import Record
from ioproto.pipeline import Pipeline
from ioproto.plugins import make_plugin_manager


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


def plain(value: Any) -> Any:
    """``value`` with construct ``Container``/``ListContainer`` turned into ``dict``/``list``
    (dropping ``_io`` and other ``_``-prefixed keys), recursively; other values unchanged."""
    return _plain(value)


__all__ = [
    "engineio_handshake",
    "make_chunk",
    "plain",
    "roundtrip",
    "run_pipeline",
    "socketio_ack",
    "socketio_event",
    "socketio_messages",
    "ws_messages",
]
