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

from typing import IO, Any

from ioproto.components import SinkContext, choice_option, flag_option, number_option
from ioproto.model import Record

from .render import STYLES, TIME_MODES, Clock, is_control, render_line


def says_nothing(record: Record) -> bool:
    """An empty WebSocket ping, pong or close frame: shown only with ``empty_control``."""
    return record.type == "ws-control" and not getattr(record, "data", None)


class MonitorSink:
    def __init__(self, context: SinkContext) -> None:
        options = context.options
        self._stream: IO[str] = context.stream
        mode = choice_option(options, "time", TIME_MODES, "local")
        if flag_option(options, "utc"):
            mode = "utc"
        self._clock = Clock(str(mode))
        self._hide_control = flag_option(options, "hide_control")
        self._width = max(20, number_option(options, "width", 160))
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
        self._flush = flag_option(options, "flush")
        self._empty_control = flag_option(options, "empty_control")

    def write(self, record: Record) -> None:
        if not self._empty_control and says_nothing(record):
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

    def open(self, context: SinkContext) -> MonitorSink:
        return MonitorSink(context)
