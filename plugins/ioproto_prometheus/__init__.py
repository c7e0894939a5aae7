"""The ``prometheus`` sink: Socket.IO health as Prometheus metrics (hookimpls only)."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import SinkFactory


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory], None]) -> None:
    from .sink import PrometheusSinkFactory

    register(PrometheusSinkFactory())
