"""Pipes between worker processes and this one (ioproto.worker, ioproto.shard)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

#: The pipe's buffer: several batches (a batch of Engine.IO records pickles to ~150 kB).
PIPE_BYTES = 1 << 20


def widen(connection: Connection, size: int = PIPE_BYTES) -> None:
    """Give the pipe room for several batches (Linux; 64 KiB by default), so that a worker
    goes on reading while the parent decodes instead of waiting for it to take each batch
    whole. Where the size cannot be set the pipe stays as it is."""
    try:
        import fcntl

        fcntl.fcntl(connection.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), size)
    except (ImportError, OSError):
        pass
