"""The parent's end of the tap: a thread that keeps the pipe from the relay empty, holding
the frames it takes in memory and, past a byte budget, in a temporary file.

Without it the copies wait in the relay's process (bounded by ``buffer``) and, once the
decoder falls further behind, are dropped. A flood of a few tens of seconds copies more than
any sensible memory budget, but its bytes fit easily on disk, and the decoder catches up
when the flood ends: so the frames wait in a file instead of being lost (``spool`` bytes at
most, 1 GiB by default; beyond that the relay's own bound drops them as before).

:class:`Spool` reads the pipe in a thread of its own (``os.read`` and file I/O release the
GIL, and a frame is only split off by its header, not unpickled, so the thread costs the
decoder little), keeps the frames in order (memory first; once anything is in the file,
new frames go to the file until it is read to the end, then it is emptied), and counts the
data bytes it took into ``taken`` (the relay's bound, :class:`~.channel.TapCounters`).
:meth:`Spool.read` gives the decoder's thread the frames, unpickled.
"""

from __future__ import annotations

import collections
import os
import pickle
import tempfile
import threading
import time
from typing import Any

from .channel import HEADER, Counter

#: What may wait here by default, in frame bytes: the first :data:`MEMORY` in memory, the
#: rest in the temporary file.
DEFAULT_SPOOL = 1 << 30  # ioproto_proxy.source.DEFAULT_SPOOL says the same, for the CLI
#: What waits in memory before the file is used.
MEMORY = 8 * 1024 * 1024
#: Frames one :meth:`Spool.read` returns at most, in bytes (the decoder goes back to its
#: loop, to report and to notice a stop, at least this often).
READ_BYTES = 4 * 1024 * 1024
_READ_SIZE = 1 << 20
_LENGTH = HEADER.size


