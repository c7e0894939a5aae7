"""A request its connection's end leaves without an answer: the HTTP layer's ``http-unanswered``.

When the peers end a connection (both FINs, a reset, a new connection on the same ports)
while a request some decoder wants waits for its response, the layer says so with an
:class:`~ioproto_http.records.UnansweredRequest` carrying the request's URL and time (a long
poll cut off because its client or server went away). Not when the capture, or the source,
let the connection go, nor for a WebSocket upgrade request or a request no decoder wants. The
Engine.IO side (the session's ``transport-close``) is in tests/engineio/test_eio_poll_cut.py;
real peers in tests/insight/test_session_ends.py.
"""

from __future__ import annotations

import pcapbuild
import pytest
from ioproto_http.records import Chunk, UnansweredRequest
from pcaphelp import decode_frames

from ioproto.model import Record

POLL = "/socket.io/?EIO=4&transport=polling&sid=abc"


def _waiting(target: str = POLL, method: str = "GET", body: bytes = b"") -> pcapbuild.Flow:
    flow = pcapbuild.Flow().handshake()
    return flow.send(0, pcapbuild.http_request(method, target, body))


def _unanswered(records: list[Record]) -> list[UnansweredRequest]:
    return [r for r in records if isinstance(r, UnansweredRequest)]


def _reset(flow: pcapbuild.Flow, side: int) -> pcapbuild.Flow:
    flow._packet(side, pcapbuild.RST)
    return flow


def test_a_poll_cut_off_by_the_clients_fin() -> None:
    flow = _waiting()
    start = flow.packets[-1].ts
    records = decode_frames(pcapbuild.render(flow.close().packets))
    (cut,) = _unanswered(records)
    assert (cut.type, cut.layer, cut.direction) == ("http-unanswered", "chunk", "c2s")
    assert cut.reason == "the connection closed (FIN)"
    assert cut.connection == "10.0.0.1:51000-10.0.0.2:3000"
    assert cut.http is not None and (cut.http.method, cut.http.target) == ("GET", POLL)
    assert cut.http.query_value("sid") == "abc"
    assert cut.request_ts == pytest.approx(start) and cut.ts > cut.request_ts
    assert cut.sid is None  # the HTTP layer knows no sessions


@pytest.mark.parametrize("side", [0, 1])
def test_a_reset_from_either_side(side: int) -> None:
    records = decode_frames(pcapbuild.render(_reset(_waiting(), side).packets))
    (cut,) = _unanswered(records)
    assert cut.reason == "the connection was reset (RST)"


def test_a_post_left_unanswered() -> None:
    flow = _waiting(method="POST", body=b'42["chat"]')
    records = decode_frames(pcapbuild.render(flow.close().packets))
    (cut,) = _unanswered(records)
    assert cut.http is not None and cut.http.method == "POST"
    # the request's body was whole: it is decoded as ever, before the cut
    (body,) = [r for r in records if isinstance(r, Chunk)]
    assert body.data == b'42["chat"]' and records.index(body) < records.index(cut)


def test_answered_requests_are_not_unanswered() -> None:
    flow = _waiting().send(1, pcapbuild.http_response(200, b"6")).close()
    assert _unanswered(decode_frames(pcapbuild.render(flow.packets))) == []


def test_only_the_requests_still_waiting_of_a_keep_alive_connection() -> None:
    flow = _waiting(POLL + "&n=1").send(1, pcapbuild.http_response(200, b"6"))
    flow.send(0, pcapbuild.http_request("GET", POLL + "&n=2"))
    (cut,) = _unanswered(decode_frames(pcapbuild.render(flow.close().packets)))
    assert cut.http is not None and cut.http.query_value("n") == "2"


def test_nothing_when_the_capture_ends_with_the_request_waiting() -> None:
    """The end of a capture says nothing of the connection: the poll may well be answered."""
    assert _unanswered(decode_frames(pcapbuild.render(_waiting().packets))) == []


def test_only_what_a_layer_above_takes() -> None:
    """The Engine.IO layer takes those of a session (a sid in the URL): a handshake left
    unanswered (an upstream that never answers) ends no session and is not made, unless
    ``all_http`` asks for every HTTP message."""
    handshake = _waiting("/socket.io/?EIO=4&transport=polling").close()
    frames = pcapbuild.render(handshake.packets)
    assert _unanswered(decode_frames(frames)) == []
    (cut,) = _unanswered(decode_frames(frames, {"all_http": True}))
    assert cut.http is not None and cut.http.query_value("sid") is None


def test_nothing_for_requests_no_decoder_wants_or_for_upgrades() -> None:
    other = _waiting("/api/items").close()
    upgrade = pcapbuild.Flow().handshake()
    upgrade.send(
        0,
        pcapbuild.http_request(
            "GET",
            "/socket.io/?EIO=4&transport=websocket",
            headers=[("Upgrade", "websocket"), ("Connection", "Upgrade")],
        ),
    )
    for flow in (other, upgrade.close()):
        assert _unanswered(decode_frames(pcapbuild.render(flow.packets))) == []
