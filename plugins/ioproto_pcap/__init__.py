"""The ``pcap`` capture source: pcap/pcapng files → reassembled TCP byte streams."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source
from ioproto.lazy import lazy_names


@ioproto.hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    from .source import PcapSource

    register(PcapSource())


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"PcapSource": "source"}, globals())
