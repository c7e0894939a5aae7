"""Reading a large input in worker processes, so that decoding gets more than one core.

Reading a capture and the first decoder layers (frames, TCP reassembly, HTTP and WebSocket
framing, Engine.IO framing) is about half the work of ``ioproto decode`` on a large file.
:func:`source_records` runs the source and the pipeline's leading *connection-scoped* layers
(decoders whose ``scope`` is ``"connection"``: their output for a record depends only on
earlier records of the same connection) in forked children, which send what comes out of
them to the parent in batches through pipes; the parent feeds those records to the same
pipeline, where they enter the first layer the children did not run. Same records, same
order as reading in process.

``processes`` (``--jobs``; default: the cores other work leaves idle, :func:`idle_cores`) is
how many processes decode the input: 1 reads in process; 2 runs one reader child as above
(more reader children would not help while the layers above the connection-scoped ones,
which run in the parent, take as long as the child's work); 3 or more asked for
(:data:`SHARD_FROM`) run that many workers sharded by Engine.IO session
(:mod:`ioproto.shard`: each runs every layer and classifier for its share; a dispatcher
reads the capture once; this process merges in the one-process order and writes), when the
input is the run's only one. The source option ``shard=true`` shards with 2 as well,
``shard=false`` never.

The default shards too, where the cores are there (:func:`default_shard_workers`): with
:data:`SHARD_DEFAULT_CORES` or more idle cores, a lone capture file of
:data:`SHARD_DEFAULT_MIN_BYTES` or more is sharded among as many workers as there are idle
cores less two (one for the dispatcher, one for this process), at most
:data:`SHARD_DEFAULT_MAX_WORKERS`; with fewer idle cores the default runs the reader
process. On 2 cores sharding gains no wall time over the reader process; with a core for
each of its processes it is estimated at 1.3-2.25x the reader process's speed on large
captures (docs/performance.md; benchmarks/README.md, "Scaling with cores",
bench_scaling.py).

Only for a source that declares ``forkable = True`` (its ``open`` only reads the input it is
given), a regular file of at least ``parallel_min_bytes`` (source option, default 1 MB), and
a pipeline that does not emit consumed records (``all_layers``); never for stdin or live
pipes, whose records must arrive as they happen. ``--source-option parallel=false`` turns it
off, as ``--jobs 1`` does.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import stat
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .components import Source, SourceContext, optional
from .cpuquota import cpu_quota
from .errors import UsageError
from .model import Record
from .optionvalues import flag_option, number_option, size_option
from .pipes import MessageReader, send_message, widen

if TYPE_CHECKING:
    from .pipeline import Pipeline

#: Records per message through a pipe: large enough to amortise a send, small enough that
#: the parent starts decoding at once and that several fit in the pipe.
BATCH = 128

#: A batch is sent early once its records' payloads reach this many bytes: a hostile
#: capture of messages inflating to 15 MiB each must not pile 128 of them into one
#: message (tests/fuzz/test_bombs.py).
BATCH_BYTES = 1 << 20

#: Below this a reader process does not pay: a 1.9 MB capture decodes in 0.52-0.66 s with
#: one, 0.58-0.67 s without; 8.2 MB in 1.05-1.23 s against 1.52-1.55 s (benchmarks/README.md).
DEFAULT_MIN_BYTES = 1024 * 1024

#: From this many processes asked for (``--jobs``), one input is sharded by session
#: (ioproto.shard); below, the reader process. On 2 cores sharding gains no wall time over
#: the reader process (benchmarks/README.md, "Scaling with cores").
SHARD_FROM = 3

#: The default (no ``--jobs``) shards a lone capture file from this many idle cores: 3
#: workers, the dispatcher and this process, each with a core. Estimated from each
#: process's CPU (bench_scaling.py) against the reader process's measured time: on the 85
#: MB benchmark capture 3 workers are 1.3x as fast, 6 workers 2.25x.
SHARD_DEFAULT_CORES = 5

#: ... and from this size. On smaller files the start-up and the merge weigh more. 3
#: workers estimated against the reader process measured (the same hour): 2 MB 0.35 s
#: against 0.28-0.37 s, 4 MB 0.41 s against 0.38-0.50 s (6 workers 0.32 s), 7.6 MB 0.63 s
#: against 0.62-0.77 s (4 workers 0.53 s, 6 workers 0.46 s).
SHARD_DEFAULT_MIN_BYTES = 4 * 1024 * 1024

#: ... with at most this many workers: beyond, this process's merging bounds the run
#: (0.57-0.60 s of CPU on the 85 MB capture, against 0.43-0.59 s per worker with 8), and
#: each worker's memory adds to the run's (proportional set size on 85 MB: 39 MB with the
#: reader process, 107 MB with 4 workers, 131 MB with 6, 145 MB with 8).
SHARD_DEFAULT_MAX_WORKERS = 8


def available_cores() -> int:
    """The cores this process may run on, and no more than a cgroup's CPU quota allows (a
    container's CPU limit, :mod:`ioproto.cpuquota`; 2.5 CPUs count as 2)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = max(1, os.cpu_count() or 1)
    quota = cpu_quota()
    if quota is not None:
        cores = max(1, min(cores, math.floor(quota)))
    return cores


