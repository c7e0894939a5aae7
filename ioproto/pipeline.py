"""Wiring sources → decoder layers → classifiers → sinks, then streaming records through.

The pipeline is built once (plugins are asked for their components at that point) and then
called directly per record, with no pluggy call on the hot path. Each chunk goes through every
stage before the next one is read, so memory stays flat and live sources show packets as they
happen.

Which records reach the sinks: a record that a higher layer accepted as input is *consumed*
(the higher layer's record links to it through ``parent``); every other record goes on to the
classifiers and sinks. With ``all_layers=True`` consumed records are emitted too.

Push-down (``guards``): a predicate per layer name; a record of that layer for which it is
false is dropped where it stands, neither decoded further nor classified nor emitted, and
counted in ``RunSummary.dropped``. A filter supplies them (``Filter.pushdown()``), only for
tests whose failure means that neither the record nor anything decoded from it can match.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from . import arguments
from .components import (
    ClassifierState,
    DecodeContext,
    Decoder,
    Limits,
    Sink,
    SinkContext,
    Source,
    StreamDecoder,
    optional,
)
from .decodeoptions import check_decode_option_names
from .errors import PluginError, PluginFailure, UsageError
from .layers import layer_names, layer_of, source_layers
from .lazycomponents import declared
from .model import DELIVERED_LAYER, INPUT_SUMMARY_LAYER, Delivered, ErrorRecord, Record, Tag
from .pluginchecks import opened_problem, where
from .plugins import (
    Components,
    PluginManager,
    UnknownComponentError,
    collect_components,
    make_plugin_manager,
)
from .sessions import Session, SessionEnd, SessionStore, session_key
from .sinkoptions import check_sink_option_names
from .summary import RunSummary

#: Where a :class:`~ioproto.model.Delivered` batch enters: past everything, to the sinks.
DELIVERED_ENTRY = -2


@attrs.define
class LayerMember:
    """One decoder of a layer in a running pipeline, with its stream and owning plugin.

    ``accepts`` is the stream's own ``accepts`` method when it has one (a decoder that
    claims sessions as it sees them keeps that state per pipeline), else the decoder's.
    """

    decoder: Decoder
    stream: StreamDecoder
    plugin: str
    accepts: Callable[[Record], bool] = attrs.field(default=None)
    #: the decoder's ``ends_session``: which of its records end their session, and why
    ender: Callable[[Record], str | None] | None = attrs.field(default=None)
    #: the stream's ``session_ended``: what it reports when a session ends
    on_end: Callable[[Session, SessionEnd], Iterable[Record]] | None = attrs.field(default=None)

    def __attrs_post_init__(self) -> None:
        if self.accepts is None:
            own = optional(self.stream, "StreamDecoder", "accepts")
            self.accepts = own or self.decoder.accepts
        self.ender = optional(self.decoder, "Decoder", "ends_session")
        self.on_end = optional(self.stream, "StreamDecoder", "session_ended")


@attrs.define
class Layer:
    """One level of the decoder chain: every decoder that produces layer ``name``.

    Most layers have one decoder. When several produce the same layer (the default
    Socket.IO parser and the msgpack parser, say), each record goes to the first whose
    ``accepts`` says yes, in order of ``priority`` (higher first), then registration.
    """

    name: str
    rides_on: str
    members: list[LayerMember]
    attributing: list[LayerMember] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        #: The members that take error records of the layers below, to attribute them to
        #: their session (a decoder's ``attributes_errors``); errors skip the others.
        self.attributing = [
            member
            for member in self.members
            if optional(member.decoder, "Decoder", "attributes_errors")
        ]


@attrs.define
class Stage:
    """A classifier or sink in a running pipeline, with the plugin that owns it.

    ``tagger`` is a classifier state's optional ``tags(record)`` method (see
    :class:`~ioproto.components.ClassifierState`), used instead of ``classify``.
    """

    name: str
    plugin: str
    component: Any
    tagger: Callable[[Record], tuple[Tag, ...]] | None = None
    #: the component's ``session_ended``, if it has one
    on_end: Callable[..., Any] | None = None


def resolve_layers(
    components: Components, proto: str
) -> list[tuple[str, str, list[tuple[Decoder, str]]]]:
    """The layers from the lowest decoded one up to ``proto``, lowest first.

    Each item is ``(layer name, layer below, [(decoder, plugin), ...])`` with the decoders in
    the order they are asked. ``proto`` may name a layer or a decoder (a decoder name selects
    its layer); a layer only sources produce gives no layers. The chain ends below at a
    layer no decoder produces. Raises :class:`~ioproto.plugins.UnknownComponentError`
    (listing the layers) for an unknown ``proto``, and :class:`ValueError` for a chain that
    loops or whose decoders disagree on the layer below.
    """
    by_layer: dict[str, list[tuple[Decoder, str]]] = {}
    for item in components.decoders.items():
        by_layer.setdefault(layer_of(item.component), []).append((item.component, item.plugin))
    if proto not in by_layer:
        if proto in source_layers(components):
            return []
        if proto not in components.decoders:
            raise UnknownComponentError("layer", proto, layer_names(components))
        proto = layer_of(components.decoders.get(proto))
    chain: list[tuple[str, str, list[tuple[Decoder, str]]]] = []
    name = proto
    seen: set[str] = set()
    while name in by_layer:
        if name in seen:
            raise ValueError(f"decoder layers loop through {name!r}")
        seen.add(name)
        members = sorted(
            by_layer[name], key=lambda pair: -float(optional(pair[0], "Decoder", "priority") or 0)
        )
        below = {decoder.rides_on for decoder, _ in members}
        if len(below) != 1:
            raise ValueError(f"decoders of layer {name!r} ride on different layers: {below}")
        rides_on = below.pop()
        chain.append((name, rides_on, members))
        name = rides_on
    chain.reverse()
    return chain


class Interest:
    """Which records some registered decoder would take: for layers and sources that can
    skip making what nobody above them wants (see ``DecodeContext.wanted``).

    Asks every registered decoder riding on a record's layer, whether or not a pipeline
    decodes that high (the ``http`` layer keeps Engine.IO's messages under ``--proto chunk``
    too). A decoder whose ``accepts`` raises is taken to want the record.
    """

    def __init__(self, components: Components) -> None:
        self._riders: dict[str, list[Decoder]] = {}
        for item in components.decoders.items():
            self._riders.setdefault(item.component.rides_on, []).append(item.component)

    def wants(self, record: Record) -> bool:
        riders = self._riders.get(record.layer)
        return riders is None or _any_accepts(riders, record)

    def checker(self, layer: str) -> Callable[[Record], bool] | None:
        """``wanted`` for a layer's streams: who rides on ``layer`` decides; ``None`` if none."""
        riders = self._riders.get(layer)
        if not riders:
            return None
        return lambda record: _any_accepts(riders, record)


