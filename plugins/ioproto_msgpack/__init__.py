"""socket.io-msgpack-parser plugin: Socket.IO packets sent as msgpack maps.

Hook implementations only; the decoder is in :mod:`ioproto_msgpack.decoder`, the msgpack
conversion (notepack ext types) in :mod:`ioproto_msgpack.unpack`. The records are those of
:mod:`ioproto_socketio.records`. Needs the ``msgpack`` package.
"""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Decoder
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent


@ioproto.hookimpl
def register_decoders(register: Callable[[Decoder | LazyComponent], None]) -> None:
    register(
        LazyComponent(
            "ioproto_msgpack.decoder:MsgpackDecoder",
            name="socketio-msgpack",
            rides_on="engineio",
            layer="socketio",
        )
    )


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"MsgpackDecoder": "decoder"}, globals())
