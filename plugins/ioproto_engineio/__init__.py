"""Engine.IO decoder plugin: registers the ``engineio`` decoder layer (hookimpls only)."""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Decoder

from .decoder import EngineIODecoder


@ioproto.hookimpl
def register_decoders(register: Callable[[Decoder], None]) -> None:
    register(EngineIODecoder())
