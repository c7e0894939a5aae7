"""Giving large buffers back to the operating system as soon as they are freed.

glibc's malloc serves a block of more than 128 KiB with its own ``mmap`` and returns it to
the system on ``free``, but it raises that threshold each time such a block is freed (up to
32 MiB), after which large blocks come from the heap, which fragments and does not shrink.
A capture of large messages then grows the process by the size of a message every few
messages, although nothing is kept (measured: 100 messages of 15 MiB, 162 MB with a fixed
threshold, 211 MB without). :func:`return_large_blocks` fixes the threshold.
"""

from __future__ import annotations

import ctypes
import sys

__all__ = ["return_large_blocks"]

_M_MMAP_THRESHOLD = -3  # from glibc's malloc.h


def return_large_blocks(threshold: int = 1024 * 1024) -> bool:
    """Have blocks of ``threshold`` bytes or more mapped and unmapped one by one.

    Only on Linux with glibc; returns whether the setting was made. Small blocks (nearly
    every record) are not affected; a large one costs a system call more.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols, glibc's among them: find_library("c") would run
        # ldconfig in a subprocess, 10 ms of every start.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))