def _any_accepts(decoders: list[Decoder], record: Record) -> bool:
    for decoder in decoders:
        try:
            if decoder.accepts(record):
                return True
        except Exception:
            return True
    return False


#: No record fed since the last input ended.
_NONE_YET = float("-inf")


class Ticker:
    """Calls ``action`` at most once per ``every`` seconds (never when ``every`` <= 0).

    A :class:`~ioproto.components.SourceContext` carries one as its ``tick``; the CLI also
    ticks it between records, so periodic output works with any source.
    """

    def __init__(self, every: float, action: Callable[[], None]) -> None:
        self.every = every
        self.action = action
        self._next = time.monotonic() + every

    def __call__(self) -> None:
        if self.every > 0:
            now = time.monotonic()
            if now >= self._next:
                self._next = now + self.every
                self.action()


class Pipeline:
    """A running decode pipeline.

    Build it with :meth:`Pipeline.build` (by names, from the plugins) and then either
    :meth:`run` a whole iterable of chunks, or :meth:`feed` chunks one by one (a live tool)
    and :meth:`close` at the end (:meth:`finish` first, to read the final summary while the
    sinks are still open). ``feed``, ``finish`` and ``close`` return the records that came
    out, after classification, and also write them to the sinks.

    ``strict=True`` makes a plugin exception fatal (it propagates as
    :class:`~ioproto.errors.PluginFailure`); otherwise it becomes an
    :class:`~ioproto.model.ErrorRecord` with rule ``"plugin.crash"`` and is counted.

    ``guards`` maps a layer name to a push-down predicate (see the module docstring).
    """

    def __init__(
        self,
        *,
        layers: Sequence[Layer] = (),
        classifiers: Sequence[Stage] = (),
        sinks: Sequence[Stage] = (),
        strict: bool = False,
        all_layers: bool = False,
        context: DecodeContext | None = None,
        plugin_manager: PluginManager | None = None,
        guards: Mapping[str, Callable[[Record], bool]] | None = None,
    ) -> None:
        self.guards = dict(guards or {})
        self.layers = list(layers)
        self.classifiers = list(classifiers)
        self.sinks = list(sinks)
        self.strict = strict
        self.all_layers = all_layers
        self.context = context or DecodeContext()
        self.plugin_manager = plugin_manager
        self.summary = RunSummary()
        self._closed = False
        self._finished = False
        self._started = False
        #: records are being fed: started, not finished (one test on feed's path for both)
        self._feeding = False
        self._sinks_started = False
        self._out: list[Record] = []
        # A record's layer -> index of the layer it enters; -1: kept, not decoded.
        self._entries: dict[str, int] = {INPUT_SUMMARY_LAYER: -1, DELIVERED_LAYER: DELIVERED_ENTRY}
        #: The pipeline's sessions (its context's, or a store of its own).
        sessions = self.context.sessions
        if sessions is None:
            sessions = SessionStore.bounded_by(self.context.limits)
        self.sessions = sessions
        self._ending: list[Record] = []  # records that end their session, once they are through
        self._last_ts = 0.0  # the latest time fed: when the input ended
        #: the latest time fed since the last input of the run ended (its InputSummary);
        #: -inf: none since
        self._input_last_ts = _NONE_YET
        self._enders = {
            layer.name: member.ender
            for layer in self.layers
            for member in layer.members
            if member.ender is not None
        }
        self.interest: Interest | None = None
        #: called with each session end before the pipeline announces it (ioproto.shard
        #: tags what the announcement emits)
        self.announcing: Callable[[Session, SessionEnd], None] | None = None

    # -- building ----------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        *,
        proto: str = "socketio",
        sinks: Sequence[tuple[str, SinkContext]] = (),
        classifiers: Sequence[str] | None = None,
        strict: bool = False,
        all_layers: bool = False,
        options: Mapping[str, Any] | None = None,
        limits: Limits | None = None,
        plugin_manager: PluginManager | None = None,
        components: Components | None = None,
        guards: Mapping[str, Callable[[Record], bool]] | None = None,
    ) -> Pipeline:
        """A pipeline decoding up to layer ``proto`` into the named sinks.

        :param proto: the highest layer to decode (a decoder name, or ``"chunk"``).
        :param sinks: ``(sink name, SinkContext)`` pairs; none means the caller reads the
            records that :meth:`feed` returns. An option name a sink does not take raises
            :class:`~ioproto.errors.UsageError` (:mod:`ioproto.sinkoptions`).
        :param classifiers: names of classifiers to run; ``None`` runs all registered.
        :param options: decoder options (e.g. ``{"revision": 3}``), passed in the
            :class:`~ioproto.components.DecodeContext`. A name that no decoder or
            classifier declares raises :class:`~ioproto.errors.UsageError`
            (:mod:`ioproto.decodeoptions`).
        :param plugin_manager: defaults to a fresh :func:`~ioproto.plugins.make_plugin_manager`.
        :param guards: push-down predicates by layer name (``Filter.pushdown()``).
        """
        pm = arguments.plugin_manager(plugin_manager) or make_plugin_manager()
        components = components or collect_components(pm)
        limits = arguments.limits(limits)
        sessions = SessionStore.bounded_by(limits)
        context = DecodeContext(
            limits=limits,
            options=arguments.mapping("options", options, "{'revision': 3}"),
            strict=strict,
            sessions=sessions,
        )
        sinks = arguments.sink_pairs(sinks)
        guards = arguments.mapping("guards", guards, "Filter.pushdown()")
        pm.configure(
            {
                "proto": proto,
                "strict": strict,
                "options": dict(context.options),
                "limits": context.limits,
            }
        )
        interest = Interest(components)
        check_decode_option_names(context.options, components)
        layers = []
        for name, rides_on, members in resolve_layers(components, proto):
            layer_context = attrs.evolve(context, wanted=interest.checker(name))
            opened = [
                LayerMember(
                    decoder=decoder,
                    stream=_open("decoder", decoder, plugin, layer_context),
                    plugin=plugin,
                )
                for decoder, plugin in members
            ]
            layers.append(Layer(name=name, rides_on=rides_on, members=opened))
        classifiers = arguments.names("classifiers", classifiers, repr(classifiers))
        if classifiers is None:
            classifiers = components.classifiers.names()
        classifier_stages = []
        for name in classifiers:
            classifier = components.classifiers.get(name)
            plugin = components.classifiers.owner(name)
            state = _open("classifier", classifier, plugin, context)
            tagger = optional(state, "ClassifierState", "tags")
            on_end = optional(state, "ClassifierState", "session_ended")
            classifier_stages.append(Stage(name, plugin, state, tagger, on_end))
        sink_stages = []
        for name, sink_context in sinks:
            factory = components.sinks.get(name)
            plugin = components.sinks.owner(name)
            check_sink_option_names(name, factory, sink_context.options)
            if sink_context.sessions is None:
                sink_context = attrs.evolve(sink_context, sessions=sessions)
            sink = _open("sink", factory, plugin, sink_context)
            on_end = optional(sink, "Sink", "session_ended")
            sink_stages.append(Stage(name, plugin, sink, on_end=on_end))
        pipeline = cls(
            layers=layers,
            classifiers=classifier_stages,
            sinks=sink_stages,
            strict=strict,
            all_layers=all_layers,
            context=context,
            plugin_manager=pm,
            guards=guards,
        )
        pipeline.interest = interest
        return pipeline

    # -- streaming ---------------------------------------------------------------------------

    def feed(self, record: Record) -> list[Record]:
        """Push one record, as a source made it, through every stage.

        The record enters at the layer that rides on its own (a ``tcp`` record at the HTTP
        layer, a chunk at Engine.IO); a record of a layer at or above the top goes straight
        to the classifiers and sinks. An :class:`~ioproto.model.InputSummary` goes nowhere:
        it is kept in ``summary.input_summaries``. Returns the records that reached the
        sinks because of it, classified. What is no record, or a record fed after
        :meth:`finish` or :meth:`close`, is a :class:`~ioproto.errors.UsageError`.
        """
        if not self._feeding:
            self._begin_feeding()
        try:
            index = self._first_layer_for(record)
        except AttributeError:
            if isinstance(record, Record):
                raise
            raise UsageError(_not_fed(record)) from None
        if index < 0:
            if index == DELIVERED_ENTRY:  # classified by a worker: only the sinks are left
                return self._deliver(record)  # type: ignore[arg-type]
            # what a source saw (InputSummary): for the caller, not the sinks
            self.summary.input_summaries.append(record)  # type: ignore[arg-type]
            return self._input_ended()
        self.summary.inputs += 1
        ts = record.ts
        if ts > self._input_last_ts:
            self._input_last_ts = ts
            if ts > self._last_ts:
                self._last_ts = ts
        self._out = []
        ender = self._enders.get(record.layer)
        if ender is not None and ender(record) is not None:
            self._ending.append(record)  # made by a layer in a worker process
        self._push(record, index)
        if self._ending or self.sessions.ended:
            self._end_sessions()
        return self._out

    def finish(self) -> list[Record]:
        """End the input: end the open sessions, flush every layer and classifier, and write
        what that gives to the sinks, leaving them open; returns the flushed records.

        The summary is then final, except for what closing the sinks adds (a sink that
        fails on close). :meth:`close` calls it first; call it yourself to act on the
        summary before the sinks close (a sink may hold on close: the dashboard serves its
        page until Ctrl-C). A second call returns ``[]``.
        """
        if self._finished:
            return []
        self._start()
        self._finished = True
        self._feeding = False
        self._out = []
        self.end_silent_sessions()
        self.end_open_sessions()
        for index in range(len(self.layers)):
            self.close_layer(index)
        for stage in self.classifiers:
            self.close_classifier(stage)
        return self._out

    def close(self) -> list[Record]:
        """:meth:`finish` (unless done), then close the sinks; returns the flushed records."""
        if self._closed:
            return []
        flushed = self.finish()
        self._closed = True
        for stage in self.sinks:
            sink: Sink = stage.component
            self._call_sink(stage, sink.close)
        if self.plugin_manager is not None:
            self.plugin_manager.hook.pipeline_finished(pipeline=self, summary=self.summary)
        return flushed

    # The steps of finish(), in its order, for a sharded worker (ioproto.shard) that tags
    # what each step emits; each adds to the records the current feed/finish returns.

    def end_silent_sessions(self, pushed: Callable[[Record], None] | None = None) -> None:
        """Finish, step 1: what each layer stream's optional ``input_ended(ts)`` makes of the
        end of the input fed since the last one ended (``ts``: the time of its last record;
        nothing when none was fed since), each record pushed on from the layer above and its
        session ended as it goes through, in the order given (the Engine.IO layer: sessions
        whose client had been silent for longer than their server waits, ``ping
        timeout``). ``pushed(record)``, when given, is called after each record has gone
        through (a sharded worker keys what each one emitted)."""
        if self._input_last_ts != _NONE_YET:
            self._push_what_streams_make("input_ended", self._input_last_ts, pushed)
            self._input_last_ts = _NONE_YET

    def _input_ended(self) -> list[Record]:
        """One input of the run ended (its source's ``InputSummary``): what the layer
        streams' ``input_ended`` make of it, by the time of its own last record (the next
        input of the run may be another day's capture), pushed on as at the run's end."""
        self._out = []
        self.end_silent_sessions()
        return self._out

    def time_passed(self, now: float | None = None) -> list[Record]:
        """A live run's clock says ``now`` (default: :func:`time.time`): what each layer
        stream's optional ``time_passed(now)`` makes of it, pushed on as at the end of the
        input (the Engine.IO layer: sessions whose client has been silent for longer than
        their server waits end ``ping timeout`` while the run goes on). Returns what came
        out, which the sinks have been given. Only for input whose records are timed by
        this clock, as they happen (a live source): the command calls it at most once a
        second for those, from the thread that feeds the pipeline, as :meth:`feed` must be."""
        if self._finished or not self._feeding:
            return []
        self._out = []
        self._push_what_streams_make("time_passed", time.time() if now is None else now, None)
        return self._out

    def _push_what_streams_make(
        self, hook_name: str, ts: float, pushed: Callable[[Record], None] | None
    ) -> None:
        for index, layer in enumerate(self.layers):
            for member in layer.members:
                hook = optional(member.stream, "StreamDecoder", hook_name)
                if hook is None:
                    continue
                for record in self._safely(member.plugin, member.decoder.name, hook, ts):
                    if member.ender is not None and member.ender(record) is not None:
                        self._ending.append(record)
                    self._push(record, index + 1)
                    self._end_sessions()
                    if pushed is not None:
                        pushed(record)

    def end_open_sessions(self) -> None:
        """Finish, step 2: end every open session ("input ended") and announce the ends."""
        self._end_sessions()
        self.sessions.end_all(self._last_ts, "input ended")
        self._end_sessions()

    def close_layer(self, index: int) -> None:
        """Finish, step 3 (per layer, lowest first): flush the streams of layer ``index``."""
        for member in self.layers[index].members:
            for produced in self._safely(member.plugin, member.decoder.name, member.stream.close):
                self._push(produced, index + 1)

    def close_classifier(self, stage: Stage) -> None:
        """Finish, step 4 (per classifier, in order): what classifier ``stage`` reports at the
        end, seen by the later classifiers."""
        state: ClassifierState = stage.component
        for produced in self._safely(stage.plugin, stage.name, state.close):
            self._emit_classified(produced, after=stage)

    def saw(self, ts: float) -> None:
        """A record of the input at time ``ts`` went by without being fed here (another
        worker of a sharded run decodes it): the input's end time still counts it."""
        if ts > self._input_last_ts:
            self._input_last_ts = ts
        if ts > self._last_ts:
            self._last_ts = ts

    def run(self, records: Iterable[Record]) -> RunSummary:
        """Feed every record of ``records``, then close; returns the summary."""
        if isinstance(records, Record | bytes | str) or not isinstance(records, Iterable):
            raise UsageError(f"run takes an iterable of records; {_not_fed(records)}")
        try:
            for record in records:
                self.feed(record)
        finally:
            self.close()
        return self.summary

    def stream(self, records: Iterable[Record]) -> Iterator[Record]:
        """Feed ``records`` lazily, yielding what comes out; closes at the end.

        A caller that leaves the loop early (``break``, or ``close()`` on the generator)
        ends ``records`` (a live source stops: a proxy stops listening, a capture's tcpdump
        ends) and this pipeline: what closing flushes goes to the sinks, not to the caller,
        who has left."""
        try:
            for record in records:
                yield from self.feed(record)
        except GeneratorExit:
            try:
                close = getattr(records, "close", None)
                if close is not None:
                    close()
            finally:
                self.close()
            raise
        finally:
            yield from self.close()  # nothing once closed above

    def wants(self, record: Record) -> bool:
        """Whether ``record`` would be input for some registered decoder of the layer above
        its own (what :attr:`~ioproto.components.SourceContext.wanted` asks); True when no
        decoder rides on its layer, or the pipeline was not built from plugins."""
        return self.interest is None or self.interest.wants(record)

    def tick(self) -> None:
        """Give sinks that report periodically (``stats --every``) the chance to do so.

        Calls ``tick()`` on every sink that has one; a sink that raises is counted like any
        sink failure. Call it from the thread that feeds the pipeline.
        """
        for stage in self.sinks:
            method = optional(stage.component, "Sink", "tick")
            if method is not None:
                self._call_sink(stage, method)

    def start(self) -> None:
        """The input has opened: call ``started()`` on every sink that has one, once.

        A source that may wait calls it (``SourceContext.started``) once its input is open;
        the first record fed calls it too. Not called when no input opened (an interface
        that does not exist), so a sink's announcement (a URL) never precedes that mistake.
        """
        if self._sinks_started:
            return
        self._sinks_started = True
        for stage in self.sinks:
            method = optional(stage.component, "Sink", "started")
            if method is not None:
                self._call_sink(stage, method)

    # -- internals ---------------------------------------------------------------------------

    def _deliver(self, batch: Delivered) -> list[Record]:
        """The records of ``batch``, decoded and classified elsewhere: counted and written
        to the sinks, and the sessions they end ended here too (for the sinks' own
        ``session_ended``)."""
        self._out = []
        if batch.rendered:
            self._write_rendered(batch.records)
            return self._out
        enders = self._enders
        ending = self._ending
        deliver = self._classify_and_deliver
        for record in batch.records:
            if enders:
                ender = enders.get(record.layer)
                if ender is not None and ender(record) is not None:
                    ending.append(record)
            deliver(record, [])
            if ending or self.sessions.ended:
                self._end_sessions()
        return self._out

    def _write_rendered(self, items: list[Any]) -> None:
        """Write items that workers counted: bytes for the sink's ``write_rendered`` (each
        run of them joined, one call), or records for its ``write`` (see
        :class:`~ioproto.model.Delivered`)."""
        start = 0
        for index, item in enumerate(items):
            if type(item) is not bytes:
                if index > start:
                    self._write_to_sinks(b"".join(items[start:index]))
                self._write_to_sinks(item)
                start = index + 1
        if start < len(items):
            self._write_to_sinks(b"".join(items[start:]))

    def _write_to_sinks(self, item: Any) -> None:
        for stage in self.sinks:
            try:
                if type(item) is bytes:
                    stage.component.write_rendered(item)
                else:
                    stage.component.write(item)
            except BrokenPipeError:
                raise
            except Exception as exc:
                self._sink_failed(stage, exc, item if type(item) is not bytes else None)

    def _end_sessions(self) -> None:
        """End the sessions whose ending records went through, then announce every end:
        to each layer stream (what it reports goes on from the layer above it), classifier
        (later classifiers and the sinks see what it reports) and sink, in pipeline order."""
        sessions = self.sessions
        if self._ending:
            ending, self._ending = self._ending, []
            for record in ending:
                key = session_key(record)
                if key is not None:
                    reason = self._reason_of(record)
                    sessions.end(key, record.ts, reason, record)
        while sessions.ended:
            for session, end in sessions.take_ended():
                self._announce(session, end)

    def _reason_of(self, record: Record) -> str:
        ender = self._enders.get(record.layer)
        return (ender(record) if ender is not None else None) or "closed"

    def _announce(self, session: Session, end: SessionEnd) -> None:
        if self.announcing is not None:
            self.announcing(session, end)
        for index, layer in enumerate(self.layers):
            for member in layer.members:
                if member.on_end is not None:
                    for produced in self._safely(
                        member.plugin, member.decoder.name, member.on_end, session, end
                    ):
                        self._push(produced, index + 1)
        for stage in self.classifiers:
            handler = stage.on_end
            if handler is not None:
                for produced in self._safely(stage.plugin, stage.name, handler, session, end):
                    self._emit_classified(produced, after=stage)
        for stage in self.sinks:
            handler = stage.on_end
            if handler is not None:
                self._call_sink(stage, handler, session, end)

    def _begin_feeding(self) -> None:
        """The first :meth:`feed`: start; a :class:`~ioproto.errors.UsageError` after
        :meth:`finish` or :meth:`close`, whose layers and sinks are done."""
        if self._finished:
            raise UsageError(
                "this pipeline is finished (finish() or close() was called); build another "
                "with Pipeline.build to decode more"
            )
        self._start()
        self.start()
        self._feeding = True

    def _start(self) -> None:
        if not self._started:
            self._started = True
            if self.plugin_manager is not None:
                self.plugin_manager.hook.pipeline_started(pipeline=self)

    def _first_layer_for(self, record: Record) -> int:
        """Where a fed record enters: the layer riding on its own layer; an error record,
        the layer riding on its parent's (which may attribute it), else the top."""
        name = record.layer
        if isinstance(record, ErrorRecord):
            name = record.parent.layer if record.parent is not None else ""
        entry = self._entries.get(name)
        if entry is None:
            entry = len(self.layers)
            for index, layer in enumerate(self.layers):
                if layer.rides_on == name:
                    entry = index
                    break
            self._entries[name] = entry
        return entry

    def _push(self, record: Record, index: int) -> None:
        # The hot path: called for every record of every layer, so calls are inlined.
        if self.guards:
            guard = self.guards.get(record.layer)
            if guard is not None and not guard(record):
                self.summary.dropped[record.layer] += 1
                return
        layers = self.layers
        if index < len(layers):
            layer = layers[index]
            members = layer.members if not isinstance(record, ErrorRecord) else layer.attributing
            for member in members:
                try:
                    if not member.accepts(record):
                        continue
                    produced = member.stream.feed(record)
                    if type(produced) is not list:
                        produced = records_of(produced, "feed")
                    for child in produced:
                        if not isinstance(child, Record):
                            raise WrongReturn(not_a_record("feed", child))
                except Exception as exc:
                    self._decoder_failed(member, exc, record, index)
                    return
                if not produced:
                    if self.all_layers:
                        self._emit(record)  # consumed, and nothing came of it
                    return
                ender = member.ender
                if ender is not None:
                    for child in produced:
                        if ender(child) is not None:
                            self._ending.append(child)
                if self.all_layers and not any(child.layer == record.layer for child in produced):
                    self._emit(record)  # consumed, and not passed on (possibly annotated)
                index += 1
                if index < len(layers):
                    forward = self._push
                    for child in produced:
                        forward(child, index)
                else:
                    # Records out of the top layer go straight to the classifiers (what
                    # _push would do).
                    deliver = self._classify_and_deliver
                    classifiers = self.classifiers
                    for child in produced:
                        deliver(child, classifiers)
                return
        self._classify_and_deliver(record, self.classifiers)

    def _decoder_failed(
        self, member: LayerMember, exc: Exception, record: Record, index: int
    ) -> None:
        """``member`` raised on ``record`` (or returned what is no list of records): the
        record goes on as if no decoder had taken it, so that what it holds is not lost, and
        the ``plugin.crash`` record after it, into the layers above (which may attribute
        it)."""
        failure = self._plugin_failed(member.plugin, member.decoder.name, exc, record)
        self._classify_and_deliver(record, self.classifiers)
        if failure is not None:
            self._push(failure, index + 1)

    def _emit(self, record: Record) -> None:
        self._classify_and_deliver(record, self.classifiers)

    def _emit_classified(self, record: Record, *, after: Stage) -> None:
        """Emit a record made by classifier ``after``: later classifiers still see it."""
        later = self.classifiers[self.classifiers.index(after) + 1 :]
        self._classify_and_deliver(record, later)

    def _classify_and_deliver(self, record: Record, classifiers: list[Stage]) -> None:
        # Runs once per emitted record: kept in one function on purpose. Tags from
        # classifiers with a `tags` method are gathered and added in one copy of the record
        # (before any classifier that takes the whole record, which may read them).
        pending: tuple[Tag, ...] = ()
        failures: list[ErrorRecord] | None = None
        for stage in classifiers:
            try:
                tagger = stage.tagger
                if tagger is not None:
                    added = tagger(record)
                    if added:
                        pending += added
                    continue
                if pending:
                    record, pending = record.with_tags(pending), ()
                classified = stage.component.classify(record)
                if not isinstance(classified, Record):
                    raise WrongReturn(
                        f"classify() returned {type(classified).__name__} "
                        f"{_brief(classified)}; it must return the record, or a copy "
                        f"from record.with_tags(...)"
                    )
                record = classified
            except Exception as exc:
                # the record goes on as the failed classifier got it; its failure after it
                failure = self._plugin_failed(stage.plugin, stage.name, exc, record)
                if failure is not None:
                    failures = [*(failures or ()), failure]
        if pending:
            record = record.with_tags(pending)
        summary = self.summary
        summary.records[record.layer] += 1
        if isinstance(record, ErrorRecord):
            summary.errors[record.rule] += 1
        self._out.append(record)
        for stage in self.sinks:
            try:
                stage.component.write(record)
            except BrokenPipeError:
                raise
            except Exception as exc:
                self._sink_failed(stage, exc, record)
        if failures is not None:
            for failure in failures:
                self._classify_and_deliver(failure, [])

    def _call_sink(self, stage: Stage, method: Any, *args: Any) -> None:
        try:
            method(*args)
        except BrokenPipeError:
            raise
        except Exception as exc:
            self._sink_failed(stage, exc)

    def _sink_failed(self, stage: Stage, exc: Exception, record: Record | None = None) -> None:
        """Count the failure and hand its ``plugin.crash`` record to the *other* sinks."""
        failure = self._plugin_failed(stage.plugin, stage.name, exc, record)
        if failure is None:
            return
        self.summary.sink_failures[stage.name] += 1
        self.summary.sink_failure_reasons.setdefault(stage.name, failure.reason)
        self.summary.errors[failure.rule] += 1
        for other in self.sinks:
            if other is not stage:
                try:
                    other.component.write(failure)
                except BrokenPipeError:
                    raise
                except Exception:  # that sink's own failures are counted where they happen
                    continue

    def _safely(
        self,
        plugin: str,
        component: str,
        method: Any,
        *args: Any,
        parent: Record | None = None,
    ) -> list[Record]:
        try:
            name = getattr(method, "__name__", "close")  # a partial has none
            produced = records_of(method(*args), name)
            for child in produced:
                if not isinstance(child, Record):
                    raise WrongReturn(not_a_record(name, child))
            return produced
        except Exception as exc:
            failure = self._plugin_failed(plugin, component, exc, parent)
            return [failure] if failure is not None else []

    def _plugin_failed(
        self, plugin: str, component: str, exc: Exception, record: Record | None
    ) -> ErrorRecord | None:
        self.summary.plugin_failures[plugin] += 1
        if self.strict:
            raise PluginFailure(plugin, component, exc) from exc
        # where a plugin's own code failed, for its author; an OSError (a full disk) names
        # the file instead, and the line that met it would only distract, as would the
        # pipeline's own line that found a wrong return value
        location = "" if isinstance(exc, OSError | WrongReturn) else where(exc)
        raised = "" if isinstance(exc, WrongReturn) else f" raised {type(exc).__name__}"
        return ErrorRecord(
            ts=record.ts if record is not None else 0.0,
            connection=record.connection if record is not None else None,
            direction=record.direction if record is not None else None,
            sid=record.sid if record is not None else None,
            transport=record.transport if record is not None else None,
            parent=record,
            layer=component,
            rule="plugin.crash",
            reason=f"{component} ({plugin}){raised}: {exc}{location}",
            plugin=plugin,
        )


