"""The shapes of the library's arguments (:func:`ioproto.decode`, :meth:`Pipeline.build
<ioproto.pipeline.Pipeline.build>`): each returns the argument as the pipeline uses it, or
raises :class:`~ioproto.errors.UsageError` naming the shape it takes, with an example, so
that a wrong one is one line at the call and not a traceback from deep inside a build or a
plugin's ``write``."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .contexts import Limits, SinkContext
from .errors import UsageError
from .plugins import PluginManager


def names(argument: str, value: Iterable[str] | None, example: str) -> list[str] | None:
    """``value`` as a list of names (``None`` stays ``None``); one string is a mistake
    (its letters would be taken for names)."""
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise UsageError(f"{argument} takes a list of names: {argument}=[{example}]")
    return list(value)


def mapping(argument: str, value: Mapping[str, Any] | None, example: str) -> dict[str, Any]:
    """``value`` as a dict (``None``: empty); anything but a mapping is a mistake."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UsageError(
            f"{argument} takes a mapping of names to values, e.g. {argument}={example}, "
            f"not {type(value).__name__} {value!r:.60}"
        )
    return dict(value)


def limits(value: Limits | None) -> Limits:
    """``value``, or the default :class:`~ioproto.Limits`."""
    if value is None:
        return Limits()
    if not isinstance(value, Limits):
        raise UsageError(
            f"limits takes an ioproto.Limits, e.g. limits=ioproto.Limits(max_payload=1 << 20), "
            f"not {type(value).__name__}"
        )
    return value


def plugin_manager(value: PluginManager | None) -> PluginManager | None:
    """``value``, when it is a manager :func:`~ioproto.plugins.make_plugin_manager` made."""
    if value is not None and not isinstance(value, PluginManager):
        raise UsageError(
            f"plugin_manager takes a manager from ioproto.make_plugin_manager(plugins=[...]), "
            f"not {type(value).__name__}"
        )
    return value


def sink_pairs(sinks: Sequence[tuple[str, SinkContext]]) -> list[tuple[str, SinkContext]]:
    """``sinks`` as ``(name, SinkContext)`` pairs, each context's stream a text stream (or
    ``None``)."""
    pairs = list(sinks)
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[1], SinkContext)):
            raise UsageError(
                f"sinks takes (name, SinkContext) pairs, e.g. "
                f"[('jsonl', SinkContext(stream=sys.stdout))], not {pair!r}"
            )
        _check_stream(pair[0], pair[1].stream)
    return pairs


def _check_stream(name: str, stream: Any) -> None:
    """A path or a binary file given as a sink's stream; ``None`` passes, for a sink that
    writes to none (a program's own collecting sink)."""
    if stream is None:
        return
    opening = "open(PATH, 'w', encoding='utf-8')"
    if isinstance(stream, io.BufferedIOBase | io.RawIOBase):
        raise UsageError(
            f"sink {name!r}: its stream is open in binary mode; sinks write text: {opening}"
        )
    if not callable(getattr(stream, "write", None)):
        raise UsageError(
            f"sink {name!r}: SinkContext(stream=...) takes an open text stream, not "
            f"{type(stream).__name__} {stream!r:.60}: SinkContext(stream={opening})"
        )
