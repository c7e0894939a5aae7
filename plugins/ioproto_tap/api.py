"""``instrument(server)``: the one line that taps a python-socketio or python-engineio server.

::

    import ioproto_tap
    ioproto_tap.instrument(sio)                                  # to `ioproto collect`
    ioproto_tap.instrument(sio, collector="unix:/tmp/ioproto.sock")
    ioproto_tap.instrument(sio, sinks=["jsonl:/tmp/traffic.jsonl"])  # decoded in-process
    ioproto_tap.instrument(sio, sinks=["dashboard"], sink_options={"dashboard.browser": False})

The server keeps its speed and never sees an error from the tap: packets are put into a
bounded buffer (``buffer_bytes``) and a daemon thread delivers them; what does not fit is
dropped and counted (see :mod:`.sender`).
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from ioproto.errors import UsageError

from .buffer import DEFAULT_BUFFER_BYTES, RecordBuffer
from .collector import parse_address
from .engineio_hooks import EngineIOHooks, Recorder
from .inprocess import pipeline_link
from .sender import CollectorLink, Link, PipelineLink, Sender, hello_record

#: Where taps send when no collector is named and ``IOPROTO_COLLECTOR`` is not set.
DEFAULT_COLLECTOR = "127.0.0.1:7788"


def collector_address(collector: str | None = None) -> str:
    """Where a tap sends: ``collector``, else ``$IOPROTO_COLLECTOR``, else
    :data:`DEFAULT_COLLECTOR`, written as ``ioproto collect --listen`` takes it
    (``127.0.0.1:7788``, ``unix:/run/ioproto.sock``). Raises :class:`ValueError` for an
    address that is none, naming ``$IOPROTO_COLLECTOR`` when it came from there."""
    if collector:
        return str(parse_address(collector))
    target = os.environ.get("IOPROTO_COLLECTOR") or DEFAULT_COLLECTOR
    try:
        return str(parse_address(target))
    except ValueError as exc:
        raise ValueError(
            f"$IOPROTO_COLLECTOR: {exc}; set it to where `ioproto collect` listens"
        ) from None


class Tap:
    """A running tap: :meth:`close` stops it and takes the wrappers off the server.

    ``dropped`` counts records dropped so far (buffer full, collector absent or slow);
    ``failures`` counts internal failures that were swallowed to protect the server.
    ``urls`` says where the tap's ``sinks=`` that serve can be reached, as they say it on
    stderr: each one's entry of ``sinks=``, as given, to its URL
    (``{"dashboard:127.0.0.1:0": "http://127.0.0.1:41234/"}``, the free port it got;
    ``"prometheus"``: ``".../metrics"``); empty without such sinks. It stays as it was
    after :meth:`close`, when they no longer serve.
    """

    def __init__(
        self,
        hooks: EngineIOHooks,
        buffer: RecordBuffer,
        sender: Sender,
        urls: Mapping[str, str] | None = None,
    ) -> None:
        self.hooks = hooks
        self.buffer = buffer
        self.sender = sender
        self.urls: dict[str, str] = dict(urls or {})
        self._closed = False

    @property
    def dropped(self) -> int:
        return self.buffer.total_dropped

    @property
    def failures(self) -> int:
        return self.hooks.failures + self.sender.failures

    def close(self, timeout: float = 2.0) -> None:
        """Stop recording, deliver what is queued (at most ``timeout`` s), stop the sender."""
        if self._closed:
            return
        self._closed = True
        self.hooks.remove()
        self.sender.stop(timeout)


def engineio_server(server: Any) -> Any:
    """The Engine.IO server of ``server`` (a python-socketio server's ``eio``, or itself).

    Raises :class:`TypeError` for anything else.
    """
    import engineio

    candidate = getattr(server, "eio", server)
    if isinstance(candidate, engineio.Server | engineio.AsyncServer):
        return candidate
    raise TypeError(
        "ioproto_tap.instrument() takes a socketio.Server/AsyncServer or an "
        f"engineio.Server/AsyncServer, not {type(server).__name__}"
    )


def _library() -> str:
    names = []
    for package in ("python-socketio", "python-engineio"):
        try:
            names.append(f"{package}/{metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return " ".join(names)


def instrument(
    server: Any,
    *,
    collector: str | None = None,
    sinks: Sequence[str] | None = None,
    sink_options: Mapping[str, Any] | None = None,
    proto: str = "socketio",
    buffer_bytes: int = DEFAULT_BUFFER_BYTES,
    app: str | None = None,
) -> Tap:
    """Tap every Engine.IO packet ``server`` receives and sends.

    :param server: a ``socketio.Server``/``AsyncServer`` or ``engineio.Server``/``AsyncServer``.
    :param collector: ``"HOST:PORT"`` or ``"unix:PATH"`` of an ``ioproto collect``; default
        the ``IOPROTO_COLLECTOR`` environment variable, else ``127.0.0.1:7788``.
    :param sinks: decode in this process instead, into these sinks (``"monitor"``,
        ``"jsonl:PATH"``, ``"stats"``, ``"dashboard:HOST:PORT"`` …, read as ``--sink``
        reads them; output to stdout unless a path is given), up to layer ``proto``. Runs
        in the tap's thread, not the server's; :meth:`Tap.close` closes them (the
        dashboard's page stops unless its ``hold`` was asked for).
    :param sink_options: options of those sinks, as ``--sink-option`` takes them:
        ``{"dashboard.browser": False}`` for one sink, ``{"KEY": value}`` for every sink
        that takes it. A name or value a sink does not take, or options without ``sinks``,
        raise :class:`~ioproto.errors.UsageError` before anything is opened.
    :param buffer_bytes: how many bytes of records may wait for delivery; beyond it records
        are dropped and counted.
    :param app: a name for this server in the collector's messages.
    :returns: the :class:`Tap`; keep it to :meth:`~Tap.close` it, read its counts, or
        find where its sinks serve (:attr:`Tap.urls`).
    """
    eio = engineio_server(server)
    if buffer_bytes < 1:
        raise ValueError("buffer_bytes must be positive")
    buffer = RecordBuffer(buffer_bytes)
    link: Link
    if sinks:
        link = pipeline_link(sinks, proto, sink_options)
    elif sink_options:
        raise UsageError(
            "sink_options are for the tap's sinks=: give sinks (the collector's sinks take "
            "their options with ioproto collect --sink-option)"
        )
    else:
        address = parse_address(collector_address(collector))
        link = CollectorLink(address, hello_record("python", _library(), app), buffer)
    hooks = EngineIOHooks(eio, Recorder(buffer))
    sender = Sender(buffer, link)
    hooks.install()
    sender.start()
    tap = Tap(hooks, buffer, sender, link.urls if isinstance(link, PipelineLink) else None)
    atexit.register(tap.close, 0.5)
    os.register_at_fork(after_in_child=sender.restart_after_fork)
    return tap
