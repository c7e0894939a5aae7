"""The browser's view: capture through the Chrome DevTools Protocol.

* The ``cdp`` source (``ioproto monitor cdp:HOST:PORT``) attaches to a running
  Chrome/Chromium and delivers what its pages send and receive on Engine.IO's HTTP requests
  and WebSockets, as chunks with the browser's times, live.
* ``ioproto browse URL`` starts a headless Chromium of its own on URL and runs that source.

docs/browser.md describes both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ioproto
from ioproto.cli.lazycommand import LazyCommand
from ioproto.components import Source
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent

if TYPE_CHECKING:
    import click


@ioproto.hookimpl
def register_sources(register: Callable[[Source | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_browser.source:CdpSource", name="cdp", prefixes=("cdp:",)))


@ioproto.hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(
        LazyCommand(
            "browse",
            "ioproto_browser.command:browse_command",
            summary=(
                "Open URL in a headless Chromium and show its Socket.IO traffic as the browser "
                "sees it."
            ),
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"CdpSource": "source"}, globals())
