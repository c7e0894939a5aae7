"""``ioproto decode``: read inputs, decode them, write the records to sinks."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import IO, Any

import click

from ioproto.components import Limits, SinkContext, Source, SourceContext
from ioproto.errors import NoSourceError, PluginFailure
from ioproto.model import Record
from ioproto.pipeline import Pipeline, Ticker, resolve_source
from ioproto.plugins import UnknownComponentError

from .options import decode_options, input_options, output_options, parse_key_values
from .state import CliState


@click.command("decode")
@input_options
@decode_options
@output_options
@click.pass_obj
def decode_command(state: CliState, /, **params: Any) -> None:
    """Decode INPUT (a capture file, '-' for stdin) and write every record.

    \b
    Examples:
      ioproto decode --proto socketio examples/chat.pcap
      ioproto decode --proto engineio --sink jsonl packets.txt
      printf '40\\n42["chat",{"text":"hi"}]\\n' | ioproto decode -
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
    revision: int | None,
    proto: str,
    decode_options: Sequence[str],
    strict: bool,
    all_layers: bool,
    max_payload: int | None,
    no_classify: Sequence[str],
    sinks: Sequence[str],
    sink_options: Sequence[str],
    output: str,
    color: bool | None,
    extra_sink_options: dict[str, dict[str, Any]] | None = None,
    every: float | None = None,
    feed: Callable[[Source, str, Iterable[Record]], Iterable[Record]] | None = None,
) -> None:
    """Build a pipeline from CLI parameters and run it over ``inputs``.

    Plugins' commands reuse this with their own defaults (e.g. ``ioproto monitor``).
    Usage errors (unknown names) exit with status 2 and list the valid names. ``every``
    (seconds) makes sinks that report periodically (stats) do so while the input flows,
    and while a live source waits for traffic. ``feed(source, input, records)``, if given,
    wraps each input's records on their way into the pipeline (the dashboard replays a file
    at its recorded pace with it).
    """
    components = state.components
    options: dict[str, Any] = dict(parse_key_values(decode_options, "--decode-option"))
    source_settings: dict[str, Any] = dict(parse_key_values(source_options, "--source-option"))
    if revision is not None:
        options.setdefault("revision", revision)
    if ports:
        source_settings["port"] = list(ports)
    limits = Limits(max_payload=max_payload) if max_payload else Limits()
    classifiers: list[str] | None
    if "all" in no_classify:
        classifiers = []
    else:
        classifiers = [name for name in components.classifiers.names() if name not in no_classify]

    with ExitStack() as stack:
        default_stream = _open_output(stack, output)
        if not sinks and default_sink == "text" and _isatty(default_stream):
            # People at a terminal get the MONITOR view when it is installed.
            default_sink = "monitor" if "monitor" in components.sinks else default_sink
        sink_specs = _sink_specs(
            stack,
            sinks or [default_sink],
            sink_options,
            default_stream,
            color,
            extra_sink_options or {},
        )
        try:
            pipeline = Pipeline.build(
                proto=proto,
                sinks=sink_specs,
                classifiers=classifiers,
                strict=strict,
                all_layers=all_layers,
                options=options,
                limits=limits,
                plugin_manager=state.pm,
                components=components,
            )
        except UnknownComponentError as exc:
            raise click.UsageError(str(exc)) from None
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        try:
            sources = [resolve_source(components, item, source=source) for item in inputs]
        except (UnknownComponentError, NoSourceError) as exc:
            raise click.UsageError(str(exc)) from None
        if not any(getattr(chosen, "live", False) for chosen in sources):
            # Reading files into a pipe: block buffering saves a system call per line
            # (measured: 105k write calls -> 24k on a large capture). Live sources keep line
            # buffering so each packet shows up as it happens.
            stack.enter_context(_block_buffered(default_stream))
        tick = Ticker(every or 0.0, pipeline.tick)
        context = SourceContext(options=source_settings, limits=limits, tick=tick)

        def records() -> Iterator[Record]:
            for item, chosen in zip(inputs, sources, strict=True):
                opened: Iterable[Record] = chosen.open(item, context)
                if feed is not None:
                    opened = feed(chosen, item, opened)
                if every:
                    for record in opened:
                        yield record
                        tick()
                else:
                    yield from opened

        try:
            pipeline.run(records())
        except PluginFailure as exc:
            raise click.ClickException(f"--strict: {exc}") from exc
        except KeyboardInterrupt:
            pipeline.close()
            sys.exit(130)
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, like other Unix tools.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)


@contextmanager
def _block_buffered(stream: IO[str]) -> Iterator[None]:
    """Block-buffer a line-buffered text stream that is not a terminal, for the duration."""
    reconfigure = getattr(stream, "reconfigure", None)
    if not getattr(stream, "line_buffering", False) or reconfigure is None or _isatty(stream):
        yield
        return
    reconfigure(line_buffering=False)
    try:
        yield
    finally:
        stream.flush()
        reconfigure(line_buffering=True)


def _open_output(stack: ExitStack, path: str) -> IO[str]:
    if path == "-":
        # sys.stdout as it is now: click's test runner swaps it while a command runs.
        return sys.stdout
    return stack.enter_context(open(path, "w", encoding="utf-8"))


def _sink_specs(
    stack: ExitStack,
    sinks: Sequence[str],
    sink_options: Sequence[str],
    default_stream: IO[str],
    color: bool | None,
    extra: dict[str, dict[str, Any]],
) -> list[tuple[str, SinkContext]]:
    shared: dict[str, str] = {}
    per_sink: dict[str, dict[str, str]] = {}
    for key, value in parse_key_values(sink_options, "--sink-option").items():
        sink_name, dot, option = key.partition(".")
        if dot:
            per_sink.setdefault(sink_name, {})[option] = value
        else:
            shared[key] = value
    specs = []
    for spec in sinks:
        name, colon, path = spec.partition(":")
        stream: IO[str] = default_stream
        if colon:
            stream = stack.enter_context(open(path, "w", encoding="utf-8"))  # noqa: SIM115
        use_color = color if color is not None else _isatty(stream)
        options: dict[str, Any] = {**shared, **per_sink.get(name, {}), **extra.get(name, {})}
        specs.append((name, SinkContext(stream=stream, color=use_color, options=options)))
    return specs


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty() and os.environ.get("NO_COLOR") is None
    except (AttributeError, ValueError):
        return False
