"""Every hook a plugin can implement. The docstrings are the contract.

Hooks are called once at start-up (to collect components) or once per run (lifecycle); none is
called per packet. Implementations may accept any subset of the arguments, by name.
docs/plugin-hooks.md documents each one with its exact signature (a test keeps them in step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from .components import Classifier, Decoder, PipelineView, SinkFactory, Source
    from .filters import Field
    from .lazycomponents import LazyComponent
    from .summary import RunSummary

hookspec = pluggy.HookspecMarker("ioproto")

# -- collecting components ------------------------------------------------------------------


@hookspec
def register_sources(register: Callable[[Source | LazyComponent], None]) -> None:
    """Offer capture sources by calling ``register(source)`` for each.

    :param register: call with an object that follows :class:`ioproto.components.Source`,
        or a :class:`ioproto.LazyComponent` standing for one (made on first use). A name
        already registered is refused with a warning; the first one wins.

    Called once when the plugin manager's components are first needed.
    """


@hookspec
def register_decoders(register: Callable[[Decoder | LazyComponent], None]) -> None:
    """Offer decoder layers by calling ``register(decoder)`` for each.

    :param register: call with an object that follows :class:`ioproto.components.Decoder`,
        or a :class:`ioproto.LazyComponent` declaring its ``rides_on`` and ``layer``.
        ``decoder.rides_on`` names the layer it decodes; ``--proto decoder.name`` decodes up to
        it.

    Called once when the plugin manager's components are first needed.
    """


@hookspec
def register_classifiers(register: Callable[[Classifier | LazyComponent], None]) -> None:
    """Offer classifiers by calling ``register(classifier)`` for each.

    :param register: call with an object that follows :class:`ioproto.components.Classifier`
        (or a :class:`ioproto.LazyComponent` standing for one). Every registered classifier
        runs on every record, in registration order, unless the user turns it off with
        ``--no-classify NAME``.

    Called once when the plugin manager's components are first needed.
    """


@hookspec
def register_sinks(register: Callable[[SinkFactory | LazyComponent], None]) -> None:
    """Offer sinks by calling ``register(factory)`` for each.

    :param register: call with an object that follows :class:`ioproto.components.SinkFactory`
        (or a :class:`ioproto.LazyComponent` standing for one); ``--sink factory.name``
        selects it.

    Called once when the plugin manager's components are first needed.
    """


@hookspec
def register_fields(register: Callable[[Field], None]) -> None:
    """Offer filter fields by calling ``register(field)`` for each.

    :param register: call with an :class:`ioproto.filters.Field`: its dotted ``name``
        (``sio.event``), ``type``, ``get(record)`` (the value on one record, ``None`` when
        that record lacks it; the filter looks along the record's lineage), ``description``
        and, for fields of a decoder layer, ``layer`` (and ``pushdown=True`` when a failed
        test of it may drop records right after that layer). A name already registered is
        refused with a warning; the first one wins.

    Called once when the plugin manager's components are first needed. ``ioproto fields``
    lists every field; docs/filters.md explains the types and the push-down contract.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add sub-commands to the ``ioproto`` command.

    :param cli: the top-level click group; use ``@cli.command()`` to add a command.

    Called once when the CLI starts, before arguments are parsed.
    """


# -- lifecycle -------------------------------------------------------------------------------


@hookspec
def configure(config: dict[str, Any]) -> None:
    """Read settings once per pipeline, before anything runs.

    :param config: the run's settings: ``proto``, ``strict``, ``options`` (the
        ``--decode-option`` mapping) and ``limits``. Treat it as read-only.

    Called by :meth:`Pipeline.build <ioproto.pipeline.Pipeline.build>` for each pipeline. A
    plugin registered later on the same manager is called at once with the latest config
    (only that one: :meth:`ioproto.plugins.PluginManager.configure`).
    """


@hookspec
def pipeline_started(pipeline: PipelineView) -> None:
    """Called once when a pipeline has been wired, before the first record flows.

    :param pipeline: the :class:`ioproto.pipeline.Pipeline`; its ``layers``, ``classifiers``
        and ``sinks`` may be inspected but not replaced.
    """


@hookspec
def pipeline_finished(pipeline: PipelineView, summary: RunSummary) -> None:
    """Called once after the pipeline has been closed and every sink flushed.

    :param pipeline: the pipeline that ran.
    :param summary: the :class:`ioproto.summary.RunSummary`: counts of records, errors and
        plugin failures.
    """
