"""The ``live`` capture source: tcpdump on an interface, decoded as packets arrive."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source


@ioproto.hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    from .source import LiveSource

    register(LiveSource())
