"""Reading a capture file in a worker process, so that decoding gets a core of its own.

Reading a capture (frames, TCP reassembly, HTTP and WebSocket framing) is about a third of
the work of ``ioproto decode`` on a large file. :func:`read_capture_in_worker` runs
:func:`~ioproto_pcap.source.read_capture` in a forked child and hands the parent the very
same records, in the same order: the child sends batches of plain tuples through a pipe
(pickling tuples is about ten times cheaper than pickling records) and the parent rebuilds
the chunks with the fast record maker. Measured on the 85 MB benchmark capture: the parent
spends ~0.15 s receiving instead of ~0.9 s reading.

Used only for regular files large enough to pay for the fork (``parallel_min_bytes``,
default 8 MB) and never for stdin or live pipes, whose records must arrive as they happen.
``--source-option parallel=false`` turns it off.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from multiprocessing.connection import Connection
from operator import attrgetter
from typing import Any

from ioproto_http.records import Chunk

from ioproto.components import SourceContext, option_flag
from ioproto.model import Record

from .flow import CHUNK_FIELDS, make_chunk
from .source import read_capture

_chunk_fields = attrgetter(*CHUNK_FIELDS)  # a chunk's fields as a tuple, in C

#: Records per message through the pipe: large enough to amortise a send, small enough
#: that the parent starts decoding at once.
BATCH = 512

DEFAULT_MIN_BYTES = 8 * 1024 * 1024


def use_worker(input: str, context: SourceContext) -> bool:
    """Whether ``input`` is worth reading in a worker (a large regular file, allowed)."""
    if not option_flag(context.options.get("parallel", True)):
        return False
    if input == "-" or not hasattr(os, "fork"):
        return False
    try:
        minimum = int(context.options.get("parallel_min_bytes", DEFAULT_MIN_BYTES))
        stat = os.stat(input)
    except (OSError, ValueError):
        return False
    return os.path.isfile(input) and stat.st_size >= minimum


def read_capture_in_worker(input: str, context: SourceContext) -> Iterator[Chunk | Record]:
    """The records :func:`read_capture` gives for ``input``, read by a forked child."""
    fork = multiprocessing.get_context("fork")
    receiver, sender = fork.Pipe(duplex=False)
    child = fork.Process(target=_work, args=(input, context, sender), daemon=True)
    child.start()
    sender.close()
    try:
        while True:
            try:
                batch = receiver.recv()
            except EOFError:
                break
            if type(batch) is str:
                raise RuntimeError(f"the pcap reader failed in its worker process: {batch}")
            for item in batch:
                if type(item) is tuple:
                    yield make_chunk(*item)
                else:
                    yield item
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if child.exitcode not in (0, None):
        raise RuntimeError(f"the pcap worker process exited with code {child.exitcode}")


def _work(input: str, context: SourceContext, sender: Connection) -> None:
    # The parent handles Ctrl-C and stops reading; the child just goes when the pipe does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    batch: list[Any] = []
    try:
        for record in read_capture(input, context):
            if type(record) is Chunk:
                # A tuple pickles far faster than the record (its kind, an enum member, is
                # pickled once per batch through the memo).
                batch.append(_chunk_fields(record))
            else:
                batch.append(record)
            if len(batch) >= BATCH:
                sender.send(batch)
                batch = []
        if batch:
            sender.send(batch)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent stopped reading
    except Exception as exc:  # a reader bug: the parent raises it, as in-process reading would
        sender.send(f"{type(exc).__name__}: {exc}")
    finally:
        sender.close()
