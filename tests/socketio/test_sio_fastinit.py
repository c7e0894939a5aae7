"""The positional record constructor builds exactly what attrs' __init__ builds."""

from __future__ import annotations

import attrs
import pytest
from ioproto_socketio.acks import PACKET_FIELDS, _make_packet
from ioproto_socketio.records import SocketIOPacket

from ioproto.fastrecords import positional_maker
from ioproto.model import Packet


def test_same_as_attrs_init() -> None:
    parent = Packet(layer="engineio", type="message", ts=1.0)
    values = (
        1.5, "c", "s2c", "S", "polling", parent, "EVENT", ["e", b"x"], 5, b"raw",
        ("lenient:x",), 5, "/n", 7, "e", [b"x"], 1, "q=1", None, (parent,),
    )  # fmt: skip
    fast = _make_packet(*values)
    slow = SocketIOPacket(**dict(zip(PACKET_FIELDS, values, strict=True)))
    for field in attrs.fields(SocketIOPacket):
        assert getattr(fast, field.name) == getattr(slow, field.name), field.name
    assert fast == slow and type(fast) is SocketIOPacket
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.nsp = "/other"  # type: ignore[misc]


def test_defaults_and_factories() -> None:
    make = positional_maker(SocketIOPacket, ("ts",))
    first, second = make(1.0), make(2.0)
    assert first == SocketIOPacket(ts=1.0)
    assert first.args == [] and first.args is not second.args


def test_refuses_what_it_cannot_build() -> None:
    with pytest.raises(TypeError):
        positional_maker(SocketIOPacket, ("nope",))
    with pytest.raises(TypeError):
        positional_maker(SocketIOPacket, ("nsp",))  # ts is mandatory
