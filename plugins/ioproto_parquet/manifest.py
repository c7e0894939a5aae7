"""Which captures an output directory holds, and which are complete.

Layout of an output directory (docs/formats.md, "Parquet")::

    DIR/<table>/capture=<name>/date=<YYYY-MM-DD>/part-<n>.parquet
    DIR/_ioproto/captures/<name>.json     the completion record of capture <name>
    DIR/_ioproto/locks/<name>.lock        held while a process writes capture <name>

A capture is complete when its completion record exists: it is written last, after every
file of the capture has been written under a temporary name, flushed to disk and renamed
into place. It names the input (absolute path, size and modification time), the settings
that shaped the records and the files written. A rerun skips an input whose record matches;
anything else about that capture (files of an interrupted run) is removed and redone.
Imports nothing heavy: the CLI plans runs without pyarrow.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .schema import SCHEMA_VERSION, TABLE_NAMES

META_DIR = "_ioproto"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def capture_name(text: str) -> str:
    """A capture name safe in a directory name: ``[A-Za-z0-9._-]``, at most 120 characters."""
    name = _UNSAFE.sub("_", text)[:120] or "capture"
    if name.startswith(".") or name.startswith("_"):
        name = "c" + name  # hidden or reserved-looking names are skipped by readers
    return name


@attrs.frozen
class InputIdentity:
    """What says an input file is the same as when it was decoded."""

    path: str
    size: int
    mtime_ns: int

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "mtime_ns": self.mtime_ns}


def identity_of(input: str) -> InputIdentity | None:
    """The identity of a regular file; ``None`` for stdin, live specs and missing files."""
    if input == "-":
        return None
    try:
        stat = os.stat(input)
    except OSError:
        return None
    if not os.path.isfile(input):
        return None
    return InputIdentity(os.path.abspath(input), stat.st_size, stat.st_mtime_ns)


def normalised(settings: Mapping[str, Any]) -> Any:
    """``settings`` as plain JSON values (tuples as lists), as stored in the record."""
    return json.loads(json.dumps(dict(settings), sort_keys=True, default=str))


class OutputDir:
    """An output directory: its completion records and its captures' files."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def captures_dir(self) -> Path:
        return self.root / META_DIR / "captures"

    @property
    def locks_dir(self) -> Path:
        return self.root / META_DIR / "locks"

    def record_path(self, capture: str) -> Path:
        return self.captures_dir / f"{capture}.json"

    def records(self) -> Iterator[dict[str, Any]]:
        """Every readable completion record."""
        if not self.captures_dir.is_dir():
            return
        for path in sorted(self.captures_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(record, dict) and isinstance(record.get("capture"), str):
                yield record

    def read_record(self, capture: str) -> dict[str, Any] | None:
        try:
            record = json.loads(self.record_path(capture).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) else None

    def is_complete(
        self, capture: str, identity: InputIdentity | None, settings: Mapping[str, Any]
    ) -> bool:
        """Whether ``capture`` was finished from this very input with these settings."""
        if identity is None:
            return False
        record = self.read_record(capture)
        if record is None:
            return False
        return (
            record.get("schema_version") == SCHEMA_VERSION
            and record.get("input") == identity.as_dict()
            and record.get("settings") == normalised(settings)
            and all((self.root / name).is_file() for name in record.get("files", []))
        )

    def partition_dirs(self, capture: str) -> list[Path]:
        """The directories holding ``capture``'s files, one per table that has any."""
        return [
            self.root / table / f"capture={capture}"
            for table in TABLE_NAMES
            if (self.root / table / f"capture={capture}").is_dir()
        ]

    def captures_on_disk(self) -> set[str]:
        """Names of every capture that has a partition directory."""
        found: set[str] = set()
        for table in TABLE_NAMES:
            directory = self.root / table
            if directory.is_dir():
                for child in directory.iterdir():
                    if child.name.startswith("capture="):
                        found.add(child.name.removeprefix("capture="))
        return found

    def incomplete_captures(self) -> list[str]:
        """Captures with files but no completion record (an interrupted run)."""
        complete = {record["capture"] for record in self.records()}
        return sorted(self.captures_on_disk() - complete)

    def write_record(self, capture: str, record: Mapping[str, Any]) -> None:
        """Write ``capture``'s completion record atomically (temporary file, fsync, rename)."""
        self.captures_dir.mkdir(parents=True, exist_ok=True)
        target = self.record_path(capture)
        temp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(record, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        fsync_dir(self.captures_dir)

    def forget(self, capture: str) -> None:
        """Remove ``capture``'s completion record, then every file it has."""
        with contextlib.suppress(FileNotFoundError):
            self.record_path(capture).unlink()
        for directory in self.partition_dirs(capture):
            _remove_tree(directory)


def _remove_tree(directory: Path) -> None:
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink()
    directory.rmdir()


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class CaptureLock:
    """An exclusive, non-blocking lock on one capture of an output directory.

    Held by the process writing that capture; the operating system releases it when the
    process dies, so a crashed run never blocks the next one. Where ``fcntl`` is missing
    (Windows) nothing is locked.
    """

    def __init__(self, output: OutputDir, capture: str) -> None:
        self.path = output.locks_dir / f"{capture}.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; :class:`BlockingIOError` when another process holds it."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise BlockingIOError(
                f"capture is being written by another process ({self.path})"
            ) from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def plan_captures(
    output: OutputDir, inputs: Sequence[str], explicit: str | None = None
) -> list[str]:
    """A capture name for each input, stable across reruns.

    An input decoded before keeps the name its completion record gives it. Otherwise the
    name is the file's name (made safe); when another input of this run, or a capture
    already in the directory from another file, has that name, a short hash of the input's
    absolute path is appended (``server.pcap-1a2b3c4d``). ``explicit`` (the ``capture``
    sink option) names a single input.
    """
    if explicit is not None:
        if len(inputs) != 1:
            raise ValueError(
                "parquet.capture names one capture; with several inputs each one is named "
                "after its file"
            )
        return [capture_name(explicit)]
    by_path: dict[str, str] = {}
    taken: dict[str, str | None] = {}
    for record in output.records():
        source = record.get("input") or {}
        path = source.get("path") if isinstance(source, dict) else None
        taken[record["capture"]] = path
        if isinstance(path, str):
            by_path.setdefault(path, record["capture"])
    names: list[str] = []
    used: set[str] = set()
    for input in inputs:
        identity = identity_of(input)
        absolute = identity.path if identity is not None else None
        name = by_path.get(absolute) if absolute is not None else None
        if name is None or name in used:
            base = capture_name(os.path.basename(input.rstrip("/")) if input != "-" else "stdin")
            owner = taken.get(base, absolute)
            if base in used or owner != absolute:
                digest = hashlib.sha1((absolute or input).encode("utf-8")).hexdigest()[:8]
                base = capture_name(f"{base}-{digest}")
            name = base
        used.add(name)
        names.append(name)
    return names


def completion_record(
    *,
    capture: str,
    identity: InputIdentity | None,
    settings: Mapping[str, Any],
    files: Sequence[str],
    rows: Mapping[str, int],
    ioproto_version: str,
) -> dict[str, Any]:
    """The JSON object written to ``_ioproto/captures/<capture>.json``."""
    return {
        "schema_version": SCHEMA_VERSION,
        "ioproto_version": ioproto_version,
        "capture": capture,
        "input": identity.as_dict() if identity is not None else None,
        "settings": normalised(settings),
        "files": sorted(files),
        "rows": dict(sorted(rows.items())),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
