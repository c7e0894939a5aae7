"""A message a connection's end cuts short gets an error record saying what, and what cut it.

What cut it: the end of the capture (``capture.http.truncated``,
``capture.websocket.truncated``: not the peer's doing), or the sender's FIN, the
connection's close without one, a reset (RST), a new connection on the same ports (its SYN), the
source letting the connection go (idle, evicted) (``capture.http.invalid``,
``capture.websocket.invalid``). What: the bytes of an HTTP body (of how many), or the frames
of a fragmented WebSocket message held so far.
"""

from __future__ import annotations

import pcapbuild
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_http.decoder import HttpStream
from ioproto_pcap import capture
from ioproto_tcp.records import TcpClose, TcpData, TcpFin, TcpOpen
from pcaphelp import chunks, decode_frames, errors

from ioproto.components import DecodeContext
from ioproto.model import ErrorRecord, Record

POLL = "/socket.io/?EIO=4&transport=polling&sid=abc"
NAME = "10.0.0.1:51000-10.0.0.2:3000"


def _polling(body: bytes, sent: int) -> pcapbuild.Flow:
    """A polling GET whose response announces ``body`` and sends ``sent`` bytes of it."""
    flow = pcapbuild.Flow().handshake()
    flow.send(0, pcapbuild.http_request("GET", POLL))
    response = pcapbuild.http_response(200, body)
    return flow.send(1, response[: len(response) - len(body) + sent])


def _websocket(frames: list[bytes]) -> pcapbuild.Flow:
    """A WebSocket-only connection whose server sends ``frames``."""
    flow = pcapbuild.websocket_upgrade(pcapbuild.Flow().handshake())
    for frame in frames:
        flow.send(1, frame)
    return flow


FRAGMENTS = [
    pcapbuild.ws_frame(1, b'42["news","', fin=False),
    pcapbuild.ws_frame(0, b"lorem ipsum", fin=False),
]


def _cut(records: list[Record]) -> list[tuple[str, str | None, str]]:
    return [(e.rule, e.direction, e.reason) for e in errors(records)]


def _server_fin(flow: pcapbuild.Flow) -> pcapbuild.Flow:
    flow._packet(1, pcapbuild.FIN | pcapbuild.ACK)
    return flow


def test_a_body_cut_by_the_end_of_the_capture() -> None:
    records = decode_frames(pcapbuild.render(_polling(b"4hello world", 5).packets))
    assert _cut(records) == [
        (
            "capture.http.truncated",
            "s2c",
            "message cut short by the end of the capture (5 of the 12 bytes of a body)",
        )
    ]


def test_a_body_cut_by_the_servers_fin_says_so() -> None:
    flow = _server_fin(_polling(b"4hello world", 5))
    records = decode_frames(pcapbuild.render(flow.packets))
    assert _cut(records) == [
        (
            "capture.http.invalid",
            "s2c",
            "message cut short by the server closing its side of the connection (FIN) "
            "(5 of the 12 bytes of a body)",
        )
    ]


def test_a_body_of_which_nothing_came_is_reported_too() -> None:
    flow = _server_fin(_polling(b"4hello world", 0))
    [(_, _, reason)] = _cut(decode_frames(pcapbuild.render(flow.packets)))
    assert reason.endswith("(0 of the 12 bytes of a body)")


def test_an_unfinished_fragmented_message_at_the_end_of_the_capture() -> None:
    records = decode_frames(pcapbuild.render(_websocket(FRAGMENTS).packets))
    assert _cut(records) == [
        (
            "capture.websocket.truncated",
            "s2c",
            "message cut short by the end of the capture "
            "(22 bytes in 2 frames of a fragmented ws-text message)",
        )
    ]
    assert errors(records)[0].raw == b'42["news","'


def test_an_unfinished_fragmented_message_and_part_of_its_next_frame_cut_by_a_fin() -> None:
    partial = pcapbuild.ws_frame(0, b'dolor"]')[:5]
    flow = _server_fin(_websocket([*FRAGMENTS, partial]))
    assert _cut(decode_frames(pcapbuild.render(flow.packets))) == [
        (
            "capture.websocket.invalid",
            "s2c",
            "message cut short by the server closing its side of the connection (FIN) "
            "(22 bytes in 2 frames of a fragmented ws-text message and 5 bytes of its next "
            "frame)",
        )
    ]


