"""A real socket.io 4.8.1 session (tests/node/sio_session.js), decoded by ioproto.

The node script records every Engine.IO packet the client saw, both ways, and what the two
applications emitted and got as ack replies. ioproto must decode exactly those events.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ioproto_http.records import Chunk, ChunkKind
from ioproto_socketio.records import AckRequest
from ioproto_socketio.testing import engineio_url
from siohelp import NODE_DIR, errors, from_wire_json, packets, stream, unanswered

import ioproto
from ioproto.model import Packet, Record

EIO_TYPES = {"open": 0, "close": 1, "ping": 2, "pong": 3, "message": 4, "upgrade": 5, "noop": 6}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("sio") / "session.jsonl"
    subprocess.run(
        ["node", str(NODE_DIR / "sio_session.js"), str(out)], cwd=NODE_DIR, check=True, timeout=30
    )
    return [json.loads(line) for line in out.read_text("utf-8").splitlines() if line]


def expected_exchanges(lines: list[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    """What the applications did, per (direction, type), in order."""
    out: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for line in lines:
        if line["kind"] == "app":
            out.setdefault((line["direction"], line["type"]), []).append(
                (line["nsp"], line["event"], from_wire_json(line["args"]))
            )
    return out


def decoded_exchanges(records: list[Record]) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    out: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for record in packets(records):
        if record.type == "EVENT":
            item = (record.nsp, record.event, record.args)
        elif record.type == "ACK":
            assert record.answers is not None, record
            assert isinstance(record.answers, AckRequest)
            assert (record.answers.id, record.answers.nsp) == (record.id, record.nsp)
            assert record.answers.direction != record.direction
            item = (record.nsp, record.answers.event, record.args)
        else:
            continue
        out.setdefault((record.direction or "?", record.type), []).append(item)
    return out


def check(records: list[Record], lines: list[dict[str, Any]]) -> None:
    assert not errors(records), errors(records)
    assert not unanswered(records)
    assert decoded_exchanges(records) == expected_exchanges(lines)
    connects = [(r.direction, r.nsp, r.data) for r in packets(records) if r.type == "CONNECT"]
    assert [c[:2] for c in connects] == [
        ("c2s", "/"),
        ("c2s", "/admin"),
        ("s2c", "/"),
        ("s2c", "/admin"),
    ]
    assert all(isinstance(c[2], dict) and set(c[2]) == {"sid"} for c in connects[2:])
    disconnects = [(r.direction, r.nsp) for r in packets(records) if r.type == "DISCONNECT"]
    assert disconnects == [("c2s", "/"), ("c2s", "/admin")]
    binary = [r for r in packets(records) if r.attachments]
    assert [(r.direction, r.wire_type, r.attachments) for r in binary] == [
        ("s2c", 5, 2),
        ("c2s", 5, 3),
        ("c2s", 6, 1),
        ("s2c", 6, 1),
    ]
    assert all(r.revision == 5 for r in packets(records))


def _data(line: dict[str, Any]) -> str | bytes:
    data = line["data"]
    return base64.b64decode(data["$bytes"]) if isinstance(data, dict) else data


@pytest.mark.node
def test_real_session_from_engineio_records(session: list[dict[str, Any]]) -> None:
    decoder = stream()
    records: list[Record] = []
    sid = next(line["sid"] for line in session if line["kind"] == "eio" and line["sid"])
    for line in session:
        if line["kind"] != "eio" or line["type"] != "message":
            continue
        record = Packet(
            layer="engineio",
            type="message",
            data=_data(line),
            revision=4,
            ts=float(line["seq"]),
            sid=sid,
            direction=line["direction"],
            transport="websocket",
        )
        records += decoder.feed(record)
    records += decoder.feed(
        Packet(layer="engineio", type="close", data="", revision=4, ts=1e9, sid=sid)
    )
    records += decoder.close()
    check([r for r in records if r.layer == "socketio"], session)


@pytest.mark.node
@pytest.mark.skipif(
    importlib.util.find_spec("ioproto_engineio.decoder") is None,
    reason="the Engine.IO decoder plugin is not there",
)
def test_real_session_through_both_plugins(session: list[dict[str, Any]]) -> None:
    import ioproto_engineio
    import ioproto_socketio

    pm = ioproto.make_plugin_manager(
        load_entrypoints=False, plugins=[ioproto_engineio, ioproto_socketio]
    )
    pipeline = ioproto.Pipeline.build(proto="socketio", plugin_manager=pm)
    records: list[Record] = []
    for line in session:
        if line["kind"] != "eio":
            continue
        data = _data(line)
        if isinstance(data, bytes):
            kind, raw = ChunkKind.WS_BINARY, data
        else:
            kind, raw = ChunkKind.WS_TEXT, (str(EIO_TYPES[line["type"]]) + data).encode("utf-8")
        chunk = Chunk(
            kind=kind,
            data=raw,
            ts=float(line["seq"]),
            direction=line["direction"],
            connection="127.0.0.1:50000-127.0.0.1:3000",
            http=engineio_url(revision=4),
        )
        records += pipeline.feed(chunk)
    records += pipeline.close()
    socketio_records = [r for r in records if r.layer == "socketio"]
    check(socketio_records, session)
    assert {r.sid for r in socketio_records} == {
        next(line["sid"] for line in session if line["kind"] == "eio" and line["sid"])
    }
    assert {r.transport for r in socketio_records} == {"websocket"}


def test_session_script_exists() -> None:
    assert Path(NODE_DIR / "sio_session.js").is_file()
