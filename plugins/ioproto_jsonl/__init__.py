"""The ``jsonl`` sink: one JSON object per record, the public format of docs/formats.md."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import SinkFactory


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory], None]) -> None:
    from .sink import JsonlSinkFactory

    register(JsonlSinkFactory())
