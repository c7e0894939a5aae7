"""The ``pcap`` capture source: pcap/pcapng files → HTTP and WebSocket chunks; and the
filter fields of that layer (``tcp.*``, ``ip.*``, ``http.*``, ``ws.*``, ``chunk.*``)."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source
from ioproto.filters import Field

from .fields import FIELDS
from .source import PcapSource


@ioproto.hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    register(PcapSource())


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    for field in FIELDS:
        register(field)
