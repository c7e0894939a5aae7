"""Filters on real captures (tests/data, made by real Socket.IO peers): every layer's fields
resolve, and push-down changes how much is decoded, never which records come out."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import ioproto
from ioproto.components import SourceContext
from ioproto.filters import compile_filter
from ioproto.jsonform import dumps
from ioproto.pipeline import Pipeline, resolve_source
from ioproto.plugins import collect_components, make_plugin_manager

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CHAT = str(ROOT / "examples" / "chat.pcap")


def decoded(capture: str, expression: str | None = None, proto: str = "socketio") -> list[str]:
    return [
        dumps(record)
        for record in ioproto.decode(capture, proto=proto, classifiers=None, filter=expression)
    ]


def sids(capture: str) -> Counter[str]:
    return Counter(r.sid for r in ioproto.decode(capture, classifiers=None) if r.sid)


def test_fields_of_every_layer_on_the_chat_capture() -> None:
    records = list(ioproto.decode(CHAT, classifiers=None))
    fields = collect_components(make_plugin_manager()).field_set()

    def count(expression: str) -> int:
        match = compile_filter(expression, fields)
        return sum(1 for record in records if match(record))

    events = sum(1 for r in records if r.layer == "socketio" and r.type == "EVENT")
    assert count('sio.type == "EVENT"') == events > 0
    assert count('sio.event == "message"') > count('sio.event == "message" and sio.type == "EVENT"')
    assert count('sio.event == "message" and sio.type == "EVENT"') == 32
    # a Socket.IO record's Engine.IO and HTTP fields come from its lineage
    assert count('sio.type == "EVENT" and eio.type == "message"') == events
    polling = count('sio.type == "EVENT" and eio.transport == "polling"')
    assert 0 < polling < events
    http_kinds = 'chunk.kind in {"http-request", "http-response"}'
    assert polling == count(f'sio.type == "EVENT" and {http_kinds}')
    # WebSocket messages carry their upgrade request's HTTP facts
    assert count('sio.type == "EVENT" and http.method == "GET"') >= events - polling
    assert count('sio.type == "EVENT" and ws.opcode in {1, 2}') == events - polling
    assert count("tcp.port == 47020") == count("tcp.server_port == 47020") == len(records)
    assert count('sio.args[0].user == "alice"') >= 1
    assert count("sio.attachments > 0 and sio.bytes > 100B") >= 1
    assert count('eio.type == "open" and eio.upgrades contains "websocket"') == 2
    assert count("sio.ack_id") == count("sio.ack_id >= 0") > 0
    assert count("latency.ack_rtt") == count('sio.type == "ACK"') > 0


def test_tags_and_classifier_fields() -> None:
    records = list(ioproto.decode(CHAT, classifiers=None, filter="latency.ack_rtt < 1s"))
    assert records and all(r.type == "ACK" for r in records)
    assert not list(ioproto.decode(CHAT, classifiers=None, filter="latency.ack_rtt > 1h"))
    clients = list(ioproto.decode(CHAT, classifiers=None, filter="client.browser"))
    assert {r.tag("client.name") for r in clients} >= {"Node.js engine.io-client"}
    summaries = list(ioproto.decode(CHAT, classifiers=None, filter='layer == "session"'))
    assert summaries and all(r.type == "summary" for r in summaries)


def test_app_protocol_fields_on_the_game_capture() -> None:
    import ioproto_example_game  # the example plugin, registered as an installed one would be

    pm = make_plugin_manager()
    pm.register(ioproto_example_game)
    game = str(DATA / "game.pcap")

    def app(expression: str) -> list[Any]:
        return list(ioproto.decode(game, proto="app", filter=expression, plugin_manager=pm))

    moves = app("game.move.speed >= 0")
    assert moves and all(r.type == "game.move" for r in moves)
    fast = app("game.move.keys.sprint == true")
    assert len(fast) < len(moves)
    assert app('app.protocol == "game"')


CAPTURES = ["upgrade.pcap", "namespaces_acks.pcap", "binary.pcap", "v2_polling.pcap"]


@pytest.mark.parametrize("capture", CAPTURES)
def test_pushdown_on_eio_sid_gives_the_records_a_plain_filter_gives(capture: str) -> None:
    path = str(DATA / capture)
    everything = [record for record in ioproto.decode(path, classifiers=None)]
    for sid, _ in sids(path).most_common(2):
        expression = f'eio.sid == "{sid}"'
        fields = collect_components(make_plugin_manager()).field_set()
        match = compile_filter(expression, fields)
        plain = [dumps(record) for record in everything if match(record)]
        assert plain
        assert decoded(path, expression) == plain


@pytest.mark.parametrize("capture", CAPTURES)
def test_pushdown_with_classifiers_keeps_the_session_facts(capture: str) -> None:
    path = str(DATA / capture)
    sid = sids(path).most_common(1)[0][0]
    expression = f'eio.sid == "{sid}" and not eio.type == "noop"'
    fields = collect_components(make_plugin_manager()).field_set()
    match = compile_filter(expression, fields)
    plain = [dumps(r) for r in ioproto.decode(path, classifiers=None) if match(r)]
    assert [dumps(r) for r in ioproto.decode(path, classifiers=None, filter=match)] == plain


def test_pushdown_drops_other_sessions_before_socketio() -> None:
    pm = make_plugin_manager()
    components = collect_components(pm)
    sid = sids(CHAT).most_common(1)[0][0]
    match = compile_filter(f'eio.sid == "{sid}"', components.field_set())
    assert set(match.pushdown()) == {"engineio"}
    pipeline = Pipeline.build(
        proto="socketio", plugin_manager=pm, components=components, guards=match.pushdown()
    )
    pipeline.run(resolve_source(components, CHAT).open(CHAT, SourceContext()))
    assert pipeline.summary.dropped["engineio"] > 0
    assert all(
        compile_filter(f'eio.sid == "{sid}"', components.field_set())(r)
        for r in ioproto.decode(CHAT, filter=match)
    )


def test_pushdown_only_from_terms_that_may_be_pushed() -> None:
    fields = collect_components(make_plugin_manager()).field_set()

    def layers(expression: str) -> set[str]:
        return set(compile_filter(expression, fields).pushdown())

    assert layers('eio.sid == "a" and sio.event == "x"') == {"engineio"}
    assert layers('tcp.port == 3000 and eio.sid matches "^a"') == {"tcp", "engineio"}
    assert layers('eio.sid == "a" or sio.event == "x"') == set()
    assert layers('not eio.sid == "a"') == {"engineio"}
    assert layers('sio.event == "x"') == set()
    assert layers('eio.transport == "polling"') == set()  # upgrades span transports
    assert layers('tcp.port == 1 or eio.sid == "a"') == set()  # two layers in one term


def test_source_options_from_port_tests() -> None:
    fields = collect_components(make_plugin_manager()).field_set()

    def options(expression: str) -> dict[str, list[object]]:
        return compile_filter(expression, fields).source_options()

    server = "tcp.server_port"
    assert options(f"{server} == 3000") == {"port": [3000]}
    assert options(f'{server} in {{3000, 8080}} and sio.event == "x"') == {"port": [3000, 8080]}
    assert options(f"{server} in {{3000, 8080}} and {server} == 8080") == {"port": [8080]}
    assert options(f"{server} in {{1..5}}") == {}
    assert options(f"{server} == 3000 or {server} == 80") == {}
    assert options(f"not {server} == 3000") == {}
    assert options("tcp.port == 3000") == {}  # either port: the source option is the server's


def test_port_pushdown_on_a_capture_of_two_servers() -> None:
    path = str(DATA / "clients_mixed.pcap")
    ports = Counter(r.connection.rsplit(":", 1)[1] for r in ioproto.decode(path) if r.connection)
    for port in ports:
        expression = f"tcp.port == {port}"
        fields = collect_components(make_plugin_manager()).field_set()
        match = compile_filter(expression, fields)
        plain = [dumps(r) for r in ioproto.decode(path, classifiers=None) if match(r)]
        assert decoded(path, expression) == plain
