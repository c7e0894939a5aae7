"""Example application-protocol plugin: a multiplayer game's binary protocol.

Registers the decoders of :data:`ioproto_example_game.protocol.GAME` (``app-game`` on the
``app`` layer, ``app-game-engineio`` on the ``socketio`` layer). Decode with
``ioproto decode --proto app capture.pcap``.
"""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Decoder

from .protocol import GAME


@ioproto.hookimpl
def register_decoders(register: Callable[[Decoder], None]) -> None:
    for decoder in GAME.decoders():
        register(decoder)
