"""Names a user typed that no component takes: each is a :class:`~.mistakes.Mistake` listing
the valid ones.

What is valid comes from the components' optional declarations (``options`` and ``types``,
see :mod:`ioproto.components`). When a component that a name could reach declares nothing,
the name cannot be checked and passes.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ioproto.components import Source, declared_options, declared_types, optional
from ioproto.decodeoptions import decode_option_problem
from ioproto.plugins import Components
from ioproto.sinkoptions import names_a_file, not_an_option, option_problem
from ioproto.sourceoptions import source_option_problem
from ioproto.suggest import did_you_mean

from .mistakes import Mistake


def _valid(declarations: Iterable[Collection[str] | None]) -> set[str] | None:
    """The union of the declarations; ``None`` when one of them is missing."""
    valid: set[str] = set()
    for declared in declarations:
        if declared is None:
            return None
        valid.update(declared)
    return valid


def check_source_options(
    keys: Iterable[str], sources: Iterable[Source], components: Components
) -> None:
    """Every key is an option of at least one of ``sources`` (the sources reading the
    inputs), checked as :func:`ioproto.decode` checks ``source_options``
    (:mod:`ioproto.sourceoptions`); ``--port`` is checked as ``port``."""
    chosen = list(sources)
    for key in keys:
        problem = source_option_problem(key, chosen, components, decode_option="-D {key}=VALUE")
        if problem is not None:
            what = "--port" if key == "port" else f"--source-option {key!r}"
            raise Mistake(f"{what}: {problem} (docs/cli.md)")


def check_source_option_values(sources: Iterable[object], options: Mapping[str, Any]) -> None:
    """Every option value the ``sources`` (and the worker processes) would read is one they
    take: a :class:`~ioproto.errors.UsageError` otherwise, before any output is opened."""
    from ioproto.worker import check_process_options

    check_process_options(options)
    checked: set[int] = set()
    for source in sources:
        check = optional(source, "Source", "check_options")
        if check is not None and id(source) not in checked:
            checked.add(id(source))
            check(options)


def check_sink_options(
    shared: Iterable[str],
    per_sink: Mapping[str, Iterable[str]],
    chosen: Iterable[str],
    components: Components,
) -> None:
    """``--sink-option`` names: a ``NAME.KEY`` names an installed sink and one of its
    options (a sink not in this run ignores its options, which are still checked: the
    default sink may be ``text`` or ``monitor``); a ``KEY`` for every sink is an option of
    one of the ``chosen`` sinks."""
    for sink, keys in per_sink.items():
        if sink not in components.sinks:
            sinks = sorted(components.sinks.names())
            raise Mistake(
                f"--sink-option {sink}.{next(iter(keys), '')}: no sink is called {sink!r}"
                f"{did_you_mean(sink, sinks)}; sinks: {', '.join(sinks)} (ioproto plugins)"
            )
        factory = components.sinks.get(sink)
        for key in keys:
            problem = option_problem(sink, factory, key, private=False)
            if problem is not None:
                hint = ""
                if names_a_file(key, factory):
                    hint = f"; give the file as --sink {sink}:FILE"
                raise Mistake(f"--sink-option {sink}.{key}: {problem}{hint} (docs/cli.md)")
    names = sorted({name for name in chosen if name in components.sinks})
    valid_shared = _valid(
        declared_options(components.sinks.get(name), "SinkFactory") for name in names
    )
    if valid_shared is None:
        return
    for key in shared:
        if key not in valid_shared:
            owner = f"{', '.join(names)} sink{'s' if len(names) > 1 else ''}"
            raise Mistake(
                f"--sink-option {key}: {not_an_option(key, valid_shared, owner)} (docs/cli.md)"
            )


def check_decode_options(keys: Iterable[str], components: Components) -> None:
    """Every key is an option of a registered decoder (or of a classifier that declares
    options: they see the same settings), checked as :meth:`Pipeline.build
    <ioproto.pipeline.Pipeline.build>` checks them (:mod:`ioproto.decodeoptions`)."""
    for key in keys:
        problem = decode_option_problem(
            key, components, source_option="--source-option {key}=VALUE"
        )
        if problem is not None:
            raise Mistake(f"--decode-option {key!r}: {problem} (docs/cli.md)")


def record_types(components: Components) -> list[str] | None:
    """Every record ``type`` the installed components declare, and ``error``; ``None`` when
    one of them declares nothing."""
    kinds = (
        ("Source", components.sources),
        ("Decoder", components.decoders),
        ("Classifier", components.classifiers),
    )
    valid = _valid(
        declared_types(item.component, kind)
        for kind, registry in kinds
        for item in registry.items()
    )
    if valid is None:
        return None
    return sorted(valid | {"error"}, key=lambda name: (name.lower(), name))


def check_record_types(types: Iterable[str], components: Components, *, option: str) -> None:
    """Every one of ``types`` (any case) is a record type some component produces."""
    valid = record_types(components)
    if valid is None:
        return
    known = {name.lower() for name in valid}
    for name in types:
        if name.lower() not in known:
            raise Mistake(
                f"{option} {name!r}: no record has this type{did_you_mean(name, valid)}; "
                f"valid: {', '.join(valid)}"
            )
