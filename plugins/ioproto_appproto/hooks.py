"""The ``appproto`` plugin: the ``app.*`` filter fields every application message has."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.filters import Field


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    from .fields import FIELDS

    for field in FIELDS:
        register(field)
