"""The ``jsonl`` sink: one JSON object per record, the public format of docs/formats.md."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import SinkFactory
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_jsonl.sink:JsonlSinkFactory", name="jsonl"))


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"JsonlSinkFactory": "sink"}, globals())
