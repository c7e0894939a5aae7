"""The ``pcap`` capture source: pcap/pcapng files → reassembled TCP byte streams."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source

from .source import PcapSource


@ioproto.hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    register(PcapSource())
