"""Bad and absurd DevTools messages never break the translator: recorded Chromium
conversations, mutated (messages dropped, repeated, swapped, cut short, fields replaced
by any JSON value), and made-up event streams. Every message costs at most its own
records, no translator bug shows (``cdp.internal``), and memory stays within the budget."""

from __future__ import annotations

import copy
from typing import Any

from cdphelp import SESSION, Driver, attached, fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioproto_http.records import Chunk, ChunkKind

from ioproto.model import ErrorRecord, Record

BUDGET = 200_000
FIXTURES = {name: fixture(name) for name in ("node4", "node2")}

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "1.1", SESSION, "AQID", "!!", "ws://x/socket.io/?EIO=4", "4hi"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)

METHODS = [
    "Network.requestWillBeSent",
    "Network.responseReceived",
    "Network.loadingFinished",
    "Network.loadingFailed",
    "Network.webSocketCreated",
    "Network.webSocketWillSendHandshakeRequest",
    "Network.webSocketHandshakeResponseReceived",
    "Network.webSocketFrameSent",
    "Network.webSocketFrameReceived",
    "Network.webSocketFrameError",
    "Network.webSocketClosed",
    "Target.attachedToTarget",
    "Target.detachedFromTarget",
    "Inspector.detached",
    "Inspector.targetCrashed",
    "Inspector.targetReloadedAfterCrash",
]
FIELDS = [
    "requestId",
    "request",
    "response",
    "timestamp",
    "wallTime",
    "url",
    "type",
    "errorText",
    "canceled",
    "redirectResponse",
    "sessionId",
    "targetInfo",
    "opcode",
    "payloadData",
    "headers",
    "postData",
    "postDataEntries",
    "hasPostData",
    "status",
]


def check(messages: list[Any], **options: Any) -> list[Record]:
    """Feed ``messages``, checking the invariants after each; answer every body request
    with what a browser might say (a body, base64 or not, or an error)."""
    driver = Driver(pending_bytes=BUDGET, **options)
    for index, message in enumerate(messages):
        out = driver.feed(message)
        for record in out:
            assert isinstance(record, Record)
            assert not (isinstance(record, ErrorRecord) and record.rule == "cdp.internal"), record
            if isinstance(record, Chunk):
                assert isinstance(record.data, bytes) and isinstance(record.kind, ChunkKind)
                assert isinstance(record.connection, str) and isinstance(record.ts, float)
        machine = driver.machine
        assert machine.network.size + machine.outbox.size <= BUDGET
        if index % 7 == 0:
            for command in driver.sent[-3:]:
                if command["method"].startswith("Network.get"):
                    body = {"body": "4x", "postData": "AQID", "base64Encoded": index % 2 == 0}
                    driver.feed({"id": command["id"], "result": body})
    driver.tick(60.0)
    driver.close("cdp.connection.lost", "gone")
    assert driver.machine.network.size == 0 and driver.machine.outbox.size == 0
    return driver.records


@st.composite
def mutated_conversation(draw: st.DrawFn) -> list[Any]:
    messages = copy.deepcopy(FIXTURES[draw(st.sampled_from(sorted(FIXTURES)))])
    for _ in range(draw(st.integers(0, 25))):
        index = draw(st.integers(0, len(messages) - 1))
        action = draw(st.sampled_from(["drop", "repeat", "swap", "field", "replace", "cut"]))
        if action == "drop":
            del messages[index]
        elif action == "repeat":
            messages.insert(index, copy.deepcopy(messages[index]))
        elif action == "swap" and index + 1 < len(messages):
            messages[index], messages[index + 1] = messages[index + 1], messages[index]
        elif action == "replace":
            messages[index] = draw(JSON)
        elif action == "cut":
            del messages[index:]
        else:
            _replace_field(draw, messages[index])
        if not messages:
            break
    return messages


def _replace_field(draw: st.DrawFn, message: Any) -> None:
    """Replace one field, at any depth, with any JSON value."""
    node = message
    while isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        if not isinstance(node[key], dict) or not node[key] or draw(st.booleans()):
            node[key] = draw(JSON)
            return
        node = node[key]


@st.composite
def made_up_events(draw: st.DrawFn) -> list[Any]:
    sessions = [SESSION, "OTHER", ""]
    messages: list[Any] = [attached(), attached("OTHER", kind="worker", target="W" * 32)]
    for _ in range(draw(st.integers(1, 40))):
        params = {
            field: draw(JSON | st.sampled_from(["1.1", "1.2", 100.5, 1, 2, True]))
            for field in draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True))
        }
        message: dict[str, Any] = {"method": draw(st.sampled_from(METHODS)), "params": params}
        session = draw(st.sampled_from(sessions))
        if session:
            message["sessionId"] = session
        if draw(st.integers(0, 9)) == 0:
            message = {"id": draw(st.integers(-5, 60)), "result": params}
        messages.append(message)
    return messages


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_conversation())
def test_mutated_conversations_never_break_the_translator(messages: list[Any]) -> None:
    check(messages)


@settings(max_examples=100, deadline=None)
@given(made_up_events())
def test_made_up_events_never_break_the_translator(messages: list[Any]) -> None:
    check(messages, open_url="http://127.0.0.1:3000/")


@settings(max_examples=40, deadline=None)
@given(made_up_events())
def test_made_up_events_with_every_request_followed(messages: list[Any]) -> None:
    check(messages, take_all=True)


def test_an_unmutated_conversation_passes_the_same_checks() -> None:
    records = check(FIXTURES["node4"])
    assert any(isinstance(r, Chunk) for r in records)