def idle_cores() -> int:
    """The available cores that other work leaves free: a core counts unless other work
    fills it whole (``floor(cores + 1 - busy)``, between 1 and all of them; all where it
    cannot be known). On 2 cores: 2 while busy is below 1, else 1.

    ``busy`` is the lesser of the one-minute load average and the processes running right
    now besides this one (:func:`running_now`): the load average alone counts the user's
    own runs of a minute ago (a loop of decodes kept a quiet 2-core machine at 1.5-2 and
    made every run read in one process, 4.0 s instead of 2.5 s on the 85 MB capture), the
    running count alone a moment's burst. The reader process gains 1.1-1.6x when it has a
    core of its own and loses as much when the cores are busy (benchmarks/README.md,
    "Scaling with cores"), so the default counts only the free ones."""
    cores = available_cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not on Unix
        return cores
    running = running_now()
    if running is not None:
        busy = min(busy, max(0, running - 1))
    return max(1, min(cores, math.floor(cores + 1 - busy)))


def running_now() -> int | None:
    """The processes (threads) running or ready to run this moment, this one included
    (``/proc/loadavg``); None where that cannot be read."""
    try:
        with open("/proc/loadavg", "rb") as handle:
            return int(handle.read().split()[3].split(b"/")[0])
    except (OSError, IndexError, ValueError):
        return None


def source_records(
    pipeline: Pipeline,
    source: Source,
    input: str,
    context: SourceContext,
    processes: int | None = None,
    *,
    only_input: bool = False,
) -> Iterable[Record]:
    """The records to feed ``pipeline`` for ``input``: the source's own, or, when workers
    pay (see the module docstring), what the workers' leading layers made of them, or what
    sharded workers decoded and classified (:class:`~ioproto.model.Delivered` batches).

    ``processes``: how many processes decode the input (default: :func:`idle_cores`). When
    ``input`` is the run's only input (``only_input``) and ``processes`` asks for
    :data:`SHARD_FROM` or more (or the source option ``shard=true`` says so; ``false``
    never), that many workers decode it sharded by session, this process merging; by
    default, :func:`default_shard_workers` of them, when it gives any.
    """
    check_process_options(context.options)
    lower = connection_layers(pipeline)
    asked = processes
    processes = processes or idle_cores()
    worth = lower and processes > 1
    size = worker_input_size(pipeline, source, input, context) if worth else None
    if size is not None:
        if asked is None:
            by_default = default_shard_workers(processes, size)
            shard = flag_option(context.options, "shard", by_default > 0)
            workers = by_default or processes  # shard=true with few idle cores: all of them
        else:
            shard = flag_option(context.options, "shard", asked >= SHARD_FROM)
            workers = asked
        if only_input and shard:
            from .shard import shard_records

            return shard_records(pipeline, source, input, context, workers)
        return _read_in_worker(pipeline, lower, source, input, context)
    return source.open(input, context)


def default_shard_workers(idle: int, size: int) -> int:
    """The workers the default ``--jobs`` shards a file of ``size`` bytes among when
    ``idle`` cores are free: the idle cores less two, at most
    :data:`SHARD_DEFAULT_MAX_WORKERS`, for a file of :data:`SHARD_DEFAULT_MIN_BYTES` or more
    and :data:`SHARD_DEFAULT_CORES` idle cores or more; else 0 (the reader process)."""
    if idle < SHARD_DEFAULT_CORES or size < SHARD_DEFAULT_MIN_BYTES:
        return 0
    return min(idle - 2, SHARD_DEFAULT_MAX_WORKERS)


def check_process_options(options: Mapping[str, Any]) -> None:
    """Read every source option about processes (``parallel``, ``shard``, ``split``,
    ``parallel_min_bytes`` and the routing limits), whichever of them this run uses, so
    that a bad value is a :class:`~ioproto.errors.UsageError` with ``--jobs 1`` too."""
    for name in ("parallel", "shard", "split"):
        flag_option(options, name)
    number_option(options, "parallel_min_bytes", DEFAULT_MIN_BYTES, minimum=0)
    if any(name.startswith("route_") for name in options):
        from .routing import route_limits  # only then: a decode of one process needs neither
        from .split import DEFAULT_TABLE_BYTES

        size_option(options, "route_table_bytes", DEFAULT_TABLE_BYTES)
        route_limits(options)


