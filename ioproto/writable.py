"""Whether an output file or folder can be written, found before any input is read.

A look at the path (does its folder exist, may we write there) is not enough: as root
every ``access`` check passes, and a file system that takes no new files (``/proc``,
``/sys``) or is mounted read-only refuses only when asked. So :func:`file_problem` and
:func:`folder_problem` ask: they create what the run would create and remove it at once,
and open an existing file for writing without emptying it, so that a run refused leaves
the path as it was. Each answer is the end of a one-line message, ``<why>; <what to do>``.
"""

from __future__ import annotations

import errno
import os

#: An empty path (``-o "$OUT"`` with ``OUT`` unset) names no file: not "the folder takes no
#: new files", which opening it would suggest.
_EMPTY = "the path is empty; give a file name"


def file_problem(path: str) -> str | None:
    """Why the file ``path`` cannot be written, or ``None`` when it can.

    Leaves nothing behind: a file created to find out is removed, an existing one keeps
    its content. A path that is not a regular file (``/dev/null``, a named pipe) is not
    opened (a pipe would wait for its reader) and is taken as writable.
    """
    if not path:
        return _EMPTY
    if os.path.isdir(path):
        return "that is a folder; give a file name"
    folder = os.path.dirname(os.path.abspath(path))
    missing = _folder_missing(folder)
    if missing is not None:
        return missing
    if os.path.exists(path):
        if not os.path.isfile(path):
            return None
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # no O_TRUNC: kept as it is
        except OSError as exc:
            return why_not(path, exc)
        return None
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return None  # made meanwhile by someone else: opened as an existing file later
    except OSError as exc:
        return why_not(path, exc)
    os.close(descriptor)
    os.unlink(path)
    return None


def folder_problem(path: str) -> str | None:
    """Why files cannot be written into the folder ``path`` (made with its parents when
    missing, as ``mkdir -p``), or ``None`` when they can. Leaves nothing behind."""
    import tempfile  # here only: the file checks run on every command, this rarely

    if not path:
        return _EMPTY
    if os.path.exists(path) and not os.path.isdir(path):
        return "that is a file, not a folder; give a folder's path"
    existing = os.path.abspath(path)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"{existing} is a file, not a folder; choose another path"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".ioproto-", dir=existing))
    except OSError as exc:
        return why_not(os.path.join(existing, "x"), exc)
    return None


def why_not(path: str, exc: OSError, another: str = "choose another path") -> str:
    """``<why>; <what to do>`` for ``exc``, raised when ``path`` was opened for writing
    (or bound as a unix socket); ``another`` is how to choose another path."""
    if not path:
        return _EMPTY
    folder = os.path.dirname(os.path.abspath(path))
    if isinstance(exc, IsADirectoryError):
        return "that is a folder; give a file name"
    if isinstance(exc, PermissionError):
        return "permission denied; choose a path you may write to"
    if isinstance(exc, NotADirectoryError | FileNotFoundError):
        missing = _folder_missing(folder, another)
        if missing is not None:
            return missing
        if isinstance(exc, FileNotFoundError):
            # The folder is there but its file system makes no files in it (/proc, /sys).
            return f"the folder {folder} takes no new files; {another}"
    if exc.errno == errno.EROFS:
        return f"the folder {folder} is on a read-only file system; {another}"
    return f"{exc.strerror or type(exc).__name__}; {another}"


def _folder_missing(folder: str, another: str = "choose another path") -> str | None:
    """Why ``folder`` is no folder to write a file into: it does not exist, or a file
    stands where it or one of its parents should be."""
    if os.path.isdir(folder):
        return None
    existing = folder
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"{existing} is a file, not a folder; {another}"
    return f"the folder {folder} does not exist; create it or {another}"
