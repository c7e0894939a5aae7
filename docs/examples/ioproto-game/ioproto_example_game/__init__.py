"""Example application-protocol plugin: a multiplayer game's binary protocol.

Registers the decoders of :data:`ioproto_example_game.protocol.GAME` (``app-game`` on the
``app`` layer, ``app-game-engineio`` on the ``socketio`` layer) and its filter fields
(``game.move``, ``game.move-ack``, ``game.state``, ``game.telemetry``). Decode with
``ioproto decode --proto app capture.pcap``; filter with ``--filter 'game.move.speed > 5'``.
"""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Decoder
from ioproto.filters import Field

from .protocol import GAME


@ioproto.hookimpl
def register_decoders(register: Callable[[Decoder], None]) -> None:
    for decoder in GAME.decoders():
        register(decoder)


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    for field in GAME.fields():
        register(field)
