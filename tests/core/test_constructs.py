"""ioproto.constructs.parse: construct's result without a cycle that keeps the input."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest
from construct import Byte, Const, ConstructError, GreedyBytes, If, Struct, this

from ioproto.constructs import parse

PACKET = Struct(
    "kind" / Byte,
    "extra" / If(this.kind == 1, Const(b"-")),
    "payload" / GreedyBytes,
)
BIG = 1 << 20


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _garbage_bytes() -> int:
    """Bytes held by objects only a cycle keeps alive (collected here, counted first)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        held = {id(item): item for item in gc.garbage}
        for item in gc.garbage:
            held.update((id(referent), referent) for referent in gc.get_referents(item))
        return sum(sys.getsizeof(item) for item in held.values())
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def test_same_result_as_construct() -> None:
    data = b"\x02" + b"x" * 10
    assert parse(PACKET, data) == PACKET.parse(data)


def test_construct_itself_leaves_a_cycle(collector_off: None) -> None:
    PACKET.parse(b"\x02" + b"x" * BIG)
    assert _garbage_bytes() > BIG


def test_no_cycle_holds_the_input(collector_off: None) -> None:
    parse(PACKET, b"\x02" + b"x" * BIG)
    assert _garbage_bytes() < BIG // 10


def test_no_cycle_holds_the_input_after_an_error(collector_off: None) -> None:
    with pytest.raises(ConstructError):
        parse(PACKET, b"\x01+" + b"x" * BIG)
    assert _garbage_bytes() < BIG // 10