class WrongReturn(TypeError):
    """A component's method returned what the pipeline cannot use (the message says what it
    must return); reported like an exception of the component's own."""


def _not_fed(value: Any) -> str:
    """What is said of ``value`` given where a record goes (:meth:`Pipeline.feed`)."""
    if isinstance(value, Record):
        return f"feed({type(value).__name__}(...)) takes one record, run([...]) a list of them"
    return (
        f"a record goes in (an ioproto.Record, as a source makes them; docs/embedding.md), "
        f"not {type(value).__name__} {_brief(value)}"
    )


def records_of(returned: Any, method: str) -> list[Record]:
    """What a component's ``method`` returned, as a list; a ``TypeError`` saying what it
    should return when it is not an iterable of records (``None``, one record)."""
    if isinstance(returned, Record) or returned is None or isinstance(returned, str | bytes):
        raise WrongReturn(not_a_record(method, returned, listed=False))
    try:
        return list(returned)
    except TypeError:
        raise WrongReturn(not_a_record(method, returned, listed=False)) from None


def not_a_record(method: str, value: Any, *, listed: bool = True) -> str:
    """The message for a component's ``method`` that returned ``value`` where records go."""
    what = "a list holding" if listed else "returned"
    return (
        f"{method}() {what} {type(value).__name__} {_brief(value)}; it must return a list of "
        f"records (ioproto.Record), [] for none"
    )


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _open(kind: str, component: Any, plugin: str, context: Any) -> Any:
    """``component.open(context)``; the ``ValueError`` it may raise for a setting it refuses
    (a port in use, a folder it cannot write into) is a :class:`~ioproto.errors.UsageError`
    in its words, as its own ``UsageError`` is; any other exception, or a returned object
    without the methods the pipeline calls, is a :class:`~ioproto.errors.PluginError`
    naming the plugin."""
    try:
        opened = component.open(context)
    except UsageError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    except Exception as exc:
        raise PluginError(
            f"{kind} {component.name!r} of plugin {plugin!r} failed to open: "
            f"{type(exc).__name__}: {exc}{where(exc)}"
        ) from exc
    problem = opened_problem(kind, opened)
    if problem is not None:
        raise PluginError(f"{kind} {component.name!r} of plugin {plugin!r}: {problem}")
    return opened


def resolve_source(components: Components, input: str, *, source: str | None = None) -> Source:
    """The source that reads ``input``: the one named ``source``, or the best-scoring one.

    Raises :class:`~ioproto.plugins.UnknownComponentError` for an unknown source name and
    :class:`~ioproto.errors.NoSourceError` when no source claims the input.
    """
    from .errors import NoSourceError

    if source is not None:
        return components.sources.get(source)
    best: tuple[float, Source] | None = None
    for entry in components.sources.entries():
        prefixes = declared(entry.component, "Source", "prefixes")
        if prefixes is not None and not input.startswith(tuple(prefixes)):
            continue  # not its kind of input, known without making the source
        try:
            candidate = components.sources.get(entry.component.name)
            score = candidate.probe(input)
        except Exception:
            continue
        if score >= 0 and (best is None or score > best[0]):
            best = (score, candidate)
    if best is None:
        raise NoSourceError(input, components.sources.names())
    return best[1]
