"""The ``tcp`` layer: reassembled TCP byte streams. Its records (:mod:`.records`) are public.

No decoder produces this layer: capture sources do (the ``pcap`` and ``live`` sources from
packets, the ``proxy`` from the bytes it relays), and the ``http`` layer rides on it. The
plugin registers the layer's filter fields (``tcp.*``, ``ip.*``, :mod:`.fields`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ioproto

if TYPE_CHECKING:
    from ioproto.filters import Field


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    from .fields import FIELDS

    for field in FIELDS:
        register(field)