def connection_layers(pipeline: Pipeline) -> int:
    """How many of the pipeline's lowest layers are connection-scoped (all their members)."""
    count = 0
    for layer in pipeline.layers:
        scopes = {optional(member.decoder, "Decoder", "scope") for member in layer.members}
        if scopes != {"connection"}:
            break
        count += 1
    return count


def worker_input_size(
    pipeline: Pipeline, source: Source, input: str, context: SourceContext
) -> int | None:
    """The size of ``input`` in bytes when it is worth reading in a worker (see the module
    docstring): a regular file of ``parallel_min_bytes`` or more, from a source that can be
    forked, for a pipeline that does not keep every layer's records; else None."""
    if not optional(source, "Source", "forkable") or pipeline.all_layers:
        return None
    if not flag_option(context.options, "parallel", True):
        return None
    if input == "-" or not hasattr(os, "fork"):
        return None
    try:
        minimum = number_option(context.options, "parallel_min_bytes", DEFAULT_MIN_BYTES, minimum=0)
        found = os.stat(input)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(found.st_mode) or found.st_size < minimum:
        return None
    return found.st_size


def _read_in_worker(
    pipeline: Pipeline, lower: int, source: Source, input: str, context: SourceContext
) -> Iterator[Record]:
    import multiprocessing  # here: a decode that reads in this process need not load it

    fork = multiprocessing.get_context("fork")
    reading, writing = os.pipe()
    widen(writing)
    child = fork.Process(
        target=_work,
        args=(pipeline, lower, source, input, context, writing, reading),
        daemon=True,
    )
    try:
        child.start()
    except BaseException:
        os.close(reading)
        raise
    finally:
        os.close(writing)  # the child's now: the pipe ends when the child closes it
    receiver = MessageReader(reading)
    finished = False
    try:
        while True:
            try:
                batch = receiver.recv()
            except EOFError:
                finished = True
                break
            if isinstance(batch, UsageError):
                raise batch  # the user's mistake (a bad option): one line, as in process
            if type(batch) is str:
                raise RuntimeError(f"reading {input} failed in its worker process: {batch}")
            yield from batch
    finally:
        receiver.close()
        if finished:
            child.join(30)  # it closed the pipe and is exiting: let it
        if child.is_alive():
            child.kill()  # the reader stopped early (an error, Ctrl-C, `| head`)
        child.join()
    if child.exitcode not in (0, None):
        raise RuntimeError(f"the worker process reading {input} exited with code {child.exitcode}")


def _work(
    pipeline: Pipeline,
    lower: int,
    source: Source,
    input: str,
    context: SourceContext,
    writing: int,
    reading: int,
) -> None:
    from .pipeline import Pipeline

    # The parent's end: once the parent closes it, writing here fails instead of blocking.
    os.close(reading)
    # The parent handles Ctrl-C and stops reading; the child just goes when the pipe does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pipeline's streams of the lower layers, copied by the fork: the parent's copies
    # are not fed.
    layers = Pipeline(
        layers=pipeline.layers[:lower],
        strict=pipeline.strict,
        context=pipeline.context,
        guards=pipeline.guards,
    )
    batch: list[Record] = []
    weight = 0
    try:
        for record in source.open(input, context):
            made = layers.feed(record)
            batch += made
            for item in made:
                weight += _payload_bytes(item)
            if len(batch) >= BATCH or weight >= BATCH_BYTES:
                send_message(writing, batch)
                batch = []
                weight = 0
        batch += layers.close()
        batch += layers.summary.input_summaries  # what the source saw, for the parent
        if batch:
            send_message(writing, batch)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent stopped reading
    except UsageError as exc:
        _send_last(writing, exc)
    except Exception as exc:  # a bug: the parent raises it, as in-process reading would
        _send_last(writing, f"{type(exc).__name__}: {exc}")
    finally:
        os.close(writing)


def _send_last(writing: int, problem: UsageError | str) -> None:
    """Tell the parent what stopped the reading, unless it has stopped listening."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        send_message(writing, problem)


def _payload_bytes(record: Record) -> int:
    """The bytes of ``record``'s payload (its ``data`` and ``raw``), roughly what it adds
    to a pickled batch."""
    size = 0
    for value in (getattr(record, "data", None), getattr(record, "raw", None)):
        if type(value) is str or type(value) is bytes:
            size += len(value)
    return size
