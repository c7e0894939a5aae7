"""Decoding one capture file in N worker processes, sharded by Engine.IO session.

Each worker is a fork of this process. When the source can split its input (a capture:
``open_split``, :mod:`ioproto.split`), a forked dispatcher reads it once and sends each
worker the units (frames) of its connections, routed by session, with a floor (no unit
below it is still to come); the worker feeds them in order, each unit's records placed at
``(index, n)``. Otherwise each worker reads the whole input with the source, routes every
record by its connection (:class:`~ioproto.routing.Router`: all connections of one session
to one worker, decided the same way by every worker on its own) and feeds only its own
share, each record placed at its position in the input. Either way a worker runs a copy of
the pipeline: every layer and every classifier, no sink. It sends what comes out in batches,
each record tagged with a sort key; this process merges the workers' batches in key order
and writes them to the sinks (:class:`~ioproto.model.Delivered`). The keys reproduce the
order of decoding in one process:

* ``(0, position)``: what feeding the source's record at ``position`` emitted (each
  position is fed by exactly one worker). A worker holds back the output of records after
  the oldest record of a connection it has not decided yet (a split read: units below the
  dispatcher's floor), and tells this process with each batch the smallest key it may
  still send (its *floor*), so that the merge never emits past a key another worker may
  still send. In a split read this process receives from every worker while it waits for
  one (a worker that waits on a full pipe would hold up the dispatcher, and so the others).
* ``(0.5, time, sid, worker, n)``: what ends a session at the end of input before the
  others end, a layer stream's ``input_ended`` (the Engine.IO layer's silent sessions, at
  their deadline): by its time, then its session (each session is in one worker's share).
* ``(1, origin, worker, seq)``: the end of input, sessions still open ended ("input
  ended") in the order they began (``Session.origin``: the position that started them).
* ``(2, layer, worker, index)``: layer streams flushed at the end (nothing, for a capture:
  its source closes every connection before it ends).
* ``(3, classifier, time, end, worker, index)``: what each classifier reports at the end,
  in the order its sessions ended (``end``: the key of its session's end), or by time
  first for a classifier whose ``close`` sorts by time (``close_order = "time"``).

Limits: per-worker state (the session store's bounds, pending acks, HTTP and reassembly
buffers) is per worker, so each bound holds per worker; a keep-alive connection carrying
several sessions goes with its first (see :mod:`ioproto.routing`). Only for a run with a
single input (sessions end when the input does).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import signal
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from heapq import heappop, heappush
from multiprocessing.connection import Connection, wait
from typing import Any

import attrs

from .components import Source, SourceContext, optional
from .model import INPUT_SUMMARY_LAYER, Delivered, Record
from .optionvalues import flag_option
from .pipeline import Pipeline, Stage
from .pipes import PIPE_BYTES, widen
from .routing import Router, route_limits
from .sessions import Session, SessionEnd, session_key
from .split import SplitReading, UnitDecoder, UnitSender
from .summary import RunSummary

#: Records per message to this process, and payload bytes after which a batch goes early.
BATCH = 256
BATCH_BYTES = 1 << 20
#: Input records after which a worker that sent nothing tells its floor anyway.
QUIET = 2048
#: Messages taken from one worker at a time when it has several waiting.
RECEIVE_AT_ONCE = 8
#: Numbering marks kept per worker when the workers render (see :class:`_Renumber`).
MARKS_KEPT = 1 << 16

Key = tuple[Any, ...]
_SILENT_ENDS: Key = (0.5,)
_END_OF_INPUT: Key = (1,)
_UNKNOWN_END: Key = (9,)


@attrs.frozen
class _Job:
    """What every worker of one sharded run is given (``me`` apart)."""

    pipeline: Pipeline
    source: Source
    input: str
    context: SourceContext
    workers: int
    #: the one sink's ``render`` (see :func:`_renderer`), or None: records are sent
    render: Callable[[Record], bytes] | None
    #: the input read once by a dispatcher process (:mod:`ioproto.split`), or None: every
    #: worker reads it whole and routes its records
    reading: SplitReading | None


def shard_records(
    pipeline: Pipeline, source: Source, input: str, context: SourceContext, workers: int
) -> Iterator[Record]:
    """What ``workers`` forked workers make of ``input``, merged into the one-process order,
    as :class:`~ioproto.model.Delivered` batches for ``pipeline`` to write, then the
    source's input summaries. The workers' counts are added to ``pipeline.summary``."""
    fork = multiprocessing.get_context("fork")
    reading = _split(source, input, context)
    job = _Job(pipeline, source, input, context, workers, _renderer(pipeline), reading)
    feeds: list[_Feed] = []
    children = []
    units: list[Connection | None] = [None] * workers
    try:
        if job.reading is not None:
            pipes = [fork.Pipe(duplex=False) for _ in range(workers)]
            units = [receiver for receiver, _ in pipes]
            senders = [sender for _, sender in pipes]
            for sender in senders:
                widen(sender, PIPE_BYTES)
            dispatcher = fork.Process(target=_dispatch, args=(job.reading, senders), daemon=True)
            dispatcher.start()
            children.append(dispatcher)
            for sender in senders:
                sender.close()
        for me in range(workers):
            receiver, sender = fork.Pipe(duplex=False)
            widen(sender, PIPE_BYTES)
            answers, asker = fork.Pipe(duplex=False)  # this process's answers
            child = fork.Process(
                target=_work, args=(job, me, sender, answers, units[me]), daemon=True
            )
            child.start()
            sender.close()
            answers.close()
            children.append(child)
            feeds.append(_Feed(receiver, asker, input))
        for unit_receiver in units:
            if unit_receiver is not None:
                unit_receiver.close()
        lowest = pipeline.layers[0].name if pipeline.layers else ""
        rendered = job.render is not None
        for batch in _merge(feeds, lowest, greedy=job.reading is not None, rendered=rendered):
            yield Delivered(ts=0.0, records=batch, rendered=rendered)
        for feed in feeds:
            _add_counts(pipeline.summary, feed.totals[0], rendered)
        add_report = getattr(job.render, "add_worker_report", None)
        if add_report is not None:
            for feed in feeds:
                if feed.totals[2] is not None:
                    add_report(feed.totals[2])
        if job.reading is not None:
            yield from job.reading.merge_summaries([feed.totals[1] for feed in feeds])
        else:
            yield from feeds[0].totals[1]
    finally:
        for feed in feeds:
            feed.receiver.close()
            feed.asker.close()
        for child in children:
            if child.is_alive():
                child.join(0.05 if all(feed.done for feed in feeds) else 0)
            if child.is_alive():
                child.kill()  # stopped early (an error, Ctrl-C, `| head`)
            child.join()
    for child in children:
        if child.exitcode not in (0, None):
            raise RuntimeError(f"a worker process decoding {input} exited with {child.exitcode}")


def _split(source: Source, input: str, context: SourceContext) -> SplitReading | None:
    """The input read once (the source's ``open_split``), unless the source cannot or the
    source option ``split=false`` says not to."""
    open_split = optional(source, "Source", "open_split")
    if open_split is None or not flag_option(context.options, "split", True):
        return None
    return open_split(input, context)  # type: ignore[no-any-return]


def _renderer(pipeline: Pipeline) -> Callable[[Record], bytes] | None:
    """The ``render`` of the pipeline's sink when the workers may write for it: one sink,
    with ``render`` and ``write_rendered`` and without ``session_ended`` (which needs the
    sessions here). Serialising in the workers spares pickling the records (about 3 µs per
    record on each side) and puts the serialising on the workers' cores.

    A ``render`` that counts something in the workers (the CLI's filter: what matched, and
    what the filter's tests met instead) has ``worker_report()``, called in each worker at
    its end (a picklable value), and ``add_worker_report(value)``, called here with each
    worker's."""
    if len(pipeline.sinks) != 1:
        return None
    stage = pipeline.sinks[0]
    sink = stage.component
    render = optional(sink, "Sink", "render")
    if render is None or optional(sink, "Sink", "write_rendered") is None or stage.on_end:
        return None
    return render  # type: ignore[no-any-return]


def _add_counts(summary: RunSummary, worker: RunSummary, rendered: bool) -> None:
    """Add a worker's counts; what it emitted only when it counted them (``rendered``)."""
    summary.inputs += worker.inputs
    summary.plugin_failures.update(worker.plugin_failures)
    summary.dropped.update(worker.dropped)
    if rendered:
        summary.records.update(worker.records)
        summary.errors.update(worker.errors)
        summary.sink_failures.update(worker.sink_failures)
        for name, reason in worker.sink_failure_reasons.items():
            summary.sink_failure_reasons.setdefault(name, reason)


class _Feed:
    """One worker's side of the merge: its received, not yet merged records.

    Batches wait in :attr:`queue` behind the one being merged (``keys``/``records``, from
    ``at``): the merge reads from every worker that has sent something, not only from the
    one it needs, so that a worker blocked on a full pipe never holds up another (in a
    split read, the dispatcher may be waiting on it)."""

    __slots__ = (
        "asker",
        "at",
        "done",
        "ending",
        "fixed",
        "floor",
        "input",
        "keys",
        "question",
        "queue",
        "receiver",
        "records",
        "totals",
    )

    def __init__(self, receiver: Connection, asker: Connection, input: str) -> None:
        self.receiver = receiver
        self.asker = asker
        self.input = input
        #: ``(topic, value)`` of the question the worker waits to have answered (all the
        #: workers ask it before it is answered: :func:`_answer`)
        self.question: tuple[str, Any] | None = None
        self.keys: list[Key] = []
        self.records: list[Record] = []
        self.queue: deque[tuple[list[Key], list[Record], Key]] = deque()
        self.at = 0
        self.floor: Key = (0,)
        self.done = False
        self.ending = False  # the end came, behind the queued batches
        self.fixed: set[int] = set()  # ids of this batch's records renumbered
        self.totals: tuple[Any, ...] = (RunSummary(), [], None)

    def receive(self) -> None:
        try:
            message = self.receiver.recv()
        except EOFError:
            raise RuntimeError(f"a worker process decoding {self.input} stopped") from None
        kind = message[0]
        if kind == "batch":
            self.queue.append(message[1:])
            self.advance()
        elif kind == "ask":
            self.question = (message[1], message[2])
        elif kind == "end":
            self.ending = True
            self.totals = message[1:]
            self.advance()
        else:
            problem = message[1]
            if isinstance(problem, BaseException):
                raise problem
            raise RuntimeError(f"decoding {self.input} failed in a worker process: {problem}")

    def advance(self) -> None:
        """Once the batch being merged is all taken, go on to the next received one."""
        while self.at >= len(self.keys) and self.queue:
            self.keys, self.records, self.floor = self.queue.popleft()
            self.at = 0
            self.fixed.clear()
        if self.ending and self.at >= len(self.keys) and not self.queue:
            self.done = True

    def next_key(self) -> Key | None:
        """The smallest key this worker may still give: its next record's, else its floor;
        ``None`` when it has given everything."""
        if self.at < len(self.keys):
            return self.keys[self.at]
        return None if self.done else self.floor


def _merge(
    feeds: list[_Feed], numbered_layer: str, greedy: bool, rendered: bool = False
) -> Iterator[list[Record]]:
    """The records of all ``feeds`` in key order, in batches, their ``numbered_layer``
    records' ``seq`` renumbered (:class:`_Renumber`). ``greedy``: while waiting for one
    worker, receive from all (a split read, where the dispatcher ties the workers
    together; a worker runs ahead of another by at most :data:`~ioproto.split.FLOOR_EVERY`
    units), else only from those the merge waits for (each worker reads on its own)."""
    out: list[Record] = []
    renumber = _Renumber(numbered_layer, rendered)
    while True:
        best: _Feed | None = None
        best_key: Key | None = None
        for feed in feeds:
            if feed.at < len(feed.keys):
                key = feed.keys[feed.at]
                if best_key is None or key < best_key:
                    best, best_key = feed, key
        starving = [
            feed
            for feed in feeds
            if feed.at >= len(feed.keys)
            and not feed.done
            and feed.question is None
            and (best_key is None or feed.floor <= best_key)
        ]
        if starving:
            _receive(feeds if greedy else starving)
            if all(feed.question is not None for feed in feeds):
                _answer(feeds)
            continue
        if best is None:
            break
        bound: Key | None = None
        for feed in feeds:
            if feed is not best:
                next_key = feed.next_key()
                if next_key is not None and (bound is None or next_key < bound):
                    bound = next_key
        keys, records, at = best.keys, best.records, best.at
        end = len(keys)
        if bound is not None:
            stop = at
            while stop < end and keys[stop] < bound:
                stop += 1
        else:
            stop = end
        renumber.take(best, records, at, stop, out)
        best.at = stop
        best.advance()
        if len(out) >= BATCH:
            yield out
            out = []
    if out:
        yield out


def _receive(feeds: list[_Feed]) -> None:
    """Receive what the workers of ``feeds`` that may send have sent, waiting for one."""
    listening = {feed.receiver: feed for feed in feeds if not feed.ending and feed.question is None}
    for ready in wait(list(listening)):
        feed = listening[ready]  # type: ignore[index]
        feed.receive()
        more = RECEIVE_AT_ONCE
        while more and not feed.ending and feed.question is None and feed.receiver.poll():
            feed.receive()
            more -= 1


def _answer(feeds: list[_Feed]) -> None:
    """Answer the question every worker waits on:

    * ``"seen"``, before the sessions still open are ended: the latest time of the input
      (a worker of a split read sees only its share);
    * ``"last"``, before the classifiers' close: the time of the last record emitted before
      it in the whole run, the latest key's (classifiers that report at the end by "the
      last record's time", ``input_ended_at``, take it)."""
    asked = [feed.question for feed in feeds if feed.question is not None]
    topic = asked[0][0]
    answer: Any
    if topic == "seen":
        answer = max(value for _, value in asked)
    else:
        known = [value for _, value in asked if value[0] is not None]
        answer = max(known, key=lambda last: last[0])[1] if known else None
    for feed in feeds:
        feed.question = None
        feed.asker.send(answer)


class _Renumber:
    """Gives the records of the lowest layer the ``seq`` numbers one process would have.

    Each worker numbers only its own chunks; before the output of a position that made some
    it sends ``(first number - 1, count)``. Taken in merge order, these tell where each
    worker's numbers stand among all: a record's ``seq`` ``s`` from worker ``w`` becomes
    ``global_before + (s - local_before)`` of the last such mark of ``w`` below ``s``. The
    records are this process's fresh copies (unpickled), not yet seen by anyone: they are
    set in place, each once (a chunk may be the parent of several records of a batch).
    """

    def __init__(self, layer: str, rendered: bool) -> None:
        self.layer = layer
        self.total = 0
        # Per worker, one pair of 8-byte numbers per capture position that made chunks
        # (about 1.6 MB for the 85 MB capture): a late record may name an early chunk.
        # When the workers render, the only records left to number are chunks sent at the
        # position that made them: the last MARKS_KEPT pairs are enough, and memory stays
        # flat whatever the capture's size.
        self.local: dict[int, array[int]] = {}
        self.seen: dict[int, array[int]] = {}
        self.keep = MARKS_KEPT if rendered else None

    def take(self, feed: _Feed, items: list[Any], start: int, stop: int, out: list[Record]) -> None:
        layer = self.layer
        local = self.local.setdefault(id(feed), array("q"))
        seen = self.seen.setdefault(id(feed), array("q"))
        fixed = feed.fixed
        for index in range(start, stop):
            item = items[index]
            if type(item) is tuple:
                local.append(item[0])
                seen.append(self.total)
                self.total += item[1]
                if self.keep is not None and len(local) > 2 * self.keep:
                    del local[: self.keep]
                    del seen[: self.keep]
                continue
            out.append(item)
            if type(item) is bytes:
                continue  # rendered in the worker: no number in it
            node = item
            while node is not None and node.layer != layer:
                node = node.parent
            if node is None or id(node) in fixed:
                continue
            number = getattr(node, "seq", None)
            if type(number) is not int or not local:
                continue
            fixed.add(id(node))
            mark = bisect_right(local, number - 1) - 1
            if mark >= 0:
                object.__setattr__(node, "seq", seen[mark] + number - local[mark])


class _Outbox:
    """A worker's output: records with their keys, held back below the router's watermark,
    sent in batches with the worker's floor."""

    def __init__(self, sender: Connection) -> None:
        self.sender = sender
        self.keys: list[Key] = []
        self.records: list[Record] = []
        self.weight = 0
        self.held: list[tuple[int, int, Record]] = []  # (position, order, record)
        self.order = 0
        self.quiet = 0

    def add(self, position: int, made: list[Record], watermark: int | None) -> None:
        if watermark is None and not self.held:
            key = (0, position)
            for record in made:
                self.keys.append(key)
                self.records.append(record)
                self.weight += _payload_bytes(record)
            return
        for record in made:
            self.order += 1
            heappush(self.held, (position, self.order, record))

    def release(self, watermark: int | None) -> None:
        """Move held records below ``watermark`` (all, for ``None``) into the batch."""
        held = self.held
        while held and (watermark is None or held[0][0] < watermark):
            position, _, record = heappop(held)
            self.keys.append((0, position))
            self.records.append(record)
            self.weight += _payload_bytes(record)

    def extend(self, keys: list[Key], records: list[Record]) -> None:
        self.keys += keys
        self.records += records

    def maybe_send(self, floor: Key) -> None:
        self.quiet += 1
        if len(self.records) >= BATCH or self.weight >= BATCH_BYTES or self.quiet >= QUIET:
            self.send(floor)

    def send(self, floor: Key) -> None:
        self.sender.send(("batch", self.keys, self.records, floor))
        self.keys, self.records, self.weight, self.quiet = [], [], 0, 0


def _dispatch(reading: SplitReading, senders: list[Connection]) -> None:
    """The dispatcher process of a split read (:mod:`ioproto.split`): reads the input and
    sends each worker its units; a failure goes to every worker, which raises it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def send(worker: int, items: list[Any], floor: int | None) -> None:
        senders[worker].send(("units", items, floor))

    try:
        reading.dispatch(UnitSender(len(senders), send))
    except (BrokenPipeError, ConnectionResetError, EOFError):
        pass  # a worker is gone: the parent stopped reading
    except Exception as exc:
        problem = _picklable(exc)
        for sender in senders:
            with contextlib.suppress(OSError):
                sender.send(("error", problem))
    finally:
        for sender in senders:
            sender.close()


def _picklable(exc: Exception) -> Any:
    """``exc`` if it can be sent to another process, else its description."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return f"{type(exc).__name__}: {exc}"
    return exc


def _work(
    job: _Job, me: int, sender: Connection, answers: Connection, units: Connection | None
) -> None:
    # The parent handles Ctrl-C and stops reading; a worker just goes when the pipe does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _decode_share(job, me, sender, answers, units)
    except (BrokenPipeError, ConnectionResetError, EOFError, _ParentGone):
        pass  # the parent stopped reading
    except Exception as exc:  # the parent raises it, as decoding in process would
        with contextlib.suppress(OSError):
            sender.send(("error", _picklable(exc)))
    finally:
        sender.close()


class _ParentGone(Exception):
    """The parent process ended while a worker waited for it."""


def _decode_share(
    job: _Job, me: int, sender: Connection, answers: Connection, units: Connection | None
) -> None:
    """The worker's part (see the module docstring); ``units``: what the dispatcher of a
    split read sends it."""
    pipeline, context = job.pipeline, job.context
    lowest = pipeline.layers[0].name if pipeline.layers else ""
    rendering = _Rendering(job.render, lowest) if job.render is not None else None
    # This process's sinks stay untouched: the parent writes (or this renders for it).
    if rendering is not None:
        sink = pipeline.sinks[0]
        pipeline.sinks = [Stage(sink.name, sink.plugin, rendering)]
    else:
        pipeline.sinks = []
    pipeline.plugin_manager = None  # hooks ran (and run) in this process
    workers = job.workers
    options = context.options
    router = Router(
        workers,
        me,
        pipeline.layers[0].rides_on if pipeline.layers else "tcp",
        **route_limits(options),
    )
    store = pipeline.sessions
    ends: dict[Hashable, Key] = {}
    marks: list[tuple[int, Key]] = []
    now: list[Any] = [(0, 0)]  # the key of what is being fed
    last: list[Any] = [(-1,), None]  # the key and time of the last record emitted

    def announcing(session: Session, end: SessionEnd) -> None:
        key = now[0]
        if key[0] == _SILENT_ENDS[0]:
            key = (*_SILENT_ENDS, end.ts, str(session.key), me, 0)
        elif key[0] == 1:
            key = (1, session.origin, me, session.seq)
            marks.append((len(pipeline._out), key))
        ends[session.key] = key

    pipeline.announcing = announcing
    numbered = _count_numbered(pipeline)
    outbox = _Outbox(sender)
    summaries: list[Record] = []
    feed = pipeline.feed
    route = router.route
    saw = pipeline.saw

    def feed_at(at: Any, item: Record, watermark: int | None) -> None:
        """Feed the record at position ``at``; what comes out goes to the outbox."""
        store.origin = at
        now[0] = (0, at)
        before = numbered.last
        made: list[Any] = feed(item)
        if made and (0, at) >= last[0]:
            last[0], last[1] = (0, at), made[-1].ts
        if rendering is not None:
            made = [out for out in rendering.take() if out is not None]
        if numbered.last != before:  # where this position's numbers start, for the merge
            made = [(before, numbered.last - before), *made]
        if made:
            outbox.add(at, made, watermark)

    if units is not None and job.reading is not None:
        decoder = job.reading.decoder()
        _feed_units(units, decoder, feed_at, outbox)
        for at, item in decoder.finish():
            feed_at(at, item, None)
        summary: Any = decoder.summary_part()
    else:
        for position, record in enumerate(job.source.open(job.input, context)):
            if record.layer == INPUT_SUMMARY_LAYER:
                summaries.append(record)
                continue
            saw(record.ts)
            ready = route(position, record)
            watermark = router.watermark() if router.pending else None
            for at_input, item in ready:
                feed_at(at_input, item, watermark)
            if outbox.held:
                outbox.release(watermark)
            outbox.maybe_send(
                (0, position + 1 if watermark is None else min(watermark, position + 1))
            )
        for at_input, item in router.finish():
            feed_at(at_input, item, 0)
        summary = summaries if me == 0 else []
    outbox.release(None)
    outbox.send(_SILENT_ENDS)
    # A worker of a split read sees only its share of the input: its end is the run's.
    outbox.sender.send(("ask", "seen", pipeline._last_ts))
    pipeline.saw(_wait_for(answers))
    _close(pipeline, me, now, marks, ends, outbox, rendering, last, answers)
    report = getattr(job.render, "worker_report", None)
    sender.send(("end", pipeline.summary, summary, report() if report is not None else None))


def _feed_units(
    units: Connection,
    decoder: UnitDecoder,
    feed_at: Callable[[Any, Record, int | None], None],
    outbox: _Outbox,
) -> None:
    """Feed the units the dispatcher sends, in index order: those below the floor it
    tells (units of a connection it had not decided come late, with earlier indexes)."""
    waiting: list[tuple[int, Any]] = []
    while True:
        message = units.recv()
        if message[0] == "error":
            problem = message[1]
            if isinstance(problem, BaseException):
                raise problem
            raise RuntimeError(problem)
        _, items, floor = message
        for item in items:
            heappush(waiting, item)
        while waiting and (floor is None or waiting[0][0] < floor):
            index, unit = heappop(waiting)
            for n, record in enumerate(decoder.feed(index, unit)):
                feed_at((index, n), record, None)
            # A message may bring units that make millions of records (a segment of small
            # WebSocket frames): they go in batches, not all at the message's end. Every
            # unit still to come has a higher index, so this unit's end is a floor.
            outbox.maybe_send((0, (index + 1,)))
        if floor is None:
            return
        # The parent may be waiting for this floor (a message holds up to UNIT_BATCH units).
        outbox.send((0, (floor,)))


def _close(
    pipeline: Pipeline,
    me: int,
    now: list[Any],
    marks: list[tuple[int, Key]],
    ends: dict[Hashable, Key],
    outbox: _Outbox,
    rendering: _Rendering | None,
    last: list[Any],
    answers: Connection,
) -> None:
    """The steps of :meth:`Pipeline.close`, each one's records tagged (module docstring)."""

    def emit(keys: list[Key], order: Iterable[int] | None = None) -> None:
        records = pipeline._out
        if records and order is None and keys[-1] >= last[0]:
            last[0], last[1] = keys[-1], records[-1].ts
        made: list[Any] = rendering.take() if rendering is not None else records
        pairs = [(keys[n], made[n]) for n in (order or range(len(made)))]
        outbox.extend(
            [key for key, item in pairs if item is not None],
            [item for _, item in pairs if item is not None],
        )

    now[0] = _SILENT_ENDS
    pipeline._out = []
    keys: list[Key] = []

    def key_silent_end(record: Record) -> None:
        group = (*_SILENT_ENDS, record.ts, record.sid or "", me)
        keys.extend((*group, n) for n in range(len(keys), len(pipeline._out)))

    pipeline.end_silent_sessions(key_silent_end)
    emit(keys)
    outbox.send(_END_OF_INPUT)
    now[0] = _END_OF_INPUT
    pipeline._out = []
    pipeline.end_open_sessions()
    keys = []
    current: Key = (1, -1, me, 0)
    marks.append((len(pipeline._out), current))
    start = 0
    for index, key in marks:
        keys += [current] * (index - start)
        start, current = index, key
    emit(keys)
    outbox.send((2,))
    for index in range(len(pipeline.layers)):
        pipeline._out = []
        pipeline.close_layer(index)
        emit([(2, index, me, n) for n in range(len(pipeline._out))])
    outbox.send((3,))
    outbox.sender.send(("ask", "last", (last[0] if last[1] is not None else None, last[1])))
    ended_at = _wait_for(answers)
    if ended_at is not None:
        for stage in pipeline.classifiers:
            hook = optional(stage.component, "ClassifierState", "input_ended_at")
            if hook is not None:
                hook(ended_at)
    for number, stage in enumerate(pipeline.classifiers):
        pipeline._out = []
        pipeline.close_classifier(stage)
        by_time = optional(stage.component, "ClassifierState", "close_order") == "time"
        keys = [
            (3, number, record.ts if by_time else 0.0, _end_of(record, ends), me, n)
            for n, record in enumerate(pipeline._out)
        ]
        emit(keys, sorted(range(len(keys)), key=keys.__getitem__))
    outbox.send((4,))


def _wait_for(answers: Connection) -> Any:
    """The parent's answer; raises :class:`_ParentGone` if it ends first (its copies of
    the pipe may live on in other workers, so the pipe alone would not say so)."""
    parent = os.getppid()
    while not answers.poll(0.5):
        if os.getppid() != parent:
            raise _ParentGone
    return answers.recv()


class _Rendering:
    """A worker's stand-in for the run's one sink: per record written, what the sink would
    write (its ``render``; ``None`` for nothing), or the record itself for the lowest
    layer's records, whose ``seq`` the merge sets (:class:`_Renumber`) before the parent's
    sink writes them."""

    def __init__(self, render: Callable[[Record], bytes], numbered_layer: str) -> None:
        self.render = render
        self.layer = numbered_layer
        self.items: list[Any] = []

    def write(self, record: Record) -> None:
        items = self.items
        items.append(None)  # kept in step with the records when render raises
        if record.layer == self.layer:
            items[-1] = record
        else:
            items[-1] = self.render(record) or None

    def take(self) -> list[Any]:
        items, self.items = self.items, []
        return items


class _Numbered:
    """The lowest layer's streams, counting the ``seq`` numbers their records take (the
    HTTP layer numbers its chunks in the order produced, across connections)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.last = 0

    def feed(self, record: Record) -> list[Record]:
        produced = list(self._stream.feed(record))
        for item in produced:
            number = getattr(item, "seq", None)
            if type(number) is int and number > self.last:
                self.last = number
        return produced

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _count_numbered(pipeline: Pipeline) -> _Numbered:
    """Wrap the lowest layer's stream (the first member's: one numbering per layer) in a
    :class:`_Numbered`, whose ``last`` is the last number it gave."""
    if not pipeline.layers or not pipeline.layers[0].members:
        return _Numbered(None)
    member = pipeline.layers[0].members[0]
    numbered = _Numbered(member.stream)
    member.stream = numbered
    return numbered


def _end_of(record: Record, ends: dict[Hashable, Key]) -> Key:
    key = session_key(record)
    return ends.get(key, _UNKNOWN_END) if key is not None else _UNKNOWN_END


def _payload_bytes(record: Record) -> int:
    size = 0
    for value in (getattr(record, "data", None), getattr(record, "raw", None)):
        if type(value) is str or type(value) is bytes:
            size += len(value)
    return size
