"""Real captures: the same application exchange sent with socket.io-msgpack-parser
(msgpack_ws, msgpack_polling) and with the default parser (msgpack_default_ws) decodes to the
same Socket.IO records. (tests/integration/test_captures.py checks each against its log.)"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from mphelp import PLUGINS

import ioproto
from ioproto.jsonform import to_jsonable
from ioproto.model import ErrorRecord, Record
from ioproto.plugins import make_plugin_manager

DATA = Path(__file__).resolve().parents[1] / "data"


def decode(name: str) -> list[Record]:
    import ioproto_http
    import ioproto_pcap

    plugins = [ioproto_pcap, ioproto_http, *PLUGINS]
    pm = make_plugin_manager(load_entrypoints=False, plugins=plugins)
    return list(ioproto.decode(str(DATA / f"{name}.pcap"), proto="socketio", plugin_manager=pm))


def view(records: list[Record]) -> list[tuple[Any, ...]]:
    out = []
    for r in records:
        if r.layer != "socketio" or isinstance(r, ErrorRecord):
            continue
        data = None if r.type == "CONNECT" else to_jsonable(getattr(r, "data", None))
        out.append(
            (
                r.direction,
                r.type,
                getattr(r, "nsp", None),
                getattr(r, "id", None),
                getattr(r, "event", None),
                repr(to_jsonable(getattr(r, "args", None))),
                repr(data),
            )
        )
    return out


@pytest.mark.parametrize("name", ["msgpack_ws", "msgpack_polling"])
def test_msgpack_capture_decodes_like_the_default_parser_capture(name: str) -> None:
    msgpack_records = decode(name)
    default_records = decode("msgpack_default_ws")
    assert not [r for r in msgpack_records + default_records if isinstance(r, ErrorRecord)]
    ours, reference = view(msgpack_records), view(default_records)
    assert Counter(ours) == Counter(reference)
    for direction in ("c2s", "s2c"):
        assert [v for v in ours if v[0] == direction] == [v for v in reference if v[0] == direction]


def test_msgpack_sessions_were_decoded_by_the_msgpack_parser() -> None:
    records = [r for r in decode("msgpack_ws") if r.layer == "socketio" and r.type == "EVENT"]
    assert records and all(0x80 <= r.raw[0] <= 0x8F for r in records)
    blob = next(r for r in records if r.event == "blob")  # type: ignore[attr-defined]
    assert blob.args == [bytes((i * 5 + 3) & 0xFF for i in range(12))]  # type: ignore[attr-defined]
    acks = [r for r in decode("msgpack_ws") if r.layer == "socketio" and r.type == "ACK"]
    assert all(a.answers is not None for a in acks)  # type: ignore[attr-defined]
