"""``ioproto decode``: read inputs, decode them, write the records to sinks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import IO, TYPE_CHECKING, Any

import click

from ioproto.components import SinkContext, Source, SourceContext, declared_options, optional
from ioproto.errors import PluginFailure, UsageError
from ioproto.sinkoptions import split_sink_options, takes_path
from ioproto.writable import why_not

from .mistakes import Mistake, discard_stdout
from .options import (
    decode_options,
    input_options,
    output_options,
    parse_key_values,
    parse_limits,
)
from .outputs import STDOUT_NAMES, OutputFiles
from .state import CliState

if TYPE_CHECKING:
    from ioproto.model import Record
    from ioproto.pipeline import Pipeline
    from ioproto.plugins import Components
    from ioproto.summary import RunSummary


@click.command("decode")
@input_options
@decode_options
@output_options
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1),
    metavar="N",
    help="Worker processes. For a sink that writes one output per input (parquet): inputs "
    "decoded at once, one process each. Otherwise: 1 decodes a capture file in this "
    "process alone; 2 reads one of 1 MB or more in a reader process of its own; 3 or more "
    "split a lone capture file among N workers by Engine.IO session, each decoding and "
    "classifying its share (same records, same order; --source-option shard=true/false "
    "forces it on or off). Default: the available cores, within a container's CPU quota "
    "(for one input: those not busy, "
    "by the load average and what runs now); a lone capture file of 4 MB or more is "
    "sharded when 5 or more are idle (a worker for each idle core but 2, 8 at most), "
    "else read by a reader process.",
)
@click.pass_obj
def decode_command(state: CliState, /, **params: Any) -> None:
    """Decode INPUT (a capture file, '-' for stdin) and write every record.

    \b
    Examples:
      ioproto decode --proto socketio examples/chat.pcap
      ioproto decode --proto engineio --sink jsonl packets.txt
      printf '40\\n42["chat",{"text":"hi"}]\\n' | ioproto decode -
      ioproto decode --sink parquet:archive/ captures/*.pcap
    """
    run_pipeline_command(state, default_sink="text", **params)


def run_pipeline_command(
    state: CliState,
    *,
    default_sink: str,
    inputs: Sequence[str],
    source: str | None,
    source_options: Sequence[str],
    ports: Sequence[int],
    proto: str,
    decode_options: Sequence[str],
    strict: bool,
    all_layers: bool,
    max_payload: int | None,
    limit_settings: Sequence[str],
    no_classify: Sequence[str],
    sinks: Sequence[str],
    sink_options: Sequence[str],
    output: str,
    color: bool | None,
    extra_sink_options: dict[str, dict[str, Any]] | None = None,
    every: float | None = None,
    filters: Sequence[str] = (),
    feed: Callable[[Source, str, Iterable[Record]], Iterable[Record]] | None = None,
    jobs: int | None = None,
    source_option_flags: Mapping[str, str] | None = None,
    check_only: bool = False,
) -> None:
    """Build a pipeline from CLI parameters and run it over ``inputs``.

    Plugins' commands reuse this with their own defaults (e.g. ``ioproto monitor``).
    A user's mistake (an unknown name or option, which the message lists the valid ones
    of; a file that cannot be written; an input that cannot be opened) is a
    :class:`~.mistakes.Mistake`: exit status 2, one line. A run that gives no record at all
    says why on stderr (:func:`~.empty.why_empty`). ``every`` (seconds) makes sinks that
    report periodically (stats) do so while the input flows, and while a live source waits
    for traffic. ``filters`` (``--filter``, all must hold) choose the records the sinks get;
    their push-down predicates and source options (``tcp.port`` → ``port``) skip decoding
    what cannot match. ``feed(source, input, records)``, if given, wraps each input's records
    on their way into the pipeline (the dashboard replays a file at its recorded pace with
    it). When the sink writes one output per input (a factory with ``per_input = True``),
    each input gets its own pipeline, ``jobs`` of them at once in separate processes
    (:mod:`ioproto.cli.perinput`). ``source_option_flags`` names the command's own options
    that set a source option (``{"har": "--har"}`` for ``browse --har FILE``), so that what
    is said about that option names it as the user gave it. ``check_only``: make the checks
    that come before any input is opened, and return (``browse`` checks before it starts a
    browser whose address is the input).
    """
    # The pipeline's modules load when a pipeline runs, so that `--help` stays fast.
    from ioproto.memory import return_large_blocks
    from ioproto.pipeline import Ticker
    from ioproto.worker import source_records

    from .checks import check_decode_options, check_sink_options, check_source_options
    from .empty import said_at_end, unreadable_inputs
    from .filtering import compile_filters
    from .pipeinputs import read_pipes_as_stdin, stdin_streams
    from .runspec import RunSpec

    return_large_blocks()
    named = list(inputs)  # as the user gave them, for what is said about them
    inputs = read_pipes_as_stdin(inputs)
    components = state.components
    options: dict[str, Any] = dict(
        parse_key_values(decode_options, "--decode-option", allow_empty=False)
    )
    source_settings: dict[str, Any] = dict(
        parse_key_values(source_options, "--source-option", allow_empty=False)
    )
    check_decode_options(options, components)
    if ports and "port" in source_settings:
        raise Mistake("--port and --source-option port= both choose the ports; give one of the two")
    user_source_options = [*source_settings, *(["port"] if ports else [])]
    if ports:
        source_settings["port"] = list(ports)
    match = compile_filters(filters, components, ports=ports)
    if match is not None:
        for option, values in match.source_options().items():
            source_settings.setdefault(option, values)
    limits = parse_limits(limit_settings, max_payload)
    _check_classifier_names(no_classify, components.classifiers.names())
    classifiers: list[str] | None
    if "all" in no_classify:
        classifiers = []
    else:
        classifiers = [name for name in components.classifiers.names() if name not in no_classify]
    spec = RunSpec(
        proto=proto,
        options=options,
        source=source,
        source_settings=source_settings,
        limits=limits,
        classifiers=classifiers,
        strict=strict,
        all_layers=all_layers,
        filters=tuple(filters),
        ports=tuple(ports),
    )
    # Up front, before any output is opened (a typo must not empty an -o file): a file that
    # does not exist, an option or an option value that the components do not take.
    sources = [spec.resolve(state, item, name) for item, name in zip(inputs, named, strict=True)]
    check_source_options(user_source_options, sources, components)
    shared_options, per_sink_options = _sink_option_maps(sink_options)
    repeated = [spec for spec in dict.fromkeys(sinks) if sinks.count(spec) > 1]
    if repeated:
        raise Mistake(f"--sink {repeated[0]} is given twice; give it once")
    sink_choices = list(sinks) or [default_sink]
    if not sinks and default_sink == "text":
        sink_choices.append("monitor")  # what a terminal gets (below)
    chosen_sinks = [spec.partition(":")[0] for spec in sink_choices]
    check_sink_options(shared_options, per_sink_options, chosen_sinks, components)
    if all_layers:  # every record, also the empty control frames text and monitor leave out
        shared_options.setdefault("empty_control", "true")
    _check_option_values(
        components,
        sources=sources,
        source_settings=source_settings,
        sink_choices=sink_choices,
        option_maps=(shared_options, per_sink_options),
        extra=extra_sink_options,
    )
    spec.check(state)  # the decode options' values
    per_input = _per_input_sink(state, sinks)
    if per_input is not None and not check_only:
        from .perinput import run_per_input

        name, path = per_input
        if output != "-":
            raise Mistake(
                f"-o {output}: --sink {name} writes its own files, one per input"
                f"{' in ' + path if path else ''}; leave -o out"
            )
        sink_settings = _sink_options(
            components, name, "", (shared_options, per_sink_options), None
        )
        run_per_input(state, spec, name, path, sink_settings, inputs, jobs)
        return
    _check_output_paths(
        _written_files(
            components,
            output,
            sinks or [default_sink],
            (shared_options, per_sink_options),
            extra_sink_options or {},
        )
        + _source_files(sources, source_settings, source_option_flags or {}),
        inputs,
    )
    if check_only:
        return
    with ExitStack() as stack:
        files = OutputFiles(stack, abandon_on=click.UsageError)
        default_stream = _open_output(files, output)
        if not sinks and default_sink == "text" and _isatty(default_stream):
            # People at a terminal get the MONITOR view when it is installed.
            default_sink = "monitor" if "monitor" in components.sinks else default_sink
        live = [chosen for chosen in sources if optional(chosen, "Source", "live")]
        # A pipe or terminal on stdin brings its traffic as it happens (`tcpdump -U -w - |`):
        # the sinks are told so, as for a live source (the dashboard's clock, live metrics).
        streaming = "-" in inputs and stdin_streams()
        sink_specs = _sink_specs(
            files,
            components,
            sinks or [default_sink],
            (shared_options, per_sink_options),
            default_stream,
            color,
            extra_sink_options or {},
            live=bool(live) or streaming,
        )
        pipeline = spec.build(state, sink_specs)
        streams = list({id(sink.stream): sink.stream for _, sink in sink_specs}.values())
        caught_up: Callable[[], None] = _nothing
        if live and all(optional(chosen, "Source", "says_caught_up") for chosen in live):
            # Live sources that say when they have delivered all the traffic so far: each
            # packet shows up as it happens, yet under a flood the output leaves in blocks
            # (a write per line cost the proxy's decoder 16% of its time).
            for stream in streams:
                stack.enter_context(_buffering(stream, line=False))
            caught_up = _flusher(streams)
        elif live or streaming:
            # Other live sources, and a pipe or terminal on stdin (`tcpdump -U -w - |`, a
            # slow writer of lines): each packet shows up as it happens, on a terminal, in a
            # pipe or in a file alike (a pipe's stdout is block-buffered by default).
            for stream in streams:
                stack.enter_context(_buffering(stream, line=True))
        else:
            # Reading files into a pipe: block buffering saves a system call per line
            # (measured: 105k write calls -> 24k on a large capture).
            stack.enter_context(_buffering(default_stream, line=False))
        tick: Callable[[], None] = Ticker(every or 0.0, pipeline.tick)
        if live:
            tick = _ticking_time(tick, pipeline)
        context = SourceContext(
            options=source_settings,
            limits=limits,
            tick=tick,
            wanted=pipeline.wants,
            caught_up=caught_up,
            started=pipeline.start,
        )

        def records() -> Iterator[Record]:
            for item, chosen in zip(inputs, sources, strict=True):
                # Sharding yields batches of finished records: not for a pacing `feed`.
                opened = source_records(
                    pipeline,
                    chosen,
                    item,
                    context,
                    processes=jobs,
                    only_input=len(inputs) == 1 and feed is None,
                )
                if feed is not None:
                    opened = feed(chosen, item, opened)
                if every:
                    for record in opened:
                        yield record
                        tick()
                else:
                    yield from opened

        def say_why_empty(summary: RunSummary) -> None:
            for line in said_at_end(summary, inputs, sources, pipeline.sinks, named):
                click.echo(line, err=True)

        try:
            # Said as the input ends, before the sinks close and linger (the dashboard's page).
            summary = _run(pipeline, records(), before_sinks_close=say_why_empty)
            if not live:
                _linger(pipeline)
        except UsageError as exc:
            raise Mistake(str(exc)) from None
        except PluginFailure as exc:
            raise click.ClickException(f"--strict: {exc}") from exc
        except KeyboardInterrupt:
            pipeline.close()
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, like other Unix tools.
            discard_stdout()
            sys.exit(0)
        _report_sink_failures(summary)
        if unreadable_inputs(summary):
            sys.exit(1)


def _check_classifier_names(names: Sequence[str], valid: Sequence[str]) -> None:
    """A :class:`~.mistakes.Mistake` for a ``--no-classify`` name that is no classifier
    (a typo would otherwise leave that classifier on, silently)."""
    from ioproto.suggest import did_you_mean

    for name in names:
        if name != "all" and name not in valid:
            raise Mistake(
                f"--no-classify {name!r}: no such classifier{did_you_mean(name, valid)}; "
                f"valid: all, {', '.join(valid)}"
            )


def _ticking_time(tick: Callable[[], None], pipeline: Pipeline) -> Callable[[], None]:
    """``tick``, and once a second the pipeline's :meth:`~ioproto.pipeline.Pipeline.time_passed`:
    a live source's records are timed by the clock as they happen, so the clock may end the
    sessions whose client went silent past its server's wait while the run goes on."""
    from ioproto.pipeline import Ticker  # late, as above: not at the command's start-up

    def let_time_pass() -> None:
        pipeline.time_passed()

    clock = Ticker(1.0, let_time_pass)

    def both() -> None:
        tick()
        clock()

    return both


def _nothing() -> None:
    pass


def _flusher(streams: Sequence[IO[str]]) -> Callable[[], None]:
    """Write out what ``streams`` hold (a live source has caught up with the traffic)."""

    def flush() -> None:
        for stream in streams:
            stream.flush()

    return flush


def _report_sink_failures(summary: RunSummary) -> None:
    """A sink that failed lost records it cannot report itself: say so, exit 1."""
    if not summary.sink_failures:
        return
    for name, count in summary.sink_failures.items():
        reason = summary.sink_failure_reasons.get(name, "")
        click.echo(f"ioproto: sink {name} failed on {count} record(s): {reason}", err=True)
    sys.exit(1)


def _run(
    pipeline: Pipeline,
    records: Iterator[Record],
    before_sinks_close: Callable[[RunSummary], None] = lambda summary: None,
) -> RunSummary:
    """:meth:`Pipeline.run`, except that an input that cannot be opened (``UsageError``)
    leaves the sinks unclosed (the command failed, and a summary of nothing would mislead),
    and that ``before_sinks_close(summary)`` runs once the input is finished, before the
    sinks close, when the input ended by itself."""
    try:
        for record in records:
            pipeline.feed(record)
    except UsageError:
        raise
    except BaseException:
        pipeline.close()
        raise
    pipeline.finish()
    before_sinks_close(pipeline.summary)
    pipeline.close()
    return pipeline.summary


@contextmanager
def _buffering(stream: IO[str], *, line: bool) -> Iterator[None]:
    """Line-buffer ``stream`` (``line``), or block-buffer it unless it is a terminal, for the
    duration; streams that cannot be reconfigured are left as they are.

    Block buffering also turns write-through off: with ``PYTHONUNBUFFERED=1`` (common in
    containers, and set in this project's shells) stdout writes every line with a system
    call of its own, which into a pipe cost 1.6 s of 6.2 on the 85 MB capture. Everything
    written to ``stream`` keeps its order either way: only when the bytes leave changes.
    """
    reconfigure = getattr(stream, "reconfigure", None)
    was = getattr(stream, "line_buffering", None)
    if reconfigure is None or was is None or (not line and _isatty(stream)):
        yield
        return
    changes: dict[str, bool] = {}
    if was != line:
        changes["line_buffering"] = line
    if not line and getattr(stream, "write_through", False):
        changes["write_through"] = False
    if not changes:
        yield
        return
    restore = {name: bool(getattr(stream, name)) for name in changes}
    reconfigure(**changes)
    try:
        yield
    finally:
        stream.flush()
        reconfigure(**restore)


#: Sink options that name a file the sink writes (besides its ``--sink NAME:FILE``).
_FILE_OPTIONS = ("chart", "export")


def _written_files(
    components: Components,
    output: str,
    sinks: Sequence[str],
    option_maps: tuple[dict[str, str], dict[str, dict[str, str]]],
    extra: dict[str, dict[str, Any]],
) -> list[tuple[str, str]]:
    """``(option, path)`` for every file the run will write: ``-o``, ``--sink NAME:FILE``,
    a sink's ``chart=``/``export=`` (``stats --chart``, ``dashboard --export``)."""
    named = [("-o/--output", output)] if output != "-" else []
    for spec in sinks:
        name, colon, path = spec.partition(":")
        if colon and path != "-" and _takes_path(components, name):
            named.append((f"--sink {spec}", path))
        options = _sink_options(components, name, path, option_maps, extra)
        for key in _FILE_OPTIONS:
            value = options.get(key)
            if value:
                named.append((f"{name} {key}={value}", str(value)))
    return named


def _source_files(
    sources: Sequence[Source], settings: dict[str, Any], flags: Mapping[str, str]
) -> list[tuple[str, str]]:
    """``(option, path)`` for every file the inputs' sources write besides the records: the
    options each declares in its ``file_options`` (the cdp source's ``har=`` and ``record=``),
    named by the command's flag that set it where ``flags`` has one (``browse --har``)."""
    names = dict.fromkeys(
        name for source in sources for name in optional(source, "Source", "file_options")
    )
    return [
        (
            f"{flags[name]} {settings[name]}"
            if name in flags
            else f"--source-option {name}={settings[name]}",
            str(settings[name]),
        )
        for name in names
        if settings.get(name)
    ]


def _check_output_paths(named: Sequence[tuple[str, str]], inputs: Sequence[str]) -> None:
    """No file is written by two outputs, and none is an input (opening it for writing
    would empty the capture before it is read): a :class:`Mistake` before anything opens."""
    written: dict[str, str] = {}
    read = {os.path.realpath(item): item for item in inputs if os.path.exists(item)}
    for option, path in named:
        real = os.path.realpath(path)
        if real in read:
            raise Mistake(
                f"{option} would overwrite the input {read[real]}; write the records elsewhere"
            )
        if real in written:
            raise Mistake(f"{written[real]} and {option} write the same file; give each its own")
        written[real] = option


def _open_output(files: OutputFiles, path: str, option: str = "-o/--output") -> IO[str]:
    if path in STDOUT_NAMES:
        # sys.stdout as it is now: click's test runner swaps it while a command runs.
        return sys.stdout
    try:
        return files.open(path)
    except OSError as exc:
        raise Mistake(f"{option}: {cannot_write(path, exc)}") from None


def cannot_write(path: str, exc: OSError) -> str:
    """``cannot write PATH: <why>; <what to do>`` for a file that could not be opened."""
    return f"cannot write {path}: {why_not(path, exc)}"


def _per_input_sink(state: CliState, sinks: Sequence[str]) -> tuple[str, str] | None:
    """``(name, path)`` of the sink that writes one output per input, if one is asked for.

    Such a sink runs alone: combined with other sinks their outputs would be split per
    input and per process.
    """
    chosen = []
    for spec in sinks:
        name, _colon, path = spec.partition(":")
        if name in state.components.sinks and optional(
            state.components.sinks.get(name), "SinkFactory", "per_input"
        ):
            chosen.append((name, path))
    if not chosen:
        return None
    if len(sinks) > 1:
        raise click.UsageError(
            f"--sink {chosen[0][0]} writes one output per input and runs alone; "
            "write other sinks in a separate run"
        )
    return chosen[0]


def _sink_option_maps(
    sink_options: Sequence[str],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``--sink-option`` values: those for every sink, and those for one sink by name."""
    return split_sink_options(parse_key_values(sink_options, "--sink-option"))


def _sink_specs(
    files: OutputFiles,
    components: Components,
    sinks: Sequence[str],
    option_maps: tuple[dict[str, str], dict[str, dict[str, str]]],
    default_stream: IO[str],
    color: bool | None,
    extra: dict[str, dict[str, Any]],
    *,
    live: bool,
) -> list[tuple[str, SinkContext]]:
    """The sinks' names and contexts; ``live``: the records come from a live source."""
    specs = []
    for spec in sinks:
        name, colon, path = spec.partition(":")
        stream: IO[str] = default_stream
        if colon and _takes_path(components, name):
            stream = _open_output(files, path, option=f"--sink {spec}")
        use_color = color if color is not None else _isatty(stream)
        options = _sink_options(components, name, path, option_maps, extra)
        context = SinkContext(stream=stream, color=use_color, options=options, live=live)
        specs.append((name, context))
    return specs


def _check_option_values(
    components: Components,
    *,
    sources: Sequence[Source],
    source_settings: dict[str, Any],
    sink_choices: Sequence[str],
    option_maps: tuple[dict[str, str], dict[str, dict[str, str]]],
    extra: dict[str, dict[str, Any]] | None,
) -> None:
    """A :class:`~.mistakes.Mistake` for a source or sink option value that the sources
    reading the inputs, or the sinks (``NAME`` or ``NAME:PATH``), do not take."""
    from .checks import check_source_option_values

    try:
        check_source_option_values(sources, source_settings)
        for choice in sink_choices:
            name, _, path = choice.partition(":")
            if name in components.sinks:  # an unknown name is refused later, listing the valid
                check = optional(components.sinks.get(name), "SinkFactory", "check_options")
                if check is not None:
                    check(_sink_options(components, name, path, option_maps, extra))
    except (UsageError, ValueError) as exc:
        raise Mistake(str(exc)) from None


def _sink_options(
    components: Components,
    name: str,
    path: str,
    option_maps: tuple[dict[str, str], dict[str, dict[str, str]]],
    extra: dict[str, dict[str, Any]] | None,
) -> dict[str, Any]:
    """The options sink ``name`` is opened with (``--sink NAME:PATH`` gives a sink whose
    ``target`` is an address, as prometheus, the option ``target``). A ``--sink-option KEY``
    for every sink reaches those that declare it (or declare nothing): another sink of the
    run may be the one that takes it."""
    shared, per_sink = option_maps
    declared = (
        declared_options(components.sinks.get(name), "SinkFactory")
        if name in components.sinks
        else None
    )
    if declared is not None:
        shared = {key: value for key, value in shared.items() if key in declared}
    target = {"target": path} if path and not _takes_path(components, name) else {}
    return {**shared, **target, **per_sink.get(name, {}), **(extra or {}).get(name, {})}


def _takes_path(components: Components, name: str) -> bool:
    """Whether ``--sink NAME:X`` names a file to write (the default) or, for a sink factory
    with ``target = "address"`` (prometheus), something the sink reads as option ``target``."""
    return takes_path(components.sinks.get(name) if name in components.sinks else None)


def _linger(pipeline: Pipeline) -> None:
    """After a file input ended: let sinks that serve (prometheus, the dashboard's page) go
    on until Ctrl-C or SIGTERM. Not after a live source, whose stop ends the command."""
    for stage in pipeline.sinks:
        linger = optional(stage.component, "Sink", "linger")
        if linger is not None:
            linger()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty() and os.environ.get("NO_COLOR") is None
    except (AttributeError, ValueError):
        return False
