"""Application protocols declared with construct: the ``app`` layer.

A plugin declares its protocol as data and registers its decoders::

    from construct import Float32b, Int16ub, Struct
    import ioproto
    from ioproto_appproto import AppProtocol, EngineIOBinary, EventArg

    Move = Struct("seq" / Int16ub, "x" / Float32b, "y" / Float32b)
    GAME = AppProtocol(name="game", bindings=[EventArg(event="move", nsp="/game", format=Move)])

    @ioproto.hookimpl
    def register_decoders(register):
        for decoder in GAME.decoders():
            register(decoder)

    @ioproto.hookimpl
    def register_fields(register):
        for field in GAME.fields():   # game.move.x, game.move.seq, … for --filter
            register(field)

``ioproto decode --proto app`` then shows, after each bound Socket.IO EVENT, an
:class:`~ioproto_appproto.records.AppMessage` with the decoded ``fields``. See
docs/writing-a-plugin.md. This package registers only the ``app.*`` filter fields (hook in
:mod:`ioproto_appproto.hooks`); its public API is this
module (:class:`AppProtocol`, :class:`EventArg`, :class:`AckArg`, :class:`EngineIOBinary`,
:class:`AppMessage`, :func:`to_plain`) and :mod:`ioproto_appproto.records`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ioproto.lazy import lazy_names

if TYPE_CHECKING:
    from .bindings import AckArg, Binding, EngineIOBinary, EventArg
    from .convert import to_plain
    from .protocol import AppProtocol
    from .records import LAYER, AppMessage

#: Where each public name lives: loaded on first use (PEP 562), so that the plugin's hook
#: module (``ioproto_appproto.hooks``, loaded by every ioproto command) stays light.
_PUBLIC = {
    "AckArg": "bindings",
    "Binding": "bindings",
    "EngineIOBinary": "bindings",
    "EventArg": "bindings",
    "to_plain": "convert",
    "AppProtocol": "protocol",
    "LAYER": "records",
    "AppMessage": "records",
}


__getattr__ = lazy_names(__name__, _PUBLIC, globals())

__all__ = [
    "LAYER",
    "AckArg",
    "AppMessage",
    "AppProtocol",
    "Binding",
    "EngineIOBinary",
    "EventArg",
    "to_plain",
]
