"""The record of the ``app`` layer. Public: sinks and other plugins may import it.

An :class:`AppMessage` is one application message decoded by an application-protocol
plugin (see :mod:`ioproto_appproto`): the binary argument of a Socket.IO event, or a binary
Engine.IO message, parsed with a construct declaration.

``type`` is ``"<protocol>.<message>"`` (e.g. ``"game.move"``); ``protocol`` and ``message``
are the two parts. ``fields`` is the parsed value as plain JSON-able data: construct
containers become dicts (without ``_io`` or other ``_``-prefixed keys), lists stay lists,
enum values become their names, bytes stay bytes. ``nsp``/``event``/``arg`` say where it came
from for a Socket.IO binding (``None`` for an Engine.IO binding). ``raw`` is the parsed bytes;
``parent`` is the :class:`~ioproto_socketio.records.SocketIOPacket` (or Engine.IO packet) it
was decoded from. ``data`` is not used (``None``).
"""

from __future__ import annotations

from typing import Any

import attrs

from ioproto.model import Packet

LAYER = "app"


@attrs.frozen(slots=True, kw_only=True)
class AppMessage(Packet):
    """One decoded application message."""

    layer: str = LAYER
    protocol: str = ""
    message: str = ""
    nsp: str | None = None
    event: str | None = None
    arg: int | None = None
    fields: Any = None
