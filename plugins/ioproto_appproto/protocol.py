"""An application protocol: a name and its bindings, and the decoders they make.

An :class:`AppProtocol` is data; a plugin registers ``protocol.decoders()`` from its
``register_decoders`` hook and ``protocol.fields()`` from its ``register_fields`` hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .bindings import AckArg, Binding, EngineIOBinary, EventArg, as_bindings, name_check
from .decoder import EngineIODecoder, EventDecoder

if TYPE_CHECKING:
    from ioproto.filters import Field


@attrs.frozen(slots=True)
class AppProtocol:
    """An application protocol: ``name`` (the ``protocol`` of its records, and the middle of
    its error rules ``app.<name>.*``) and its ``bindings``."""

    name: str = attrs.field(validator=name_check)
    bindings: tuple[Binding, ...] = attrs.field(converter=as_bindings)
    description: str = ""

    def decoder(self) -> EventDecoder:
        """The ``app`` layer decoder for the :class:`EventArg` and :class:`AckArg` bindings."""
        return EventDecoder(self.name, self.description, self.bindings)

    def engineio_decoder(self) -> EngineIODecoder:
        """The decoder for the :class:`EngineIOBinary` bindings (it sits in the ``socketio``
        layer, ahead of the Socket.IO parsers, and claims only the messages it binds)."""
        return EngineIODecoder(self.name, self.bindings)

    def fields(self) -> list[Field]:
        """One filter field per message, ``<name>.<message>`` (``game.move``): register
        each from the plugin's ``register_fields`` hook."""
        from .fields import message_field

        seen: dict[str, Field] = {}
        for binding in self.bindings:
            seen.setdefault(binding.name, message_field(self.name, binding.name, binding.format))
        return list(seen.values())

    def decoders(self) -> list[EventDecoder | EngineIODecoder]:
        """Every decoder this protocol needs: register each of them."""
        out: list[EventDecoder | EngineIODecoder] = []
        if any(isinstance(b, EventArg | AckArg) for b in self.bindings):
            out.append(self.decoder())
        if any(isinstance(b, EngineIOBinary) for b in self.bindings):
            out.append(self.engineio_decoder())
        return out
