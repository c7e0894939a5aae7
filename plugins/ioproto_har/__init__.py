"""The ``har`` capture source: HTTP Archive files exported by browsers."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Source


@ioproto.hookimpl
def register_sources(register: Callable[[Source], None]) -> None:
    from .source import HarSource

    register(HarSource())
