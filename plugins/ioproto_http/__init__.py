"""The ``http`` layer: HTTP/1.x and WebSocket, decoded from TCP byte streams.

Public API: :mod:`.records` (the chunk records and their HTTP facts) and :mod:`.framing`
(HTTP/1.x head parsing and body framing, which the proxy's relay shares so that relay and
decoder agree on where messages end). Everything else is internal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ioproto
from ioproto.components import Decoder
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent

if TYPE_CHECKING:
    from ioproto.filters import Field


@ioproto.hookimpl
def register_decoders(register: Callable[[Decoder | LazyComponent], None]) -> None:
    register(
        LazyComponent(
            "ioproto_http.decoder:HttpDecoder", name="http", rides_on="tcp", layer="chunk"
        )
    )


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    """``http.*``, ``ws.*`` and ``chunk.*`` (see :mod:`.fields`)."""
    from .fields import FIELDS

    for field in FIELDS:
        register(field)


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"HttpDecoder": "decoder"}, globals())
