"""A tap's ``sinks=``: decoding in the server's own process, read as the command reads them.

``sinks`` are ``--sink`` values: ``NAME:X`` is a file for the sink to write, or, for a sink
factory whose ``target`` is an address (``prometheus``, ``dashboard``), where it serves
(:func:`ioproto.sinkoptions.takes_path`, the command's rule). ``sink_options`` are
``--sink-option`` values, ``{"SINK.KEY": value}`` for one sink and ``{"KEY": value}`` for
every sink of the tap that takes it, checked with the command's words before any file is
opened or any page served: a name a sink does not take, or a value it refuses, is a
:class:`~ioproto.errors.UsageError` of one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

from ioproto.components import SinkContext, SinkFactory, declared_options, optional
from ioproto.errors import UsageError
from ioproto.pipeline import Pipeline
from ioproto.plugins import PluginManager, collect_components, make_plugin_manager
from ioproto.sinkoptions import not_an_option, option_problem, split_sink_options, takes_path
from ioproto.suggest import did_you_mean

from .sender import PipelineLink

#: A tap's ``close()`` is its user's stop, and the application goes on: the sinks that serve
#: stop serving then unless asked to stay (``hold=true``, ``exit=false``), where the command
#: holds them after an input that ended by itself (its ``linger``): sink -> (option, value).
STOP_AT_CLOSE: dict[str, tuple[str, Any]] = {
    "dashboard": ("hold", False),
    "prometheus": ("exit", True),
}

#: Where the words of a refusal point.
_DOCS = " (docs/taps.md)"


def pipeline_link(
    sinks: Sequence[str],
    proto: str,
    sink_options: Mapping[str, Any] | None = None,
    plugin_manager: PluginManager | None = None,
) -> PipelineLink:
    """The link that decodes a tap's records into ``sinks`` in this process; see the
    module docstring. The sinks are told their records are live (``SinkContext.live``) and
    that the input has opened (``started``: a page says where it is now, not at the first
    packet). The link's ``urls`` are where the sinks that serve can be reached (their
    ``url``), by their entry of ``sinks``."""
    plugin_manager = plugin_manager or make_plugin_manager()
    installed = collect_components(plugin_manager).sinks
    factories = {
        name: installed.get(name) for name, _, _ in (spec.partition(":") for spec in sinks)
    }
    per_sink_options = sink_settings(sinks, factories, sink_options or {})
    streams: list[IO[str]] = []
    made: list[str] = []
    specs = []
    try:
        for spec, options in zip(sinks, per_sink_options, strict=True):
            name, colon, path = spec.partition(":")
            stream: IO[str] = sys.stdout
            if colon and takes_path(factories[name]):
                if not os.path.exists(path):
                    made.append(path)
                stream = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115
                streams.append(stream)
            # The tap's records arrive as the server handles them: a live source's.
            context = SinkContext(stream=stream, color=False, options=options, live=True)
            specs.append((name, context))
        pipeline = Pipeline.build(proto=proto, sinks=specs, plugin_manager=plugin_manager)
    except BaseException:
        for stream in streams:
            stream.close()
        for path in made:  # a file this failed call made, and nothing else
            os.unlink(path)
        raise
    pipeline.start()
    urls = {}
    for spec, stage in zip(sinks, pipeline.sinks, strict=True):
        url = optional(stage.component, "Sink", "url")
        if url:
            urls[spec] = str(url)

    def close() -> None:
        pipeline.close()
        for stream in streams:
            stream.close()

    return PipelineLink(pipeline.feed, close, urls)


def sink_settings(
    sinks: Sequence[str], factories: Mapping[str, SinkFactory], sink_options: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The options each of ``sinks`` opens with, in order: ``sink_options`` meant for it
    (its own ``SINK.KEY``, and each ``KEY`` for every sink that it declares), and
    ``target`` from ``NAME:X`` for a sink that serves; a sink that serves is told to stop at
    ``close()`` (:data:`STOP_AT_CLOSE`) unless they say otherwise. A name not taken, or a value the
    sink's ``check_options`` refuses, raises :class:`~ioproto.errors.UsageError`."""
    shared, per_sink = split_sink_options(sink_options)
    _check_names(shared, per_sink, factories)
    settings = []
    for spec in sinks:
        name, _, path = spec.partition(":")
        factory = factories[name]
        declared = declared_options(factory, "SinkFactory")
        options = {k: v for k, v in shared.items() if declared is None or k in declared}
        if name in STOP_AT_CLOSE:
            key, value = STOP_AT_CLOSE[name]
            options.setdefault(key, value)
        if path and not takes_path(factory):
            options["target"] = path
        options.update(per_sink.get(name, {}))
        check = optional(factory, "SinkFactory", "check_options")
        if check is not None:
            try:
                check(options)
            except (UsageError, ValueError) as exc:
                raise UsageError(str(exc)) from None
        settings.append(options)
    return settings


def _check_names(
    shared: Mapping[str, Any],
    per_sink: Mapping[str, Mapping[str, Any]],
    factories: Mapping[str, SinkFactory],
) -> None:
    """Every ``SINK.KEY`` names a sink of the tap and one of its options, and every ``KEY``
    is an option of one of them, as ``--sink-option`` is checked."""
    for sink, keys in per_sink.items():
        factory = factories.get(sink)
        for key in keys:
            named = f"sink_options[{sink}.{key}]"
            if factory is None:
                listed = ", ".join(sorted(factories)) or "none"
                raise UsageError(
                    f"{named}: no sink {sink!r} in sinks={did_you_mean(sink, factories)}; "
                    f"its sinks: {listed}{_DOCS}"
                )
            problem = option_problem(sink, factory, key, private=False)
            if problem is not None:
                raise UsageError(f"{named}: {problem}{_DOCS}")
    valid: set[str] = set()
    for factory in factories.values():
        declared = declared_options(factory, "SinkFactory")
        if declared is None:
            return  # a sink that declares nothing may take any name
        valid.update(declared)
    for key in shared:
        if key not in valid:
            names = sorted(factories)
            owner = f"{', '.join(names)} sink{'s' if len(names) > 1 else ''}"
            raise UsageError(f"sink_options[{key}]: {not_an_option(key, valid, owner)}{_DOCS}")
