"""In-process taps and their collector.

* :func:`instrument` (``ioproto_tap.instrument(sio)``) instruments a python-socketio or
  python-engineio server, sync or asyncio: every Engine.IO packet it receives and sends goes
  to a collector (``ioproto collect``) or straight into a pipeline of sinks.
* The ``collect`` source and the ``ioproto collect`` command receive tap streams (from this
  module, or from the Node package ``ioproto-tap`` in taps/node) and decode them like a
  capture.

docs/taps.md describes both and the stream format between them (:mod:`.wire`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ioproto
from ioproto.cli.lazycommand import LazyCommand
from ioproto.components import Source
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent

if TYPE_CHECKING:
    import click

    from .api import Tap

__all__ = ["collector_address", "instrument"]


def instrument(server: Any, **options: Any) -> Tap:
    """Instrument ``server``; see :func:`ioproto_tap.api.instrument`."""
    from .api import instrument as _instrument

    return _instrument(server, **options)


def collector_address(collector: str | None = None) -> str:
    """Where a tap sends; see :func:`ioproto_tap.api.collector_address`."""
    from .api import collector_address as _collector_address

    return _collector_address(collector)


@ioproto.hookimpl
def register_sources(register: Callable[[Source | LazyComponent], None]) -> None:
    register(
        LazyComponent("ioproto_tap.source:CollectSource", name="collect", prefixes=("collect:",))
    )


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "collect",
            "ioproto_tap.command:collect_command",
            summary=(
                "Receive the packets that in-process taps report and decode them like a capture."
            ),
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"CollectSource": "source"}, globals())