def test_a_finished_connection_reports_nothing() -> None:
    flow = _websocket([*FRAGMENTS, pcapbuild.ws_frame(0, b'"]')]).close()
    records = decode_frames(pcapbuild.render(flow.packets))
    assert not errors(records)
    assert [c.data for c in chunks(records)] == [b'42["news","lorem ipsum"]']


def _tcp(flow: pcapbuild.Flow) -> list[Record]:
    """The ``tcp`` records of ``flow`` as a source gives them, without any end."""
    sides = {flow.client[1]: 0, flow.server[1]: 1}
    out: list[Record] = [
        TcpOpen(ts=1.0, connection=NAME, endpoints=("10.0.0.1:51000", "10.0.0.2:3000"), client=0)
    ]
    out += [
        TcpData(ts=1.0, connection=NAME, side=sides[p.sport], data=p.payload)
        for p in flow.packets
        if p.payload
    ]
    return out


def _http(records: list[Record]) -> list[ErrorRecord]:
    stream = HttpStream(DecodeContext(options={"all_http": "true"}))
    out = [r for record in records for r in stream.feed(record)]
    out += stream.close()
    return errors(out)


@pytest.mark.parametrize(
    ("reason", "cause", "rule"),
    [
        ("closed", "the connection closing without a FIN from this side", "invalid"),
        ("reset", "a reset of the connection (RST)", "invalid"),
        ("idle", "the connection being let go after idle_timeout without traffic", "invalid"),
        ("evicted", "the connection being evicted (over max_connections)", "invalid"),
        ("reused", "a new connection on the same ports (its SYN)", "invalid"),
        ("input ended", "the end of the capture", "truncated"),
        ("new reason", "the connection ending (new reason)", "invalid"),
    ],
)
def test_each_end_of_a_connection_is_named(reason: str, cause: str, rule: str) -> None:
    for flow, layer, what in (
        (_polling(b"4hello world", 5), "http", "5 of the 12 bytes of a body"),
        (
            _websocket(FRAGMENTS),
            "websocket",
            "22 bytes in 2 frames of a fragmented ws-text message",
        ),
    ):
        records = [*_tcp(flow), TcpClose(ts=2.0, connection=NAME, reason=reason)]
        assert [(e.rule, e.reason) for e in _http(records)] == [
            (f"capture.{layer}.{rule}", f"message cut short by {cause} ({what})")
        ]


def test_an_end_of_input_after_the_senders_fin_blames_the_fin() -> None:
    records = [*_tcp(_polling(b"4hello world", 5)), TcpFin(ts=2.0, connection=NAME, side=1)]
    [error] = _http(records)  # no TcpClose: the input ended with the connection open
    assert error.rule == "capture.http.invalid"
    assert "the server closing its side of the connection (FIN)" in error.reason


def test_the_oldest_connection_evicted_by_the_http_layer_is_named() -> None:
    stream = HttpStream(DecodeContext(options={"all_http": "true", "max_connections": 1}))
    out = [r for record in _tcp(_polling(b"4hello world", 5)) for r in stream.feed(record)]
    other = "10.0.0.3:51000-10.0.0.2:3000"
    out += stream.feed(
        TcpOpen(ts=3.0, connection=other, endpoints=("10.0.0.3:51000", "10.0.0.2:3000"))
    )
    assert [(e.rule, e.reason) for e in errors(out)] == [
        (
            "capture.http.invalid",
            "message cut short by the connection being evicted (over max_connections) "
            "(5 of the 12 bytes of a body)",
        )
    ]


def test_a_message_lost_at_a_bad_frame_is_not_reported_again() -> None:
    flow = _server_fin(_websocket([*FRAGMENTS, b"\x83\x00"]))  # opcode 3: reserved
    [error] = errors(decode_frames(pcapbuild.render(flow.packets)))
    assert error.rule == "capture.websocket.invalid"
    assert error.reason.startswith(
        "unknown opcode 0x3; the fragmented message in progress is lost; the frames after it"
    )


