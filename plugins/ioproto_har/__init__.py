"""The ``har`` capture source: HTTP Archive files exported by browsers."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source
from ioproto.lazy import lazy_names


@ioproto.hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    from .source import HarSource

    register(HarSource())


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"HarSource": "source"}, globals())
