"""The ``pcap`` capture source: pcap/pcapng files → reassembled TCP byte streams."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source


@ioproto.hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    from .source import PcapSource

    register(PcapSource())