class Spool:
    """Frames from the pipe ``fd`` (owned and closed here), kept in order for the decoder.

    ``budget`` bounds what waits here, in frame bytes (the first :data:`MEMORY` of it in
    memory, the rest in the file), except that one frame may always wait (``budget=0``:
    only one, the relay's bound alone applies). When it is full the thread stops reading
    the pipe, the relay's bound fills, and the relay drops (and counts) the copies, as it
    would without a spool. ``taken`` is added the data bytes of each frame taken off the
    pipe; :attr:`waiting` is the data bytes held here.
    """

    def __init__(
        self, fd: int, taken: Counter, budget: int = DEFAULT_SPOOL, *, memory: int = MEMORY
    ) -> None:
        self.fd = fd
        self._taken = taken
        self._memory_budget = min(memory, max(0, budget))
        self._disk_budget = max(0, budget - self._memory_budget)
        self._lock = threading.Condition()
        self._frames: collections.deque[tuple[bytes, int]] = collections.deque()
        self._memory = 0
        self._file: Any = None  # the spool file, made on first use
        self._write_at = 0
        self._read_at = 0
        self._in_file = 0  # frames in the file not read yet
        self._waiting = 0
        self._eof = False
        self._closing = False
        self.spilled_bytes = 0  # frame bytes that went through the file, ever
        self._thread = threading.Thread(target=self._drain, name="ioproto-spool", daemon=True)
        self._thread.start()

    @property
    def eof(self) -> bool:
        """The relay closed the pipe and every frame has been read."""
        with self._lock:
            return self._eof and not self._frames and not self._in_file

    @property
    def waiting(self) -> int:
        """Data bytes held here, not yet given to the decoder."""
        return self._waiting

    def read(self, timeout: float) -> list[tuple[bytes, Any]]:
        """The frames that are here or arrive within ``timeout`` seconds (``[]`` if none), as
        ``(type, payload)``, in order, up to about :data:`READ_BYTES`."""
        deadline = time.monotonic() + timeout
        taken: list[bytes] = []
        with self._lock:
            while not self._frames and not self._in_file and not self._eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._lock.wait(left)
            size = 0
            while size < READ_BYTES:
                frame = self._pop()
                if frame is None:
                    break
                taken.append(frame[0])
                size += len(frame[0])
                self._waiting -= frame[1]
            self._lock.notify_all()
        return [(raw[:1], pickle.loads(memoryview(raw)[_LENGTH:])) for raw in taken]

    def close(self) -> None:
        """Stop holding frames (the thread reads on, discarding, until the relay's end
        closes), and release the file and, once the thread has gone, the pipe."""
        with self._lock:
            self._closing = True
            self._frames.clear()
            self._in_file = 0
            self._lock.notify_all()
        self._thread.join(1.0)
        if not self._thread.is_alive() and self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- the thread ------------------------------------------------------------------------

    def _drain(self) -> None:
        pending = bytearray()  # the start of a frame the last read cut
        try:
            while True:
                try:
                    data = os.read(self.fd, _READ_SIZE)
                except OSError:
                    data = b""
                if not data:
                    break
                if pending:
                    pending += data
                    with memoryview(pending) as view:
                        frames, offset = _split(view)
                    del pending[:offset]
                else:  # a read that starts with a frame (nearly all): no copy of it whole
                    frames, offset = _split(data)
                    pending += data[offset:]
                if frames:
                    self._put(frames)
        finally:
            with self._lock:
                self._eof = True
                self._lock.notify_all()

    def _put(self, frames: list[tuple[bytes, int]]) -> None:
        """Keep ``frames`` (``(raw, data bytes)``, in order), waiting for room as needed;
        one lock and one wake-up for all of them (a read brings several: per frame, they
        cost the decoder's process a sixth of its time in a flood)."""
        taken = self._taken
        with self._lock:
            for raw, data_bytes in frames:
                if self._keep(raw, data_bytes):
                    self._waiting += data_bytes
                taken.value += data_bytes  # taken off the pipe, kept or discarded
            self._lock.notify_all()

    def _keep(self, raw: bytes, data_bytes: int) -> bool:
        """Hold one frame, in memory or in the file, waiting (the lock held) until there is
        room for it; false when the spool is closing, and the frame is discarded."""
        size = len(raw)
        while not self._closing:
            if not self._in_file and (
                not self._frames or self._memory + size <= self._memory_budget
            ):
                self._frames.append((raw, data_bytes))
                self._memory += size
                return True
            if self._write_at - self._read_at + size <= self._disk_budget and self._spill(raw):
                return True
            self._lock.notify_all()  # what came so far, for the decoder to take
            self._lock.wait()  # full: the decoder makes room
        return False

    def _spill(self, raw: bytes) -> bool:
        """Append the frame to the file; false when the file cannot be written (then the
        frames wait in memory and the relay's bound applies)."""
        try:
            if self._file is None:
                self._file = tempfile.TemporaryFile(prefix="ioproto-spool-")  # noqa: SIM115 (closed in close())
            os.pwrite(self._file.fileno(), raw, self._write_at)
        except OSError:
            self._disk_budget = 0
            return False
        self._write_at += len(raw)
        self._in_file += 1
        self.spilled_bytes += len(raw)
        return True

    def _pop(self) -> tuple[bytes, int] | None:
        """The next frame in order, or ``None`` (holding the lock)."""
        if self._frames:
            raw, data_bytes = self._frames.popleft()
            self._memory -= len(raw)
            return raw, data_bytes
        if not self._in_file:
            return None
        fileno = self._file.fileno()
        _, length, data_bytes = _header(os.pread(fileno, _LENGTH, self._read_at), 0)
        raw = os.pread(fileno, _LENGTH + length, self._read_at)
        self._read_at += len(raw)
        self._in_file -= 1
        if not self._in_file:  # read to the end: empty it, and use memory again
            os.ftruncate(fileno, 0)
            self._read_at = self._write_at = 0
        return raw, data_bytes


def _split(buffer: bytes | memoryview) -> tuple[list[tuple[bytes, int]], int]:
    """The whole frames at the start of ``buffer``, each as ``bytes`` (one copy) with its
    data bytes, and where the rest (an incomplete frame, or nothing) starts."""
    frames: list[tuple[bytes, int]] = []
    offset = 0
    size = len(buffer)
    while size - offset >= _LENGTH:
        _, length, data_bytes = _header(buffer, offset)
        end = offset + _LENGTH + length
        if end > size:
            break
        # a slice of bytes is its copy already (bytes() then returns it); of a view, not
        frames.append((bytes(buffer[offset:end]), data_bytes))
        offset = end
    return frames, offset


def _header(buffer: bytes | bytearray | memoryview, offset: int) -> tuple[bytes, int, int]:
    """A frame's type, payload length and data bytes."""
    kind, length, data_bytes = HEADER.unpack_from(buffer, offset)
    return kind, length, data_bytes
