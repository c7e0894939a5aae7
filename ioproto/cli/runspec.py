"""What the decode options say, parsed once (:class:`RunSpec`): for the pipeline of a run,
or for each input's own pipeline in another process (:mod:`.perinput`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from ioproto.components import Limits, SinkContext, Source
from ioproto.errors import NoSourceError, UsageError
from ioproto.pipeinputs import stdin_source
from ioproto.pipeline import Pipeline, resolve_source
from ioproto.plugins import UnknownComponentError

from .filtering import FilteredSink, compile_filters
from .mistakes import Mistake
from .state import CliState

#: What to say about a layer the docs name that only a plugin not installed provides.
_PLUGIN_LAYERS = {
    ("layer", "app"): (
        " (the app layer comes with a plugin that declares an application protocol, and none "
        "is installed: docs/writing-a-plugin.md; an example: pip install -e "
        "docs/examples/ioproto-game)"
    ),
}


@attrs.frozen
class RunSpec:
    """What the decode options say, once parsed: everything needed to build a pipeline
    for some sinks and to open the inputs. Plain values, so it can go to another process."""

    proto: str
    options: dict[str, Any]
    source: str | None
    source_settings: dict[str, Any]
    limits: Limits
    classifiers: list[str] | None
    strict: bool
    all_layers: bool
    filters: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()

    def build(self, state: CliState, sink_specs: Sequence[tuple[str, SinkContext]]) -> Pipeline:
        """A pipeline into ``sink_specs``, its sinks given only what the filters let
        through; unknown names are usage errors."""
        match = compile_filters(self.filters, state.components, ports=self.ports)
        pipeline = self._pipeline(
            state, sink_specs, match.pushdown() if match is not None else None
        )
        if match is not None:
            for stage in pipeline.sinks:
                stage.component = FilteredSink(stage.component, match)
        return pipeline

    def check(self, state: CliState) -> None:
        """Raise :class:`~.mistakes.Mistake` for a decode option value no decoder or
        classifier takes, by building the pipeline without sinks (before any output is
        opened)."""
        self._pipeline(state, [], None)

    def _pipeline(
        self, state: CliState, sink_specs: Sequence[tuple[str, SinkContext]], guards: Any
    ) -> Pipeline:
        try:
            return Pipeline.build(
                proto=self.proto,
                sinks=sink_specs,
                classifiers=self.classifiers,
                strict=self.strict,
                all_layers=self.all_layers,
                options=self.options,
                limits=self.limits,
                plugin_manager=state.pm,
                components=state.components,
                guards=guards,
            )
        except UnknownComponentError as exc:
            raise Mistake(str(exc) + _PLUGIN_LAYERS.get((exc.kind, exc.name), "")) from None
        except (ValueError, UsageError) as exc:
            raise Mistake(str(exc)) from None

    def resolve(self, state: CliState, item: str, named: str = "-") -> Source:
        """The source that reads ``item``; an unknown name, a file that does not exist, or
        stdin (``-``) for a source whose ``probe`` refuses it (``--source har``, or a HAR
        file piped in), is a :class:`~.mistakes.Mistake`. Without ``--source``, stdin is
        judged by its first bytes as a file of them would be
        (:func:`ioproto.pipeinputs.stdin_source`). ``named`` is the input as the user gave
        it, which the messages name: a named pipe read as stdin by its path."""
        if item == "-":
            what = "stdin ('-')" if named == "-" else named
            try:
                return stdin_source(state.components, self.source, option="--source", what=what)
            except UsageError as exc:
                raise Mistake(str(exc)) from None
        return self._source(state, item)

    def _source(self, state: CliState, item: str) -> Source:
        try:
            return resolve_source(state.components, item, source=self.source)
        except UnknownComponentError as exc:
            raise Mistake(str(exc)) from None
        except NoSourceError as exc:  # its message says why: no such file, a directory …
            raise Mistake(str(exc)) from None

    def settings(self) -> dict[str, Any]:
        """What shapes the records, as plain values (a per-input sink keeps it to tell
        whether an earlier output is still the same)."""
        return {
            "proto": self.proto,
            "options": dict(sorted(self.options.items())),
            "source": self.source,
            "source_options": dict(sorted(self.source_settings.items())),
            "limits": attrs.asdict(self.limits),
            "classifiers": self.classifiers,
            "strict": self.strict,
            "all_layers": self.all_layers,
            "filters": list(self.filters),
        }
