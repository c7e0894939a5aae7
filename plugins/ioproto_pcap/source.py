"""The ``pcap`` capture source: capture file → frames → reassembled TCP byte streams.

It yields the records of the ``tcp`` layer (:mod:`ioproto_tcp.records`): per connection a
``TcpOpen``, the ``TcpData`` of each side in stream order, ``TcpGap`` for lost bytes, ``TcpFin``
and a final ``TcpClose``; what the bytes mean is for the layers above (``http``).

Options (``context.options``, from ``--source-option KEY=VALUE`` or the API):

* ``port``: an int, a list of ints or a comma-separated string; only TCP connections with
  one of these ports (the server's, when the capture holds the SYN) are read.
* ``max_connections`` (default 20000) and ``idle_timeout`` (seconds, default 900): connections
  beyond the cap, or idle longer than the timeout, are finished early and forgotten.
* ``max_reorder_bytes`` (default 4 MiB) / ``max_reorder_segments`` (default 512): per direction,
  out-of-order data beyond this is declared lost (``capture.tcp.gap``).
* ``max_reorder_total`` (default 64 MiB): what all connections hold out of order together,
  each waiting segment counted at its bytes plus 100; past it the connection whose hole has
  waited longest gives up its holes (``capture.reorder.over-budget``, then ``capture.tcp.gap``)
  and delivers what it held. Each process that reads a share of a sharded run has its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ioproto_tcp.records import RECORD_TYPES

from ioproto.components import SourceContext
from ioproto.model import Record

from .capture import CaptureOptions, read_capture
from .files import CAPTURE_MAGICS, looks_like_capture, sniff
from .link import SUPPORTED_LINKTYPES

#: The source options, for ``--source-option`` (see the module docstring).
OPTIONS = {
    "port": "only TCP connections with this server port (--port; comma-separated for several)",
    "max_connections": "connections followed at once (default 20000)",
    "idle_timeout": "seconds after which an idle connection is finished (default 900)",
    "max_reorder_bytes": "out-of-order bytes kept per direction (default 4 MiB)",
    "max_reorder_segments": "out-of-order segments kept per direction (default 512)",
    "max_reorder_total": "out-of-order bytes kept by all connections together (default 64 MiB)",
    "parallel": "false: read in this process, never in a worker (ioproto.worker)",
    "parallel_min_bytes": "the smallest file read in a worker process (default 8 MB)",
    "shard": "true: --jobs N workers each decode the sessions of a share (ioproto.shard)",
    "split": "sharding: false: every worker reads the whole capture (default: read once)",
    "route_table_bytes": "sharding: bytes of the table of decided connections (default 64 MiB)",
    "route_bytes": "sharding: data bytes kept per undecided connection (default 64 KiB)",
    "route_window": "sharding: records an undecided connection may hold back (default 4096)",
    "route_pending_bytes": "sharding: data bytes kept for all undecided ones (default 8 MiB)",
}


class PcapSource:
    """Reads pcap and pcapng files (optionally gzip-compressed, or ``-`` for stdin)."""

    name = "pcap"
    forkable = True  # open() only reads the file: ioproto.worker may run it in a child
    description = (
        "pcap/pcapng capture files (also gzip-compressed, '-' for stdin): "
        "the TCP connections they hold"
    )
    options = OPTIONS
    types = RECORD_TYPES

    def probe(self, input: str) -> float:
        """100 for a capture magic; 1 for a file that is plainly a capture although its
        header is damaged (gzip magic, or a capture file name), so that reading it gives
        an error record rather than "no source can read"; else -1."""
        if input == "-":
            return 0.1
        head = sniff(input)
        if head in CAPTURE_MAGICS:
            return 100.0
        if looks_like_capture(input):
            return 1.0
        return -1.0

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` for an option value not taken."""
        CaptureOptions.read(options)

    def open(self, input: str, context: SourceContext) -> Iterator[Record]:
        """The capture's ``tcp`` records (see the module docstring)."""
        return read_capture(input, context)

    def open_split(self, input: str, context: SourceContext) -> Any:
        """The capture read once by a dispatcher, its frames decoded by the workers of a
        sharded run (:mod:`ioproto.split`, :mod:`.split`)."""
        from .split import CaptureSplit

        return CaptureSplit(input, context)


__all__ = ["SUPPORTED_LINKTYPES", "PcapSource", "read_capture"]
