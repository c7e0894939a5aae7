"""ioproto: see your Engine.IO and Socket.IO traffic.

The public API for embedding (see docs/embedding.md)::

    import ioproto

    for record in ioproto.decode(["capture.pcap"], proto="socketio"):
        print(record.layer, record.type, record.data)

and for feeding records as they arrive, :class:`Pipeline` (``Pipeline.build(...).feed(record)``).
Plugins use :data:`hookimpl`, the records in :mod:`ioproto.model` and the component
protocols in :mod:`ioproto.components`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .lazy import lazy_names
from .version import __version__

if TYPE_CHECKING:
    import pluggy

    from .components import DecodeContext, Limits, SinkContext, SourceContext
    from .errors import IoprotoError, NoSourceError, PluginError, PluginFailure, UsageError
    from .filters import Filter, FilterError, compile_filter
    from .lazycomponents import LazyComponent
    from .model import (
        ErrorRecord,
        InputSummary,
        Packet,
        Record,
        Tag,
        error_from,
        record_context,
    )
    from .pipeline import Pipeline
    from .plugins import PluginManager, make_plugin_manager
    from .summary import RunSummary

    hookimpl: pluggy.HookimplMarker

#: Where each public name lives. They load on first use (PEP 562), so that a process that
#: only asks for the version (``ioproto --version``) imports none of them.
_LAZY = {
    "DecodeContext": "components",
    "Limits": "components",
    "SinkContext": "components",
    "SourceContext": "components",
    "IoprotoError": "errors",
    "NoSourceError": "errors",
    "PluginError": "errors",
    "PluginFailure": "errors",
    "UsageError": "errors",
    "Filter": "filters",
    "FilterError": "filters",
    "compile_filter": "filters",
    "LazyComponent": "lazycomponents",
    "ErrorRecord": "model",
    "InputSummary": "model",
    "Packet": "model",
    "Record": "model",
    "Tag": "model",
    "error_from": "model",
    "record_context": "model",
    "Pipeline": "pipeline",
    "PluginManager": "plugins",
    "make_plugin_manager": "plugins",
    "RunSummary": "summary",
}


_lazy = lazy_names(__name__, _LAZY, globals())


def __getattr__(name: str) -> Any:
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("ioproto")
        globals()["hookimpl"] = marker  # one marker for every plugin
        return marker
    return _lazy(name)


def decode(
    inputs: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Iterable[Record],
    *,
    proto: str = "socketio",
    source: str | None = None,
    strict: bool = False,
    all_layers: bool = False,
    classifiers: Iterable[str] | None = (),
    options: Mapping[str, Any] | None = None,
    source_options: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    plugin_manager: PluginManager | None = None,
    filter: str | Filter | None = None,
    jobs: int | None = None,
) -> Iterator[Record]:
    """Decode ``inputs`` up to layer ``proto`` and yield the resulting records, streaming.

    :param inputs: a path (``str`` or :class:`pathlib.Path`; ``"-"`` for stdin; a named
        pipe or ``/dev/fd/N`` is read once, as stdin is: :mod:`ioproto.pipeinputs`), a list
        of paths, or an iterable of records that you made yourself (e.g.
        ``ioproto_http.records.Chunk`` messages); each enters at the layer that rides on its
        own.
    :param proto: the highest layer to decode: ``"engineio"``, ``"socketio"``, … or
        a layer only sources produce (``"tcp"``) for no decoding.
    :param source: the capture source to read paths with; guessed from each input if
        ``None``.
    :param classifiers: names of classifiers to run; ``()`` (the default) runs none, ``None``
        runs every registered classifier.
    :param options: decoder options, e.g. ``{"revision": 3}`` to force Engine.IO revision 3.
    :param source_options: options for the capture source.
    :param filter: only records matching this filter expression (docs/filters.md), e.g.
        ``'sio.event == "chat"'``, or a :class:`Filter` from :func:`compile_filter`. What
        cannot match is not decoded further (push-down).
    :param jobs: processes that decode a capture file (``ioproto.worker``; default: the
        cores other work leaves idle, :func:`ioproto.worker.idle_cores`; 1: this process
        alone; 3 or more, for one input: that many workers sharded by Engine.IO session,
        ``ioproto.shard``; by default a lone capture file of 4 MB or more is sharded when 5
        or more cores are idle, :func:`ioproto.worker.default_shard_workers`). The records
        are the same.

    Bad input never raises: it comes out as :class:`ErrorRecord` records, and so does an
    exception of a plugin's decoder or classifier (rule ``plugin.crash``; with ``strict``,
    :class:`PluginFailure` instead). The caller's mistakes raise :class:`UsageError`, whose
    message is one line saying what to do: an unknown ``proto``/``source``/classifier name
    (the message lists the valid ones; it is also a ``KeyError``), stdin or a pipe whose
    first bytes no source takes (:class:`NoSourceError` saying what they are not), an option
    that no decoder takes (of ``source_options``: that the input's source does not take) or
    a value it refuses, an input that cannot be opened at all (an interface that does not
    exist, say); a plugin that cannot work as written raises :class:`PluginError`, a
    :class:`UsageError`. A mistake in ``filter`` raises :class:`FilterError`
    (``.display()`` shows where). Each is raised by this call, except what only reading an
    input finds (no source claims it, it cannot be opened, an option its source does not
    take): that is raised by the first ``next()``, before any record.
    """
    from . import arguments
    from .errors import UsageError
    from .memory import return_large_blocks
    from .model import Record
    from .pipeinputs import is_pipe, open_pipe, read_as_stdin, stdin_source
    from .pipeline import Pipeline, resolve_source
    from .plugins import collect_components, make_plugin_manager
    from .sourceoptions import check_source_option_names
    from .worker import source_records

    # as the command does: a large message's memory goes back to the system once it is
    # freed (ioproto.memory), so that a run of them does not grow the process
    return_large_blocks()
    pm = arguments.plugin_manager(plugin_manager) or make_plugin_manager()
    components = collect_components(pm)
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0):
        raise UsageError(
            f"jobs takes a whole number of processes (1: this one alone), not {jobs!r}"
        )
    if source is not None:
        components.sources.get(source)  # an unknown name is a mistake now, not at next()
    match: Filter | None
    if isinstance(filter, str):
        from .filters import compile_filter

        match = compile_filter(filter, components.field_set())
    else:
        match = filter
        if match is not None:
            from .filters import Filter

            if not isinstance(match, Filter):
                raise UsageError(
                    "filter takes an expression, e.g. filter='sio.event == \"chat\"' (several "
                    "joined with and), or a Filter from ioproto.compile_filter, not "
                    f"{type(match).__name__} {match!r:.60}"
                )
    source_options = arguments.mapping("source_options", source_options, "{'port': 3000}")
    given = list(source_options)  # checked against the source of each input
    if match is not None:
        for option, values in match.source_options().items():
            source_options.setdefault(option, values)
    pipeline = Pipeline.build(
        proto=proto,
        classifiers=arguments.names("classifiers", classifiers, repr(classifiers)),
        strict=strict,
        all_layers=all_layers,
        options=options,
        limits=limits,
        plugin_manager=pm,
        components=components,
        guards=match.pushdown() if match is not None else None,
    )
    from .components import Source, SourceContext

    context = SourceContext(
        options=source_options, limits=pipeline.context.limits, wanted=pipeline.wants
    )

    items: Iterable[Any]
    if isinstance(inputs, str | os.PathLike):
        items = [os.fspath(inputs)]
    elif isinstance(inputs, bytes | bytearray) or not isinstance(inputs, Iterable):
        raise UsageError(
            f"inputs takes a path (str or pathlib.Path), a list of paths, or records, not "
            f"{type(inputs).__name__}"
        )
    else:
        items = inputs
    only = isinstance(items, list | tuple) and len(items) == 1

    def records() -> Iterator[Record]:
        files = files_first()
        for item in items:
            if isinstance(item, Record):
                yield item
            elif (path := os.fspath(item)) == "-":
                yield from read("stdin ('-')")
            elif is_pipe(path):
                # read once, as stdin is: its guess must not consume what it reads
                yield from read_as_stdin(open_pipe(path), lambda: read(path))
            else:
                chosen = files.get(path) or resolve_source(components, path, source=source)
                check_source_option_names(given, chosen, components)
                yield from source_records(pipeline, chosen, path, context, jobs, only_input=only)

    def files_first() -> dict[str, Source]:
        """The source of every path of a list of paths, chosen before any is read: an input
        no source claims is raised before the records of those before it, as the command
        refuses it before reading any."""
        if not isinstance(items, list | tuple):
            return {}
        if not all(isinstance(item, str | os.PathLike) for item in items):
            return {}
        chosen: dict[str, Source] = {}
        for item in items:
            path = os.fspath(item)
            if path != "-" and not is_pipe(path):
                chosen[path] = resolve_source(components, path, source=source)
                check_source_option_names(given, chosen[path], components)
        return chosen

    def read(what: str) -> Iterable[Record]:
        """What the source that stdin's first bytes choose (or ``source``) reads of it;
        ``what``: how mistakes name it."""
        chosen = stdin_source(components, source, what=what)
        check_source_option_names(given, chosen, components)
        return source_records(pipeline, chosen, "-", context, jobs, only_input=only)

    stream = pipeline.stream(records())
    if match is None:
        return stream
    return (record for record in stream if match(record))


__all__ = [
    "DecodeContext",
    "ErrorRecord",
    "Filter",
    "FilterError",
    "InputSummary",
    "IoprotoError",
    "LazyComponent",
    "Limits",
    "NoSourceError",
    "Packet",
    "Pipeline",
    "PluginError",
    "PluginFailure",
    "PluginManager",
    "Record",
    "RunSummary",
    "SinkContext",
    "SourceContext",
    "Tag",
    "UsageError",
    "__version__",
    "compile_filter",
    "decode",
    "error_from",
    "hookimpl",
    "make_plugin_manager",
    "record_context",
]
