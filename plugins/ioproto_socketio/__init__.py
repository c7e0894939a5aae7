"""Socket.IO decoder plugin: Engine.IO messages → Socket.IO packets (protocols 4 and 5).

Hook implementations only; the decoder is in :mod:`ioproto_socketio.decoder`, the wire format
in :mod:`ioproto_socketio.wire`, the records in :mod:`ioproto_socketio.records`, the filter
fields in :mod:`ioproto_socketio.fields`.
"""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Decoder
from ioproto.filters import Field
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_decoders(register: Callable[[Decoder | LazyComponent], None]) -> None:
    register(
        LazyComponent(
            "ioproto_socketio.decoder:SocketIODecoder",
            name="socketio",
            rides_on="engineio",
            layer=None,
        )
    )


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    from .fields import FIELDS

    for field in FIELDS:
        register(field)


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"SocketIODecoder": "decoder", "FIELDS": "fields"}, globals())
