"""The ``har`` capture source: HTTP Archive files exported by browsers."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_sources(register: Callable[[Source | LazyComponent], None]) -> None:
    register(LazyComponent("ioproto_har.source:HarSource", name="har"))


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"HarSource": "source"}, globals())
