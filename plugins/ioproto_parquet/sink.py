"""The ``parquet`` sink: every record into typed Parquet tables, one output per input.

``--sink parquet:DIR`` writes under DIR (docs/formats.md, "Parquet"). Options
(``--sink-option parquet.KEY=VALUE``):

* ``buffer_bytes`` (default 32 MiB): the byte budget of the rows waiting to be written;
* ``row_group_rows`` (default 65536): rows per row group at most;
* ``compression`` (default ``zstd``; ``snappy``, ``gzip``, ``none`` …);
* ``raw=true``: also write every record's raw bytes (errors always have them);
* ``capture=NAME``: the capture's name when there is a single input (default: the file's
  name).

This is a *per-input* sink (``per_input = True``): ``ioproto decode`` gives each input its
own pipeline, in parallel processes, asks :meth:`ParquetSinkFactory.plan` which inputs are
already complete, and calls :meth:`ParquetSink.abort` when an input could not be read to
its end. This module imports no pyarrow: the writer is loaded when a sink opens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ioproto.components import SinkContext, flag_option, number_option, size_option
from ioproto.model import Record
from ioproto.writable import folder_problem

from .manifest import OutputDir, identity_of, plan_captures

if TYPE_CHECKING:
    from .writer import CaptureWriter


def _writer_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`~ioproto_parquet.writer.CaptureWriter` settings the options give."""
    from .writer import DEFAULT_BUFFER_BYTES, DEFAULT_MAX_OPEN_FILES, DEFAULT_ROW_GROUP_ROWS

    compression = str(options.get("compression", "zstd")).lower()
    if compression not in _COMPRESSIONS:
        raise ValueError(
            f"parquet.compression {compression!r} is not one of {', '.join(_COMPRESSIONS)}"
        )
    return {
        "include_raw": flag_option(options, "raw"),
        "buffer_bytes": size_option(options, "buffer_bytes", DEFAULT_BUFFER_BYTES),
        "row_group_rows": number_option(
            options, "row_group_rows", DEFAULT_ROW_GROUP_ROWS, minimum=1
        ),
        "max_open_files": number_option(
            options, "max_open_files", DEFAULT_MAX_OPEN_FILES, minimum=1
        ),
        "compression": "none" if compression in ("", "none") else compression,
    }


_COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")


def _root(options: Mapping[str, Any]) -> str:
    root = options.get("path")
    if not root:
        raise ValueError(
            "the parquet sink writes into a directory: use --sink parquet:DIR (in Python: "
            "SinkContext(stream=sys.stdout, options={'path': DIR}))"
        )
    return str(root)


class ParquetSink:
    """Writes one capture; a failure while writing is kept and reported at :meth:`close`
    (which then writes no completion record)."""

    def __init__(self, writer: CaptureWriter) -> None:
        self.writer = writer
        self.failure: BaseException | None = None

    def write(self, record: Record) -> None:
        if self.failure is not None:
            return
        try:
            self.writer.write(record)
        except Exception as exc:
            self.failure = exc
            self.writer.abort()

    def close(self) -> None:
        if self.failure is not None:
            raise RuntimeError(f"parquet output failed: {self.failure}") from self.failure
        try:
            self.writer.commit()
        except Exception as exc:
            self.failure = exc
            raise

    def abort(self) -> None:
        """The input was not read to its end: drop this capture's files."""
        self.writer.abort()


class ParquetSinkFactory:
    """Sink ``parquet``: see the module docstring."""

    name = "parquet"
    description = "typed Parquet tables under DIR (--sink parquet:DIR), one capture per input"
    per_input = True
    options = {
        "buffer_bytes": "the byte budget of the rows waiting to be written (default 32 MiB)",
        "row_group_rows": "rows per row group at most (default 65536)",
        "max_open_files": "partition files open at once (default 64)",
        "compression": "zstd (default), snappy, gzip, brotli, lz4 or none",
        "raw": "true: also every record's raw bytes",
        "capture": "the capture's name when there is a single input",
    }
    #: the folder (``--sink parquet:DIR``), and what :meth:`plan` adds per input
    private_options = ("path", "input", "settings")

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` (or :class:`ValueError`) for an option
        value not taken."""
        _writer_options(options)

    def plan(
        self, inputs: Sequence[str], options: Mapping[str, Any], settings: Mapping[str, Any]
    ) -> list[dict[str, Any] | None]:
        """For each input, the sink options of its own run, or ``None`` when DIR already
        holds it complete (same file, same settings)."""
        from . import writer  # noqa: F401 - loaded once here, before the runs fork

        _writer_options(options)  # bad options are the user's mistake, found up front
        root = _root(options)
        problem = folder_problem(root)
        if problem is not None:  # found now, not once per input after each has decoded
            raise ValueError(f"cannot write into {root}: {problem}")
        # The capture's name is not a setting of its records (a cluster task names its
        # capture explicitly; the same capture decoded locally is the same output).
        sink_options = dict(settings.get("sink_options") or {})
        sink_options.pop("capture", None)
        settings = {**settings, "sink_options": sink_options}
        output = OutputDir(root)
        explicit = options.get("capture")
        names = plan_captures(output, inputs, str(explicit) if explicit else None)
        planned: list[dict[str, Any] | None] = []
        for input, name in zip(inputs, names, strict=True):
            if output.is_complete(name, identity_of(input), settings):
                planned.append(None)
            else:
                planned.append({"capture": name, "input": input, "settings": dict(settings)})
        return planned

    def open(self, context: SinkContext) -> ParquetSink:
        from .writer import CaptureWriter

        options = context.options
        root = _root(options)
        input = options.get("input")
        capture = options.get("capture")
        if not capture:
            capture = plan_captures(OutputDir(root), [str(input) if input else "-"])[0]
        try:
            writer = CaptureWriter(
                root,
                str(capture),
                identity=identity_of(str(input)) if input else None,
                settings=options.get("settings") or {},
                **_writer_options(options),
            )
        except BlockingIOError as exc:
            raise ValueError(f"{capture}: {exc}") from None
        except OSError as exc:
            raise ValueError(f"cannot write into {root}: {exc.strerror or exc}") from None
        return ParquetSink(writer)
