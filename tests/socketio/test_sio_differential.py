"""Differential tests against the reference encoders/decoders.

* socket.io-parser 4.2.7 (protocol 5) and socket.io-parser 3.4.5 (protocol 4) in node, through
  ``tests/node/sio_oracle.js`` (one node process per test);
* python-socketio's ``socketio.packet.Packet``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from siohelp import NodeOracle, decode, errors, packets
from siostrategies import (
    NAMES,
    binary_count,
    event_names,
    names,
    namespaces,
    scalars,
    values,
    without_binary,
)
from socketio import packet as pysio

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# JS numbers are doubles: keep integers exact there; "__proto__" is special in JS objects.
js_names = names.filter(lambda key: key != "__proto__")
js_values = values(scalars(2**53), js_names, 10)
js_binary_values = values(scalars(2**53) | st.binary(max_size=8), js_names, 10)
js_namespaces = namespaces


@st.composite
def js_packets(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([0, 1, 2, 3, 4]))
    nsp = draw(js_namespaces)
    ack_id = draw(st.none() | st.integers(0, 2**53)) if kind in (2, 3) else None
    if kind == 0:
        data = draw(st.none() | st.dictionaries(js_names, js_values, max_size=3))
    elif kind == 1:
        data = None
    elif kind == 2:
        name = draw(event_names.filter(lambda n: not isinstance(n, int) or abs(n) < 2**53))
        data = [name, *draw(st.lists(js_binary_values, max_size=4))]
    elif kind == 3:
        data = draw(st.lists(js_binary_values, max_size=4))
    else:
        data = draw(st.text(max_size=10) | st.dictionaries(js_names, js_values, max_size=3))
    if binary_count(data) > 10:  # the default limits.max_attachments
        data = without_binary(data)
    return {"type": kind, "nsp": nsp, "id": ack_id, "data": data}


def check_decoded(
    parts: list[str | bytes], packet: dict[str, Any], revision: int, *, js: bool = True
) -> None:
    """Our decoding of ``parts`` is ``packet`` (numbers compared as JS doubles if ``js``)."""
    records = decode(parts, revision=revision, close=False)
    assert not errors(records), (parts, records)
    (record,) = packets(records)
    name = NAMES[packet["type"]]
    if revision == 3:
        name = name.replace("CONNECT_ERROR", "ERROR")
    assert record.type == name
    assert (record.nsp, record.id) == (packet["nsp"], packet["id"])
    if js:
        assert _normalise(record.data) == _normalise(packet["data"])
    else:
        assert record.data == packet["data"]
    assert record.attachments == len(parts) - 1


@pytest.mark.node
@SETTINGS
@given(js_packets())
def test_socket_io_parser_v5_encodes_what_we_decode(
    oracle: NodeOracle, packet: dict[str, Any]
) -> None:
    parts = oracle.encode(5, packet)
    check_decoded(parts, packet, revision=4)


@pytest.mark.node
@SETTINGS
@given(js_packets())
def test_socket_io_parser_v4_encodes_what_we_decode(
    oracle: NodeOracle, packet: dict[str, Any]
) -> None:
    parts = oracle.encode(4, packet)
    check_decoded(parts, packet, revision=3)


# -- the decoders agree on what they accept ---------------------------------------------------

# no white space: JS's Number(" ") === 0 makes spaces act as type 0 / ack-id digits (noted)
decode_alphabet = st.sampled_from([*'0123456789-/,[]{}":abtrunl\\', "\u00e9"])
candidate_texts = st.one_of(
    st.text(alphabet=decode_alphabet, max_size=16),
    st.sampled_from(
        [
            "",
            "2",
            "3",
            "2123",
            "51-",
            "0/admin",
            '2["connect"]',
            "0null",
            "0[]",
            '4"x"',
            "4[]",
            '2[1,"a"]',
            "2/a,1[]",
            '6-["a"]',
            '50-["a"]',
        ]
    ),
)


def _normalise(value: Any) -> Any:
    """Numbers as floats (JS has no ints); containers recursively."""
    if isinstance(value, bool) or value is None or isinstance(value, str | bytes):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    return value


@pytest.mark.node
@SETTINGS
@given(candidate_texts, st.sampled_from([(5, 4), (4, 3)]))
def test_decoders_agree_on_acceptance(
    oracle: NodeOracle, text: str, versions: tuple[int, int]
) -> None:
    js_version, eio_revision = versions
    js = oracle.decode(js_version, [text])
    js_packets_ = js["packets"]
    if js_version == 4 and js_packets_ and str(js_packets_[0]["data"]).startswith("parser error"):
        js = {"packets": [], "error": js_packets_[0]["data"]}
    ours = decode([text], revision=eio_revision, close=False)
    if js["error"] is not None:
        assert errors(ours), (text, js, ours)
        return
    if not js["packets"]:  # a binary header waiting for attachments
        assert ours == [], (text, ours)
        return
    assert not errors(ours), (text, js, ours)
    (record,) = packets(ours)
    (expected,) = js["packets"]
    assert record.wire_type == expected["type"] or (js_version == 5 and expected["type"] in (2, 3))
    assert record.nsp == expected["nsp"]
    assert _normalise(record.id) == _normalise(expected["id"])
    assert _normalise(record.data) == _normalise(expected["data"])


# -- python-socketio --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(js_packets())
def test_python_socketio_encodes_what_we_decode(packet: dict[str, Any]) -> None:
    encoded = pysio.Packet(
        packet_type=packet["type"],
        data=packet["data"],
        namespace=packet["nsp"],
        id=packet["id"],
    ).encode()
    parts = encoded if isinstance(encoded, list) else [encoded]
    check_decoded(parts, packet, revision=4, js=False)


@settings(max_examples=200, deadline=None)
@given(candidate_texts)
def test_python_socketio_decodes_what_we_accept(text: str) -> None:
    """Where we decode a text packet without notes, python-socketio gets the same."""
    records = decode([text], close=False)
    found = packets(records)
    if not found or found[0].notes or found[0].attachments:
        return
    (record,) = found
    theirs = pysio.Packet(encoded_packet=text)
    assert theirs.packet_type == record.wire_type
    assert (theirs.namespace or "/") == record.nsp
    assert theirs.id == record.id
    assert theirs.data == record.data
