"""The ``live`` capture source: tcpdump on an interface, decoded as packets arrive."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_sources(register: Callable[[Source | LazyComponent], None]) -> None:
    register(
        LazyComponent("ioproto_live.source:LiveSource", name="live", prefixes=("live:", "iface:"))
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"LiveSource": "source"}, globals())
