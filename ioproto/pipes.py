"""Pipes between worker processes and this one (ioproto.worker, ioproto.shard)."""

from __future__ import annotations

import os
import pickle
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

#: The pipe's buffer: several batches (a batch of Engine.IO records pickles to ~150 kB).
PIPE_BYTES = 1 << 20

#: What precedes each message of :func:`send_message`: its length in bytes.
_HEADER = struct.Struct("!Q")


def widen(connection: Connection | int, size: int = PIPE_BYTES) -> None:
    """Give the pipe room for several batches (Linux; 64 KiB by default), so that a worker
    goes on reading while the parent decodes instead of waiting for it to take each batch
    whole. ``connection``: a :class:`~multiprocessing.connection.Connection` or a file
    descriptor. Where the size cannot be set the pipe stays as it is."""
    fd = connection if isinstance(connection, int) else connection.fileno()
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass


def send_message(fd: int, value: Any) -> None:
    """Write ``value`` pickled to the pipe ``fd``, its length first, for a
    :class:`MessageReader`. Raises :class:`BrokenPipeError` once the reader has gone.

    Not :class:`multiprocessing.connection.Connection`: its ``recv`` gathers a message in
    pieces and copies it whole again, about 3x what a buffered read costs (0.14 against
    0.05 CPU s for the 157 MB a reader process sends of the 85 MB benchmark capture)."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    header = _HEADER.pack(len(data))
    written = os.writev(fd, [header, data])
    if written < len(header) + len(data):  # a pipe may take part of a large write
        rest = memoryview(header + data)[written:]
        while rest:
            rest = rest[os.write(fd, rest) :]


class MessageReader:
    """The messages :func:`send_message` wrote to a pipe, read through a buffer; owns (and
    closes) the read end ``fd``."""

    def __init__(self, fd: int) -> None:
        self._file = open(fd, "rb", buffering=PIPE_BYTES)  # noqa: SIM115 - closed by close()

    def recv(self) -> Any:
        """The next message; raises :class:`EOFError` once every writer has closed the pipe
        (also in the middle of a message: a writer that died)."""
        header = self._file.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise EOFError
        (size,) = _HEADER.unpack(header)
        data = self._file.read(size)
        if len(data) < size:
            raise EOFError
        return pickle.loads(data)

    def close(self) -> None:
        self._file.close()
