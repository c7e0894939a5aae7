"""Fixtures for the insight tests: synthetic records and a plugin manager with our plugins.

Goldens under ``golden/`` are rewritten when ``IOPROTO_REGEN_GOLDEN=1`` is set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "plugins") not in sys.path:
    sys.path.insert(0, str(ROOT / "plugins"))

from ioproto_engineio.records import EngineIOHandshake, EngineIOPacket  # noqa: E402
from ioproto_http.records import Chunk, ChunkKind, HttpInfo  # noqa: E402
from ioproto_socketio.records import SocketIOPacket  # noqa: E402

from ioproto.model import Record  # noqa: E402

DATA = ROOT / "tests" / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"
REGEN = os.environ.get("IOPROTO_REGEN_GOLDEN") == "1"

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def plugin_modules() -> list[Any]:
    import ioproto_classify
    import ioproto_engineio
    import ioproto_lines
    import ioproto_monitor
    import ioproto_socketio
    import ioproto_stats

    modules = [ioproto_lines, ioproto_engineio, ioproto_socketio]
    try:
        import ioproto_http
        import ioproto_pcap

        modules[:0] = [ioproto_pcap, ioproto_http]
    except ImportError:
        pass
    return [*modules, ioproto_classify, ioproto_monitor, ioproto_stats]


@pytest.fixture
def pm() -> Any:
    from ioproto.plugins import make_plugin_manager

    return make_plugin_manager(load_entrypoints=False, plugins=plugin_modules())


def http_chunk(
    ts: float,
    direction: str,
    *,
    sid: str | None = None,
    query: tuple[tuple[str, str], ...] = (("EIO", "4"), ("transport", "polling")),
    ua: str | None = CHROME,
    request_ts: float | None = None,
    kind: ChunkKind | None = None,
) -> Chunk:
    headers = (("user-agent", ua),) if ua else ()
    if kind is None:
        kind = ChunkKind.HTTP_RESPONSE if direction == "s2c" else ChunkKind.HTTP_REQUEST
    http = HttpInfo(
        method="GET",
        path="/socket.io/",
        query=query,
        status=200 if kind == ChunkKind.HTTP_RESPONSE else None,
        request_headers=headers if kind != ChunkKind.HTTP_REQUEST else (),
        headers=headers if kind == ChunkKind.HTTP_REQUEST else (),
        request_ts=request_ts,
    )
    transport = "websocket" if kind in (ChunkKind.WS_TEXT, ChunkKind.WS_BINARY) else "polling"
    return Chunk(
        ts=ts,
        connection="c1",
        direction=direction,  # type: ignore[arg-type]
        sid=sid,
        transport=transport,
        kind=kind,
        data=b"",
        http=http,
    )


def ws_chunk(
    ts: float, direction: str, *, sid: str | None = "s1", ua: str | None = CHROME
) -> Chunk:
    return http_chunk(
        ts,
        direction,
        sid=sid,
        query=(("EIO", "4"), ("transport", "websocket")),
        ua=ua,
        kind=ChunkKind.WS_TEXT,
        request_ts=ts - 0.5,
    )


def eio(
    kind: str,
    ts: float,
    direction: str,
    *,
    sid: str = "s1",
    data: Any = "",
    revision: int = 4,
    parent: Record | None = None,
) -> EngineIOPacket:
    parent = parent or http_chunk(ts, direction, sid=sid)
    digit = "0123456"[["open", "close", "ping", "pong", "message", "upgrade", "noop"].index(kind)]
    return EngineIOPacket(
        ts=ts,
        connection=parent.connection,
        direction=direction,  # type: ignore[arg-type]
        sid=sid,
        transport=parent.transport,
        parent=parent,
        type=kind,
        data=data,
        revision=revision,
        raw=(digit + (data if isinstance(data, str) else "")).encode(),
    )


def handshake(
    ts: float, *, sid: str = "s1", parent: Record | None = None, ping_timeout: int = 20000
) -> EngineIOHandshake:
    parent = parent or http_chunk(ts, "s2c", request_ts=ts - 0.002)
    return EngineIOHandshake(
        ts=ts,
        connection=parent.connection,
        direction="s2c",
        sid=sid,
        transport=parent.transport,
        parent=parent,
        data="{}",
        revision=4,
        upgrades=("websocket",),
        ping_interval=25000,
        ping_timeout=ping_timeout,
        raw=b'0{"sid":"' + sid.encode() + b'"}',
    )


def sio(
    kind: str,
    ts: float,
    direction: str,
    *,
    sid: str = "s1",
    event: Any = None,
    args: list[Any] | None = None,
    id: int | None = None,
    nsp: str = "/",
    answers: Record | None = None,
    data: Any = None,
    attachments: int = 0,
    parent: Record | None = None,
) -> SocketIOPacket:
    parent = parent or eio("message", ts, direction, sid=sid, data="2" + "x" * 10)
    if data is None and event is not None:
        data = [event, *(args or [])]
    return SocketIOPacket(
        ts=ts,
        connection=parent.connection,
        direction=direction,  # type: ignore[arg-type]
        sid=sid,
        transport=parent.transport,
        parent=parent,
        type=kind,
        nsp=nsp,
        id=id,
        event=event,
        args=args or [],
        answers=answers,
        data=data,
        attachments=attachments,
        revision=5,
    )


def run_classifiers(
    records: list[Record], names: list[str] | None = None, *, max_sessions: int | None = None
) -> list[Record]:
    """``records`` through the insight classifiers (all by default) of a pipeline, then its
    close(): as after the decoders, with sessions ended by Engine.IO ``close`` packets and
    at the end of the input.

    The Engine.IO layer is there only to say which records end sessions; it decodes
    nothing, so the prebuilt records (chunks too) reach the classifiers as they are.
    ``max_sessions`` bounds the pipeline's sessions (default: :class:`Limits`' default).
    """
    import ioproto_classify
    from ioproto_engineio.decoder import EngineIODecoder

    from ioproto.components import DecodeContext, Limits, optional
    from ioproto.pipeline import Layer, LayerMember, Pipeline, Stage
    from ioproto.plugins import collect_components, make_plugin_manager
    from ioproto.sessions import SessionStore

    pm = make_plugin_manager(load_entrypoints=False, plugins=[ioproto_classify])
    components = collect_components(pm)
    limits = Limits() if max_sessions is None else Limits(max_sessions=max_sessions)
    context = DecodeContext(limits=limits, sessions=SessionStore(max_sessions=limits.max_sessions))
    stages = []
    for name in names or components.classifiers.names():
        state = components.classifiers.get(name).open(context)
        on_end = optional(state, "ClassifierState", "session_ended")
        stages.append(Stage(name, "ioproto_classify", state, on_end=on_end))
    decoder = EngineIODecoder()
    engineio = LayerMember(
        decoder=decoder,
        stream=decoder.open(context),
        plugin="ioproto_engineio",
        accepts=lambda record: False,
    )
    layer = Layer(name="engineio", rides_on="chunk", members=[engineio])
    pipeline = Pipeline(layers=[layer], classifiers=stages, context=context)
    out: list[Record] = []
    for record in records:
        out.extend(pipeline.feed(record))
    out.extend(pipeline.close())
    return out


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {name}: run with IOPROTO_REGEN_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (IOPROTO_REGEN_GOLDEN=1)"
