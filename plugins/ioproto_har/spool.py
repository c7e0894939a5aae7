"""The pickled runs that :mod:`.ordering` writes to temporary files past its budget
(:func:`write_run`, :func:`read_run`).

A run is pickled in batches (records pickle as their class's maker and their fields'
values): one unpickling per batch, and a batch's items share what they shared before (a
WebSocket entry's messages, their HTTP message and its headers).
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterator
from typing import IO, Any

#: Items pickled together.
_BATCH = 256


def write_run(items: list[Any]) -> IO[bytes] | None:
    """``items`` written to a temporary file of their own, rewound for :func:`read_run`;
    ``None`` where no file can be written (a full disk, no temporary directory)."""
    try:
        run = tempfile.TemporaryFile(prefix="ioproto-har-")  # noqa: SIM115 (the caller closes it)
    except OSError:
        return None
    try:
        pickler = pickle.Pickler(run, protocol=pickle.HIGHEST_PROTOCOL)
        for start in range(0, len(items), _BATCH):
            pickler.dump(items[start : start + _BATCH])
            pickler.clear_memo()  # each batch read back alone
        run.flush()
        run.seek(0)
    except OSError:
        run.close()
        return None
    return run


def read_run(run: IO[bytes]) -> Iterator[Any]:
    """The items of a run that :func:`write_run` wrote, in order."""
    while True:
        try:
            # An unpickler per batch: one unpickler's memo keeps every object it has read.
            batch = pickle.load(run)
        except EOFError:
            return
        yield from batch
