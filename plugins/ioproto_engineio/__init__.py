"""Engine.IO decoder plugin: registers the ``engineio`` decoder layer and its filter
fields (hookimpls only)."""

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
            "ioproto_engineio.decoder:EngineIODecoder",
            name="engineio",
            rides_on="chunk",
            layer=None,
        )
    )


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    from .fields import FIELDS

    for field in FIELDS:
        register(field)


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(__name__, {"EngineIODecoder": "decoder", "FIELDS": "fields"}, globals())
