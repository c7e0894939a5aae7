"""The components plugins register: sources, decoders, classifiers and sinks.

Each is a small object with a ``name`` and a documented method or two. The ``register_*``
hooks hand them to the core once, at start-up; the pipeline then calls them directly, so no
pluggy call happens per packet.

These are :class:`typing.Protocol` classes: a plugin does not subclass them, it provides
objects with the same attributes (mypy checks the match). What a component *may* also have
(a decoder's ``priority``, a source's ``live`` flag …) is declared in one table,
:data:`OPTIONAL_MEMBERS`, with the value its absence means; the core reads those members
through :func:`optional` only, once, when a pipeline is built (docs/plugin-hooks.md lists
them, checked against the table by a test).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .lazy import lazy_names

# Re-exported: plugins read their options with these (ioproto.optionvalues).
from .optionvalues import choice_option as choice_option
from .optionvalues import flag_option as flag_option
from .optionvalues import number_option as number_option
from .optionvalues import ports_option as ports_option
from .optionvalues import size_option as size_option

if TYPE_CHECKING:
    from .contexts import DecodeContext as DecodeContext
    from .contexts import Limits as Limits
    from .contexts import SinkContext as SinkContext
    from .contexts import SourceContext as SourceContext
    from .model import Record

# The contexts are attrs classes, loaded on first use: listing plugins imports no attrs.
_CONTEXTS = ("DecodeContext", "Limits", "SinkContext", "SourceContext")
__getattr__ = lazy_names(__name__, dict.fromkeys(_CONTEXTS, "contexts"), globals())


@runtime_checkable
class StreamDecoder(Protocol):
    """One decoder layer's running state for one pipeline (sans-IO).

    ``feed`` receives, in order, every record of the layer below that the decoder's
    ``accepts`` said yes to, and returns the records it could complete (possibly none; state
    such as partial binary attachments is kept across calls). ``close`` is called once at the
    end of the input and returns whatever is still pending (e.g. unanswered acks). Neither
    may block or do I/O. Exceptions are caught by the pipeline and become error records, but a
    well-behaved decoder turns bad input into :class:`~ioproto.model.ErrorRecord` itself.

    A stream may also have an ``accepts(record) -> bool`` method; the pipeline then asks it
    instead of the decoder's, so that a decoder claiming sessions as it sees them (say, a
    parser chosen per session) keeps that state with the rest of its per-pipeline state.
    """

    def feed(self, record: Record) -> Iterable[Record]: ...

    def close(self) -> Iterable[Record]: ...


@runtime_checkable
class Decoder(Protocol):
    """A decoder of one layer.

    ``name`` is unique among decoders and is also the layer it produces, unless the decoder
    has an optional ``layer`` attribute naming the layer (several decoders may produce one
    layer, e.g. two Socket.IO parsers; an optional numeric ``priority`` orders them, higher
    first). ``--proto`` takes a layer name (or a decoder name, meaning its layer).
    ``rides_on`` names the layer below (``"chunk"`` for the capture layer).
    ``accepts(record)`` says whether a record of the layer below is input for this decoder;
    a record no decoder of the layer accepts passes through to the sinks unchanged.
    ``open`` makes the running state.
    """

    name: str
    rides_on: str
    description: str

    def accepts(self, record: Record) -> bool: ...

    def open(self, context: DecodeContext) -> StreamDecoder: ...


@runtime_checkable
class Source(Protocol):
    """A capture source.

    ``probe(input)`` scores how well it can read ``input`` (a path, ``"-"`` for stdin, or a
    URL-like spec); negative means "not mine", the highest score wins when ``--source`` is not
    given. ``open(input, context)`` yields records in capture order, of the layer the input
    natively has (``tcp`` byte-stream events of a capture, ``chunk`` messages of a HAR file);
    it may also yield :class:`~ioproto.model.ErrorRecord` for input it cannot read
    (a corrupt file, an encrypted connection), and, last, an
    :class:`~ioproto.model.InputSummary` of what it saw (to say why, should nothing come
    out of it). An input it cannot open at all (no such file or interface, a port in use)
    makes ``open`` raise :class:`~ioproto.errors.UsageError` before it yields anything. A
    source whose records arrive as traffic happens (a live capture, a proxy) sets an
    optional ``live = True`` attribute, so that the CLI shows each record at once instead of
    buffering its output.
    """

    name: str
    description: str

    def probe(self, input: str) -> float: ...

    def open(self, input: str, context: SourceContext) -> Iterable[Record]: ...


@runtime_checkable
class Classifier(Protocol):
    """Adds tags to records, and may emit records of its own at the end.

    ``open()`` returns the running state for one pipeline: an object with
    ``classify(record) -> record`` (the same record, or a copy with tags added by
    :meth:`~ioproto.model.Record.with_tags`) and ``close() -> Iterable[Record]``.
    """

    name: str
    description: str

    def open(self, context: DecodeContext) -> ClassifierState: ...


class ClassifierState(Protocol):
    """A classifier's running state.

    ``classify(record)`` returns the record, or a copy with tags added. A state may also
    have ``tags(record) -> tuple[Tag, ...]`` returning only the tags to add: the pipeline
    then calls that instead and adds the tags of consecutive such classifiers in one copy
    (cheaper); such a classifier must not read the tags the others add. ``close()``
    returns records to emit at the end (e.g. session summaries).
    """

    def classify(self, record: Record) -> Record: ...

    def close(self) -> Iterable[Record]: ...


class Sink(Protocol):
    """A running sink: ``write`` is called once per record, ``close`` once at the end."""

    def write(self, record: Record) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class SinkFactory(Protocol):
    """Offers a sink by ``name`` (what ``--sink`` takes); ``open`` starts one.

    ``open`` raises :class:`~ioproto.errors.UsageError` for settings it cannot work with (a
    file it will not be able to write, say), so that the mistake shows before any input is
    read.
    """

    name: str
    description: str

    def open(self, context: SinkContext) -> Sink: ...


@runtime_checkable
class PipelineView(Protocol):
    """What the lifecycle hooks are shown of a running pipeline (``pipeline_started``,
    ``pipeline_finished``): its ``layers`` (each with ``name``, ``rides_on`` and ``members``,
    each member with its ``decoder``), ``classifiers`` and ``sinks`` (each with ``name``,
    ``plugin`` and ``component``), and its ``summary`` (a :class:`ioproto.summary.RunSummary`).
    Inspect them; do not replace them."""

    layers: Sequence[Any]
    classifiers: Sequence[Any]
    sinks: Sequence[Any]
    summary: Any


_OPTIONS = (
    "option name -> one-line description: the --source-option / --decode-option / "
    "--sink-option names it reads ({} for none); the command refuses a name no component "
    "declares"
)
_TYPES = (
    "the record types it produces besides error (what monitor --type accepts; the command "
    "refuses one no component declares)"
)

#: Every optional member of every kind of component: ``{kind: {member: (meaning when
#: absent, what it declares)}}``. A component has a member or the absence value holds.
OPTIONAL_MEMBERS: dict[str, dict[str, tuple[Any, str]]] = {
    "Source": {
        "live": (
            False,
            "records arrive as traffic happens: the CLI writes each one at once, also into a pipe",
        ),
        "prefixes": (
            None,
            "the prefixes of the inputs it reads (live:, proxy:): probe() is negative for any "
            "other input, so that choosing the source of a file need not make it",
        ),
        "says_caught_up": (
            False,
            "a live source that calls context.caught_up() whenever it has yielded all the "
            "traffic so far, and at least every 0.1 s: the CLI buffers its output in blocks, "
            "written out at those calls, instead of a system call per line",
        ),
        "forkable": (
            False,
            "open() only reads the input it is given: ioproto.worker may run it, and the "
            "connection-scoped layers above it, in a forked child for a large file",
        ),
        "open_split": (
            None,
            "open_split(input, context): the input read once by a dispatcher and decoded in "
            "units by the workers of a sharded run (ioproto.split); without it every worker "
            "reads the whole input",
        ),
        "options": (None, _OPTIONS),
        "file_options": (
            (),
            "names of its options whose value is a file it writes (the cdp source's har, "
            "record): the CLI checks them with the other outputs before anything is read (a "
            "file it cannot write, one another output writes, one that is an input)",
        ),
        "check_options": (
            None,
            "check_options(options): read every option value open() reads and raise "
            "UsageError for one it would refuse; the CLI calls it before any output is "
            "opened (a file truncated, a dashboard served), so that a typo costs nothing",
        ),
        "types": (None, _TYPES),
    },
    "Decoder": {
        "layer": (
            None,
            "the layer it produces, when not its name (several decoders may produce one layer)",
        ),
        "priority": (
            0,
            "among the decoders of one layer, higher is asked first (then registration order)",
        ),
        "scope": (
            "pipeline",
            '"connection": its state is per connection only (its output for a record depends '
            "only on earlier records of the same connection), so ioproto.worker may run it "
            "apart from the layers above",
        ),
        "ends_session": (
            None,
            "ends_session(record) -> str | None: whether a record it made ends its session "
            "(the reason: the Engine.IO close says 'closed'); the pipeline then ends the "
            "session once the record has gone through every stage",
        ),
        "attributes_errors": (
            False,
            "error records of the layers below are offered to it (accepts, then feed, which "
            "returns them, their session and transport filled in when it knows them)",
        ),
        "options": (None, _OPTIONS),
        "types": (None, _TYPES),
    },
    "Classifier": {
        "options": (None, _OPTIONS),
        "types": (None, _TYPES),
    },
    "StreamDecoder": {
        "session_ended": (
            None,
            "session_ended(session, end) -> Iterable[Record]: a session ended (closed, "
            "evicted, or the input ended); report what it held for it (unanswered acks); the "
            "records go on from the layer above",
        ),
        "accepts": (
            None,
            "accepts(record) -> bool, asked instead of the decoder's (for a decoder that "
            "claims sessions as it sees them)",
        ),
        "input_ended": (
            None,
            "input_ended(ts) -> Iterable[Record], called when an input of the run has ended "
            "(its InputSummary; else at the run's end), ts its last record's time (in a "
            "sharded worker, the run's), before the open sessions end: records that end "
            "sessions the input's end shows over (the Engine.IO layer: a client silent past "
            "its heartbeat deadline); they go on from the layer above, in the order given",
        ),
        "time_passed": (
            None,
            "time_passed(now) -> Iterable[Record], called in a live run (a live source, "
            "whose records are timed by the clock as they happen) at most once a second "
            "with the clock's time: records that end sessions the passing of time shows over "
            "(the Engine.IO layer's silent clients), as input_ended's, while the run goes on",
        ),
    },
    "ClassifierState": {
        "session_ended": (
            None,
            "session_ended(session, end) -> Iterable[Record]: a session ended; records to "
            "emit for it (later classifiers and the sinks see them)",
        ),
        "tags": (
            None,
            "tags(record) -> tuple[Tag, ...], called instead of classify(): the tags of "
            "consecutive such classifiers are added in one copy (it must not read the tags "
            "others add)",
        ),
        "input_ended_at": (
            None,
            "input_ended_at(ts), called in a sharded worker (ioproto.shard) before close(): "
            "the time of the last record classified in the whole run, which this process "
            "may not have seen (for a state that reports at close 'by the last record's time')",
        ),
        "close_order": (
            "ended",
            '"ended": close() reports in the order the sessions ended; "time": by time, '
            "then that order (a sharded run, ioproto.shard, merges its workers' reports so)",
        ),
    },
    "SinkFactory": {
        "per_input": (
            False,
            "True: it writes one output per input (parquet); `decode` then runs one pipeline "
            "per input in its own process, and the factory also has plan(inputs, options, "
            "settings), saying per input what is already done (see ioproto.cli.perinput)",
        ),
        "target": (
            "path",
            '"address": --sink NAME:X gives X as the sink option "target" instead of a file '
            "to write to",
        ),
        "options": (None, _OPTIONS),
        "private_options": (
            (),
            "names of the options the plugin's own code gives open() besides those it "
            "declares (a command's object, what plan() returns): Pipeline.build takes them, "
            "--sink-option refuses them",
        ),
        "check_options": (
            None,
            "check_options(options): read every option value open() reads and raise "
            "UsageError or ValueError for one it would refuse; the CLI calls it before any "
            "output is opened",
        ),
    },
    "Sink": {
        "render": (
            None,
            "render(record) -> bytes: what write(record) would write, in UTF-8 (b'' for "
            "none), made in the workers of a sharded run (ioproto.shard); needs "
            "write_rendered",
        ),
        "write_rendered": (
            None,
            "write_rendered(data): write what render() made (the bytes of one or several "
            "records, joined), as write(record) would have",
        ),
        "session_ended": (
            None,
            "session_ended(session, end): a session ended (after the layers and classifiers "
            "have reported it)",
        ),
        "tick": (
            None,
            "tick(), called from the pipeline's thread while the input flows or a live source "
            "waits (periodic output: stats --every)",
        ),
        "started": (
            None,
            "started(), called once the input has opened (a capture running, a file's first "
            "record): a sink that announces itself (a URL to open) does it then, so that an "
            "input that cannot open is one line on stderr",
        ),
        "linger": (
            None,
            "linger(), called after a file input ends (a sink that serves, like prometheus, "
            "goes on until Ctrl-C)",
        ),
        "abort": (
            None,
            "abort(), called instead of close() when an input was not read to its end: "
            "nothing half-written may look complete",
        ),
        "url": (
            None,
            "where a sink that serves can be reached (its page, its metrics endpoint), known "
            "once it is open: a tap's handle lists them (Tap.urls)",
        ),
        "failure": (
            None,
            "an exception the sink met and kept (set after close()): the input failed",
        ),
    },
}


def optional(component: object, kind: str, member: str) -> Any:
    """``component``'s optional ``member`` of a component of ``kind`` (see
    :data:`OPTIONAL_MEMBERS`), or the value its absence means. Raises :class:`KeyError` for
    a member the table does not declare (so the core cannot read an undocumented one)."""
    absent, _ = OPTIONAL_MEMBERS[kind][member]
    return getattr(component, member, absent)


def declared_options(component: object, kind: str) -> Mapping[str, str] | None:
    """The ``options`` a source, decoder, classifier or sink factory (``kind``) declares;
    ``None`` when it declares none (then nothing can be checked against it)."""
    options = optional(component, kind, "options")
    return options if isinstance(options, Mapping) else None


def declared_types(component: object, kind: str) -> tuple[str, ...] | None:
    """The record ``types`` a component of ``kind`` declares; ``None`` when it declares none."""
    types = optional(component, kind, "types")
    if types is None or isinstance(types, str):
        return None
    return tuple(str(item) for item in types)
