"""Writing one capture's records into its Parquet partitions, in bounded memory.

Rows wait in per-partition buffers (one per table and day). A buffer becomes a row group
when it reaches ``row_group_rows`` rows, or, when all buffers together pass
``buffer_bytes`` (estimated as in :class:`~ioproto_parquet.rows.RowMaker`), the largest
buffers are written until half the budget is free. Files are written under a temporary name
(``part-<n>.parquet.<pid>.tmp``, which no reader's ``*.parquet`` pattern matches) and only
:meth:`CaptureWriter.commit` flushes them to disk, renames them into place and then writes
the capture's completion record. :meth:`CaptureWriter.abort` removes them.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import ioproto
from ioproto.model import Record

from .manifest import (
    CaptureLock,
    InputIdentity,
    OutputDir,
    completion_record,
    fsync_dir,
)
from .rows import RowMaker
from .schema import Table, arrow_schema

DEFAULT_BUFFER_BYTES = 32 * 1024 * 1024
DEFAULT_ROW_GROUP_ROWS = 65_536
DEFAULT_MAX_OPEN_FILES = 64
_DAY_MICROS = 86_400_000_000


class _Partition:
    """One table's rows of one day: the buffered rows and the file being written."""

    __slots__ = ("bytes", "day", "directory", "files", "part", "rows", "table", "writer")

    def __init__(self, table: Table, day: int, directory: Path) -> None:
        self.table = table
        self.day = day
        self.directory = directory
        self.rows: list[list[Any]] = []
        self.bytes = 0
        self.writer: pq.ParquetWriter | None = None
        self.part = -1
        self.files: list[tuple[Path, Path]] = []  # (temporary, final)


class CaptureWriter:
    """Writes the records of one capture into ``root``; see the module docstring."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        capture: str,
        *,
        identity: InputIdentity | None = None,
        settings: Mapping[str, Any] | None = None,
        include_raw: bool = False,
        buffer_bytes: int = DEFAULT_BUFFER_BYTES,
        row_group_rows: int = DEFAULT_ROW_GROUP_ROWS,
        max_open_files: int = DEFAULT_MAX_OPEN_FILES,
        compression: str = "zstd",
    ) -> None:
        self.output = OutputDir(root)
        self.capture = capture
        self.identity = identity
        self.settings = dict(settings or {})
        self.buffer_bytes = max(1, buffer_bytes)
        self.row_group_rows = max(1, row_group_rows)
        self.max_open_files = max(1, max_open_files)
        self.compression = compression
        self.records = 0
        self.rows_by_table: dict[str, int] = {}
        self.row_groups = 0
        self.peak_buffered_bytes = 0
        self._maker = RowMaker(include_raw=include_raw)
        self._partitions: dict[tuple[str, int], _Partition] = {}
        self._open: list[_Partition] = []  # partitions with an open file, oldest first
        self._buffered = 0
        self._schemas: dict[str, pa.Schema] = {}
        self._dates: dict[int, str] = {}
        self._done = False
        self._lock = CaptureLock(self.output, capture)
        self.output.root.mkdir(parents=True, exist_ok=True)
        self._lock.acquire()
        try:
            self.output.forget(capture)
        except BaseException:
            self._lock.release()
            raise

    # -- writing ------------------------------------------------------------------------------

    def write(self, record: Record) -> None:
        table, row, size = self._maker.row(record, self.records)
        self.records += 1
        micros = row[1]
        day = micros // _DAY_MICROS if micros is not None else 0
        key = (table.name, day)
        partition = self._partitions.get(key)
        if partition is None:
            capture_dir = self.output.root / table.name / f"capture={self.capture}"
            directory = capture_dir / f"date={self._date(day)}"
            partition = self._partitions[key] = _Partition(table, day, directory)
        partition.rows.append(row)
        partition.bytes += size
        self._buffered += size
        if self._buffered > self.peak_buffered_bytes:
            self.peak_buffered_bytes = self._buffered
        if len(partition.rows) >= self.row_group_rows:
            self._flush(partition)
        if self._buffered > self.buffer_bytes:
            for largest in sorted(
                self._partitions.values(), key=lambda item: item.bytes, reverse=True
            ):
                if self._buffered <= self.buffer_bytes // 2 or not largest.rows:
                    break
                self._flush(largest)

    def _date(self, day: int) -> str:
        text = self._dates.get(day)
        if text is None:
            text = self._dates[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86_400))
        return text

    def _schema(self, table: Table) -> pa.Schema:
        schema = self._schemas.get(table.name)
        if schema is None:
            schema = self._schemas[table.name] = arrow_schema(
                table, ioproto_version=ioproto.__version__
            )
        return schema

    def _flush(self, partition: _Partition) -> None:
        rows = partition.rows
        if not rows:
            return
        schema = self._schema(partition.table)
        columns = list(zip(*rows, strict=True))
        arrays = [
            pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)
        ]
        batch = pa.Table.from_arrays(arrays, schema=schema)
        writer = partition.writer
        if writer is None:
            writer = self._open_file(partition, schema)
        writer.write_table(batch, row_group_size=len(rows))
        self.row_groups += 1
        self.rows_by_table[partition.table.name] = self.rows_by_table.get(
            partition.table.name, 0
        ) + len(rows)
        self._buffered -= partition.bytes
        partition.rows = []
        partition.bytes = 0

    def _open_file(self, partition: _Partition, schema: pa.Schema) -> pq.ParquetWriter:
        if len(self._open) >= self.max_open_files:
            oldest = self._open.pop(0)
            self._close_file(oldest)
        partition.part += 1
        partition.directory.mkdir(parents=True, exist_ok=True)
        final = partition.directory / f"part-{partition.part}.parquet"
        temp = final.with_name(f"{final.name}.{os.getpid()}.tmp")
        partition.files.append((temp, final))
        partition.writer = pq.ParquetWriter(temp, schema, compression=self.compression)
        self._open.append(partition)
        return partition.writer

    def _close_file(self, partition: _Partition) -> None:
        if partition.writer is not None:
            partition.writer.close()
            partition.writer = None

    # -- finishing ----------------------------------------------------------------------------

    def commit(self) -> list[str]:
        """Write what is buffered, make every file durable under its final name, then write
        the completion record. Returns the files, relative to the output directory."""
        if self._done:
            return []
        try:
            for partition in self._partitions.values():
                self._flush(partition)
            for partition in self._partitions.values():
                self._close_file(partition)
            files: list[str] = []
            directories: set[Path] = set()
            for partition in self._partitions.values():
                for temp, final in partition.files:
                    _fsync_file(temp)
                    os.replace(temp, final)
                    directories.add(final.parent)
                    files.append(final.relative_to(self.output.root).as_posix())
            for directory in directories:
                fsync_dir(directory)
            self.output.write_record(
                self.capture,
                completion_record(
                    capture=self.capture,
                    identity=self.identity,
                    settings=self.settings,
                    files=files,
                    rows=self.rows_by_table,
                    ioproto_version=ioproto.__version__,
                ),
            )
        except BaseException:
            self.abort()
            raise
        self._done = True
        self._lock.release()
        return files

    def abort(self) -> None:
        """Drop everything written so far (temporary files); no completion record."""
        if self._done:
            return
        self._done = True
        for partition in self._partitions.values():
            with contextlib.suppress(Exception):
                self._close_file(partition)
            for temp, _final in partition.files:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
        self._lock.release()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
