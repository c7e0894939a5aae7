"""The ``appproto`` plugin: the ``app.*`` filter fields every application message has."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.filters import Field

from .fields import FIELDS


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    for field in FIELDS:
        register(field)
