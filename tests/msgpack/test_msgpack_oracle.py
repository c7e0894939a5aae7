"""Differential tests against socket.io-msgpack-parser 3.0.2 (tests/node/msgpack_oracle.js).

* Packets encoded by the npm package's own Encoder (notepack.io 2.2: Buffers, ArrayBuffers,
  typed arrays, Dates and undefined included) decode here to what its Decoder gives.
* On maps and mutated encodings, we accept exactly what its Decoder accepts (except the
  documented leniency: python-socketio's ``nsp: nil``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mphelp import feed_one, structure

from ioproto.jsonform import from_jsonable, to_jsonable
from ioproto.model import ErrorRecord
from ioproto.testing.oracle import OracleProcess
from ioproto.testing.strategies import json_values, mutated

pytestmark = pytest.mark.node

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


class MsgpackOracle(OracleProcess):
    """One ``node tests/node/msgpack_oracle.js`` process."""

    def __init__(self) -> None:
        super().__init__(["node", str(NODE_DIR / "msgpack_oracle.js")], cwd=NODE_DIR)

    def encode(self, packet: Any) -> bytes:
        return bytes.fromhex(self.ask({"op": "encode", "packet": packet})["hex"])

    def decode(self, data: bytes) -> dict[str, Any]:
        return self.ask({"op": "decode", "hex": data.hex()})


@pytest.fixture(scope="module")
def oracle() -> Iterator[MsgpackOracle]:
    node = MsgpackOracle()
    try:
        yield node
    finally:
        node.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# JS-side values: JSON plus tagged Buffers, ArrayBuffers, typed arrays, Dates, undefined.
js_leaves = st.one_of(
    json_values(max_leaves=3),
    st.binary(max_size=12).map(lambda b: {"$bytes": b64(b)}),
    st.binary(max_size=20).map(lambda b: {"$arraybuffer": b64(b)}),
    st.binary(max_size=9).map(lambda b: {"$uint8": b64(b)}),
    st.integers(-(10**13), 10**13).map(lambda ms: {"$date": ms}),
    st.just({"$undefined": True}),
)
js_values = st.recursive(
    js_leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.text(min_size=1, max_size=6).filter(lambda k: k[0] != "$"), children, max_size=3
        ),
    ),
    max_leaves=8,
)


@st.composite
def js_packets(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([0, 1, 2, 2, 3, 3, 4]))
    packet: dict[str, Any] = {"type": kind, "nsp": draw(st.sampled_from(["/", "/chat"]))}
    if kind == 0 and draw(st.booleans()):
        packet["data"] = draw(
            st.dictionaries(
                st.text(min_size=1, max_size=5).filter(lambda k: k[0] != "$"), js_values, max_size=3
            )
        )
    elif kind == 2:
        packet["data"] = [
            draw(st.text(min_size=1, max_size=8)),
            *draw(st.lists(js_values, max_size=4)),
        ]
    elif kind == 3:
        packet["data"] = draw(st.lists(js_values, max_size=4))
    elif kind == 4:
        packet["data"] = draw(st.one_of(st.text(max_size=10), st.just({"message": "no"})))
    if kind in (2, 3):
        ack = draw(st.one_of(st.none(), st.integers(0, 2**31), st.just("undefined")))
        if ack == "undefined":
            packet["id"] = {"$undefined": True}
        elif ack is not None:
            packet["id"] = ack
    return packet


def ours(data: bytes) -> dict[str, Any] | None:
    records = [r for r in feed_one(data) if r.type != "UNANSWERED_ACK"]
    assert len(records) == 1
    record = records[0]
    return None if isinstance(record, ErrorRecord) else structure(record)


def theirs(answer: dict[str, Any]) -> dict[str, Any] | None:
    packet = answer["packet"]
    if packet is None:
        return None
    return to_jsonable(
        {
            "type": packet["type"],
            "nsp": packet["nsp"],
            "id": packet.get("id"),
            "data": from_jsonable(packet.get("data")),
        }
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(js_packets())
def test_npm_encoder_output_decodes_the_same(oracle: MsgpackOracle, packet: dict[str, Any]) -> None:
    data = oracle.encode(packet)
    expected = theirs(oracle.decode(data))
    assert expected is not None
    assert ours(data) == expected


def test_known_encodings(oracle: MsgpackOracle) -> None:
    data = oracle.encode(
        {
            "type": 2,
            "nsp": "/",
            "data": ["a", {"$date": 0}, {"$undefined": True}, {"$arraybuffer": b64(b"\x00")}],
            "id": {"$undefined": True},
        }
    )
    assert bytes.fromhex("d7000000000000000000") in data and data.endswith(bytes.fromhex("d40000"))
    assert ours(data) == {
        "type": 2,
        "nsp": "/",
        "id": None,
        "data": ["a", "1970-01-01T00:00:00.000Z", None, {"$bytes": "AA=="}],
    }


maps = st.dictionaries(
    st.sampled_from(["type", "nsp", "data", "id", "x"]),
    st.one_of(
        st.integers(-1, 8),
        st.text(max_size=3),
        st.lists(st.integers(-(2**31), 2**31), max_size=2),
        st.dictionaries(st.text(max_size=2), st.integers(-9, 9), max_size=2),
        st.floats(0, 5),
        st.booleans(),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(maps.map(msgpack.packb), maps.flatmap(lambda m: mutated(msgpack.packb(m)))))
def test_accepts_exactly_what_the_npm_decoder_accepts(oracle: MsgpackOracle, data: bytes) -> None:
    expected = theirs(oracle.decode(data))
    got = ours(data)
    assert (got is None) == (expected is None), (data.hex(), got, expected)
    if got is not None:
        assert got == expected
