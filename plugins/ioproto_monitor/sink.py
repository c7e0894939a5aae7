"""The ``monitor`` sink: one line per packet as it arrives, like ``redis-cli MONITOR``.

Options (``--sink-option monitor.KEY=VALUE``, or the ``ioproto monitor`` command's flags):

* ``time``: ``local`` (default), ``utc``, ``relative`` (seconds since the first record) or
  ``none``; ``utc=true`` is the same as ``time=utc``.
* ``hide_control=true``: hide Engine.IO ``open``/``ping``/``pong``/``noop``/``upgrade``/
  ``close``.
* ``width``: the most characters of arguments shown per packet (default 160).
* ``empty_control=true``: also show WebSocket control frames without payload (ping, pong,
  close frames that say nothing more); ``--all-layers`` sets it.

Which records reach the sink is the ``--filter`` option's job (the ``ioproto monitor``
shorthands ``--event``, ``--nsp``, ``--sid``, ``--type``, ``--direction`` build one).

Colours (``SinkContext.color``) go through ``rich.text.Text`` (wire text is never markup);
without colour the line is plain text. ``flush=true`` flushes after every line; without it
the line shows at once wherever the CLI keeps the output line-buffered (a terminal, a live
source) and is block-buffered when a file is decoded into a pipe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, NamedTuple

from ioproto_http.records import is_bare_control

from ioproto.components import SinkContext, choice_option, flag_option, number_option
from ioproto.model import Record

from .render import STYLES, TIME_MODES, Clock, is_control, render_line


class MonitorOptions(NamedTuple):
    """The sink options of the MONITOR view."""

    time: str
    hide_control: bool
    width: int
    flush: bool
    empty_control: bool

    @classmethod
    def read(cls, options: Mapping[str, Any]) -> MonitorOptions:
        """The options' values; :class:`~ioproto.errors.UsageError` for one not taken."""
        mode = str(choice_option(options, "time", TIME_MODES, "local"))
        return cls(
            time="utc" if flag_option(options, "utc") else mode,
            hide_control=flag_option(options, "hide_control"),
            width=max(20, number_option(options, "width", 160)),
            flush=flag_option(options, "flush"),
            empty_control=flag_option(options, "empty_control"),
        )


class MonitorSink:
    def __init__(self, context: SinkContext) -> None:
        settings = MonitorOptions.read(context.options)
        self._stream: IO[str] = context.stream
        self._clock = Clock(settings.time)
        self._hide_control = settings.hide_control
        self._width = settings.width
        self._console: Any = None
        if context.color:
            from rich.console import Console

            self._console = Console(
                file=self._stream,
                force_terminal=True,
                highlight=False,
                markup=False,
                emoji=False,
                soft_wrap=True,
            )
        # Off by default: the CLI keeps the output line-buffered on a terminal and for live
        # sources, so each line shows at once there, and block-buffered into a pipe for files.
        self._flush = settings.flush
        self._empty_control = settings.empty_control

    def write(self, record: Record) -> None:
        if not self._empty_control and is_bare_control(record):
            return
        if self._hide_control and is_control(record):
            return
        segments = render_line(record, self._clock, width=self._width)
        if self._console is None:
            self._stream.write("".join(text for text, _ in segments) + "\n")
        else:
            from rich.text import Text

            line = Text()
            for text, style in segments:
                line.append(text, style=STYLES.get(style, ""))
            self._console.print(line)
        if self._flush:
            self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class MonitorSinkFactory:
    """Sink ``monitor``: see the module docstring for its options."""

    name = "monitor"
    description = "one readable line per packet as it arrives (events, acks with round-trips)"
    options = {
        "time": "local, utc, relative or none: how times are shown (default local)",
        "utc": "true: the same as time=utc",
        "hide_control": "true: leave out Engine.IO control packets",
        "width": "the widest line, in characters (default 160)",
        "empty_control": "true: also WebSocket control frames without payload",
        "flush": "true: flush after every line",
    }

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` (or :class:`ValueError`) for an option
        value not taken."""
        MonitorOptions.read(options)

    def open(self, context: SinkContext) -> MonitorSink:
        return MonitorSink(context)
