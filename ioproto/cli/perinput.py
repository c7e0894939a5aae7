"""Per-input runs: one pipeline per input, several inputs at once in separate processes.

Used by ``ioproto decode`` when the sink's factory has ``per_input = True`` (the ``parquet``
sink): such a sink writes one independent output per input into the directory given as
``--sink NAME:DIR``. The factory's ``plan(inputs, options, settings)`` returns, for each
input, the options of that input's sink, or ``None`` when DIR already holds it complete;
those inputs are skipped. Each other input is decoded by its own pipeline: in this process
when one process is enough, else in a child process per input, ``jobs`` at a time (default:
the cores this process may use). A sink that has an ``abort()`` method has it called when
its input was not read to the end (an interrupt, a crash), so that it leaves nothing that
looks complete. A child dies with its parent (Linux), so a killed run leaves no process
behind to race the next one. Each input's line on stderr counts the records its output
got (those the ``--filter`` let through); an input that gave none says why, as ``decode``
does (:func:`~.empty.said_at_end`). An input its source could not read at all (not a
capture) is said on stderr and its output holds the error record; the command then exits
with status 1, as ``decode`` does.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from ioproto.components import SinkContext, SourceContext, optional
from ioproto.render import plural, readable
from ioproto.worker import available_cores, source_records

from .empty import said_at_end, unreadable_inputs
from .filtering import FilteredSink
from .state import CliState

if TYPE_CHECKING:
    from .runspec import RunSpec


def run_per_input(
    state: CliState,
    spec: RunSpec,
    sink: str,
    path: str,
    sink_options: Mapping[str, Any],
    inputs: Sequence[str],
    jobs: int | None,
) -> None:
    """Decode each input into its own output of sink ``sink``; see the module docstring.

    Exits with status 1 when an input failed (the others are still finished), 130 on
    Ctrl-C; rerunning the same command finishes what is left.
    """
    factory: Any = state.components.sinks.get(sink)  # a SinkFactory with plan()
    options = {**sink_options, "path": path}
    settings = {**spec.settings(), "sink_options": dict(sorted(sink_options.items()))}
    try:
        planned = factory.plan(list(inputs), options, settings)
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    todo: list[tuple[str, dict[str, Any]]] = []
    for item, extra in zip(inputs, planned, strict=True):
        if extra is None:
            click.echo(readable(f"ioproto: {item}: already complete in {path}, skipped"), err=True)
        else:
            todo.append((item, {**options, **extra}))
    if not todo:
        return
    for item, _options in todo:
        spec.resolve(state, item)  # an input no source reads is a usage error, up front
    workers = min(jobs or available_cores(), len(todo))
    if workers <= 1:
        failures, unreadable = _run_here(state, spec, sink, todo)
    else:
        failures, unreadable = _run_in_processes(state, spec, sink, todo, workers)
    if failures:
        raise click.ClickException(
            f"{failures} of {len(todo)} inputs failed; run the same command again to "
            "finish them (completed inputs are skipped)"
        )
    if unreadable:
        sys.exit(1)  # each said why; its output holds its error record


#: A child's exit status for an input its source could not read (said, output complete).
_UNREADABLE = 3


def _run_here(
    state: CliState, spec: RunSpec, sink: str, todo: list[tuple[str, dict[str, Any]]]
) -> tuple[int, int]:
    """The inputs that failed, and those that could not be read."""
    failures = unreadable = 0
    for item, options in todo:
        try:
            if not decode_one(state, spec, sink, item, options):
                unreadable += 1
        except KeyboardInterrupt:
            sys.exit(130)
        except click.UsageError:
            raise
        except Exception as exc:
            failures += 1
            click.echo(readable(f"ioproto: {item}: failed: {_describe(exc)}"), err=True)
    return failures, unreadable


def decode_one(
    state: CliState, spec: RunSpec, sink: str, item: str, options: Mapping[str, Any]
) -> bool:
    """Decode ``item`` into its own sink; raises when the output could not be completed.
    False when its source could not read it at all (said on stderr; the output is complete,
    holding the error record).

    An input that is not read to its end (Ctrl-C on a file, an exception) has its sink
    aborted; on a live source Ctrl-C is the normal way to stop, and the sink is closed.
    """
    started = time.monotonic()
    source = spec.resolve(state, item)
    live = bool(optional(source, "Source", "live"))
    context = SinkContext(stream=sys.stderr, color=False, options=options, live=live)
    pipeline = spec.build(state, [(sink, context)])
    source_context = SourceContext(
        options=spec.source_settings, limits=spec.limits, wanted=pipeline.wants
    )
    try:
        # One reader process per input at most: the inputs already share the cores out.
        for record in source_records(pipeline, source, item, source_context, processes=2):
            pipeline.feed(record)
    except KeyboardInterrupt:
        if live:
            pipeline.close()
        else:
            _abort(pipeline)
        raise
    except BaseException:
        _abort(pipeline)
        raise
    pipeline.close()
    for stage in pipeline.sinks:
        failure = optional(stage.component, "Sink", "failure")
        if failure is not None:
            raise RuntimeError(str(failure))
    elapsed = time.monotonic() - started
    target = options.get("capture") or item
    done = (
        f"ioproto: {item}: {plural(_written(pipeline), 'record')} into {options.get('path')} "
        f"as {target} ({elapsed:.1f} s)"
    )
    why = said_at_end(pipeline.summary, [item], [source], pipeline.sinks)
    # One write: the lines of inputs decoded at once in other processes do not interleave.
    click.echo("\n".join([readable(done), *why]), err=True)
    return not unreadable_inputs(pipeline.summary)


def _written(pipeline: Any) -> int:
    """The records the sink was given: those the ``--filter`` let through, or every record
    the run gave when there is no filter."""
    filtered = [s.component for s in pipeline.sinks if isinstance(s.component, FilteredSink)]
    if filtered:
        return filtered[0].matched
    return sum(pipeline.summary.records.values())


def _abort(pipeline: Any) -> None:
    for stage in pipeline.sinks:
        abort = optional(stage.component, "Sink", "abort")
        if abort is not None:
            with contextlib.suppress(Exception):
                abort()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _run_in_processes(
    state: CliState,
    spec: RunSpec,
    sink: str,
    todo: list[tuple[str, dict[str, Any]]],
    workers: int,
) -> tuple[int, int]:
    """The inputs that failed, and those that could not be read (see :func:`_run_here`)."""
    methods = multiprocessing.get_all_start_methods()
    # fork: the child inherits the loaded plugins (a fresh interpreter would load them
    # again for every input). Elsewhere the child builds its own.
    context: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    inherited = state if "fork" in methods else None
    if workers > 1 and "parallel" not in spec.source_settings:
        # One process per input already uses the cores; the pcap source's own reader
        # process would only add more processes than cores.
        spec = _with_source_setting(spec, "parallel", "false")
    pending = list(todo)
    running: dict[Any, tuple[Any, str]] = {}
    failures = unreadable = 0
    try:
        while pending or running:
            while pending and len(running) < workers:
                item, options = pending.pop(0)
                process = context.Process(
                    target=_child,
                    args=(inherited, spec, sink, item, options, os.getpid()),
                    name=f"ioproto decode {item}",
                )
                process.start()
                running[process.sentinel] = (process, item)
            for sentinel in multiprocessing.connection.wait(list(running)):
                process, item = running.pop(sentinel)
                process.join()
                if process.exitcode == _UNREADABLE:
                    unreadable += 1
                elif process.exitcode != 0:
                    failures += 1
                    if process.exitcode is not None and process.exitcode < 0:
                        name = signal.Signals(-process.exitcode).name
                        click.echo(readable(f"ioproto: {item}: failed: killed by {name}"), err=True)
    except KeyboardInterrupt:
        # The children got the same Ctrl-C and abort their outputs; wait for them.
        for process, _item in running.values():
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
        sys.exit(130)
    return failures, unreadable


def _with_source_setting(spec: RunSpec, key: str, value: str) -> RunSpec:
    import attrs

    return attrs.evolve(spec, source_settings={**spec.source_settings, key: value})


def _child(
    state: CliState | None,
    spec: RunSpec,
    sink: str,
    item: str,
    options: Mapping[str, Any],
    parent: int,
) -> None:
    _die_with_parent(parent)
    try:
        read = decode_one(state or CliState(), spec, sink, item, options)
    except KeyboardInterrupt:
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(readable(f"ioproto: {item}: failed: {exc.format_message()}"), err=True)
        sys.exit(1)
    except Exception as exc:
        click.echo(readable(f"ioproto: {item}: failed: {_describe(exc)}"), err=True)
        sys.exit(1)
    sys.stderr.flush()
    if not read:
        sys.exit(_UNREADABLE)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (``PR_SET_PDEATHSIG``)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
