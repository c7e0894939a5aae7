"""The ``text`` sink: one plain, readable line per record."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import SinkFactory
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_sinks(register: Callable[[SinkFactory | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_text.sink:TextSinkFactory", name="text"))


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"TextSinkFactory": "sink"}, globals())