def test_the_client_fin_names_the_client() -> None:
    flow = pcapbuild.Flow().handshake()
    request = pcapbuild.http_request("POST", POLL, b"4hello world")
    flow.send(0, request[:-5])
    records = [*_tcp(flow), TcpFin(ts=2.0, connection=NAME, side=0)]
    [error] = _http([*records, TcpClose(ts=2.0, connection=NAME, reason="closed")])
    assert error.direction == "c2s"
    assert error.reason.startswith("message cut short by the client closing its side")


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 40), st.integers(1, 200), st.booleans())
def test_a_fragmented_message_is_decoded_or_reported(mss: int, keep: int, fin: bool) -> None:
    """Whatever segment the capture stops at, the server's message is a chunk or a
    record naming the cut: never nothing."""
    frames = [pcapbuild.ws_frame(1, b'42["a",', fin=False)]
    frames += [pcapbuild.ws_frame(0, b"%d," % n, fin=False) for n in range(5)]
    frames.append(pcapbuild.ws_frame(0, b"5]"))
    flow = pcapbuild.websocket_upgrade(pcapbuild.Flow().handshake())
    upgrade = len(flow.packets)
    flow.send(1, b"".join(frames), mss)
    flow.packets = flow.packets[: upgrade + keep]
    last = flow.packets[-1]
    flow.seq[1] = last.seq + len(last.payload)  # the FIN follows the last segment kept
    if fin:
        _server_fin(flow)
    records = decode_frames(pcapbuild.render(flow.packets))
    messages = [c.data for c in chunks(records) if c.direction == "s2c"]
    cut = [e for e in errors(records) if e.direction == "s2c"]
    if messages:
        assert messages == [b'42["a",0,1,2,3,4,5]'] and not cut
    else:
        rule = "capture.websocket.invalid" if fin else "capture.websocket.truncated"
        assert [e.rule for e in cut] == [rule]
        assert ("(FIN)" if fin else "the end of the capture") in cut[0].reason


def _capture_end(later: pcapbuild.Flow, options: dict[str, object]) -> list[str]:
    """The reasons of the errors when a capture holds a body cut short, then ``later``."""
    first = _polling(b"4hello world", 5)
    later.ts = first.ts + 30
    frames = pcapbuild.render([*first.packets, *later.handshake().packets])
    return [e.reason for e in errors(decode_frames(frames, options))]


@pytest.mark.parametrize(
    ("client", "options", "cause"),
    [
        # a new SYN on the same ports: the pcap reader ends the first connection
        (("10.0.0.1", 51000), {}, "a new connection on the same ports (its SYN)"),
        (
            ("10.0.0.3", 51000),
            {"idle_timeout": 10},
            "the connection being let go after idle_timeout without traffic",
        ),
        (
            ("10.0.0.3", 51000),
            {"max_connections": 1},
            "the connection being evicted (over max_connections)",
        ),
    ],
)
def test_the_pcap_reader_names_each_end_it_decides(
    client: tuple[str, int],
    options: dict[str, object],
    cause: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, a connection whose ports a new SYN reused was said to be cut by a reset."""
    monkeypatch.setattr(capture, "SWEEP_EVERY", 2)  # look for idle connections at once
    later = pcapbuild.Flow(client=client, isn=(90_000, 70_000))
    assert _capture_end(later, options) == [
        f"message cut short by {cause} (5 of the 12 bytes of a body)"
    ]


@pytest.mark.parametrize("side", [0, 1])
def test_the_pcap_reader_names_a_reset(side: int) -> None:
    """Either peer's RST cuts the body: before, the pcap reader's close said ``closed`` and
    the message was said to be cut by 'the connection closing without a FIN from this side';
    a late retransmission after the RST is still dropped, not a new connection."""
    flow = _polling(b"4hello world", 5)
    late = flow.packets[-1]
    flow._packet(side, pcapbuild.RST | pcapbuild.ACK)
    records = decode_frames(pcapbuild.render([*flow.packets, late]))
    assert _cut(records) == [
        (
            "capture.http.invalid",
            "s2c",
            "message cut short by a reset of the connection (RST) (5 of the 12 bytes of a body)",
        )
    ]
