"""One record → one human line, as styled segments.

:func:`render_line` returns ``[(text, style), ...]``; the sink joins the texts for plain
output or turns them into a ``rich.text.Text`` for colour. Every piece of text that came off
the wire goes through :func:`ioproto.render.safe_text` (or ``render_value``, which calls it)
here, so neither terminal escape sequences nor control characters reach a terminal; styles
are names from :data:`STYLES`, never text from the wire.
"""

from __future__ import annotations

import time
from typing import Any

from ioproto_classify.records import HeartbeatTimeout, SessionSummary
from ioproto_engineio.records import (
    EngineIOHandshake,
    EngineIOHttpError,
    EngineIOPacket,
    EngineIOTransportClose,
    closed_words,
)
from ioproto_http.records import (
    ABNORMAL_CLOSURE,
    CONNECTION_ENDS,
    Chunk,
    ChunkKind,
    UnansweredRequest,
    WebSocketEnd,
)
from ioproto_socketio.records import SocketIOPacket, SocketIOUnansweredAck

from ioproto.model import ErrorRecord, Record
from ioproto.render import format_duration, hex_preview, plural, render_value, safe_text

Segment = tuple[str, str]

#: Style name → rich style. Wire text never chooses a style.
STYLES: dict[str, str] = {
    "time": "dim",
    "sid": "cyan",
    "c2s": "green",
    "s2c": "magenta",
    "transport": "dim",
    "nsp": "blue",
    "event": "bold yellow",
    "args": "",
    "id": "cyan",
    "ack": "green",
    "control": "dim",
    "error": "bold red",
    "warn": "yellow",
    "summary": "bold",
    "plain": "",
}

ARROWS = {"c2s": "→", "s2c": "←"}
SHORT_TRANSPORT = {
    "polling-xhr": "xhr",
    "polling-jsonp": "jsonp",
    "polling": "poll",
    "websocket": "ws",
    "webtransport": "wt",
}
CONTROL_TYPES = frozenset({"open", "ping", "pong", "noop", "upgrade", "close", "transport-close"})


def is_control(record: Record) -> bool:
    """Engine.IO control packets (open, ping, pong, noop, upgrade, close), a session's
    transport closing (transport-close), WebSocket control frames and the HTTP layer's
    connection ends (``ws-end``, ``http-unanswered``): what ``hide_control`` hides."""
    if isinstance(record, EngineIOPacket | EngineIOTransportClose):
        return record.type in CONTROL_TYPES
    if isinstance(record, CONNECTION_ENDS):
        return True
    return isinstance(record, Chunk) and record.kind is ChunkKind.WS_CONTROL


#: How the monitor shows times (``--time``, the sink option ``time``).
TIME_MODES = ("local", "utc", "relative", "none")


class Clock:
    """Formats record times: ``local``, ``utc``, ``relative`` (to the first record) or
    ``none``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode if mode in TIME_MODES else "local"
        self._start: float | None = None
        self._second = -1
        self._prefix = ""

    def __call__(self, ts: float) -> str:
        if self.mode == "none":
            return ""
        if self.mode == "relative":
            if self._start is None:
                self._start = ts
            return f"{'+' + format(ts - self._start, '.3f'):>10}"
        second = int(ts)
        if second != self._second:  # strftime once per second of traffic, not per packet
            parts = time.gmtime(second) if self.mode == "utc" else time.localtime(second)
            self._second, self._prefix = second, time.strftime("%H:%M:%S", parts)
        return f"{self._prefix}.{int((ts % 1) * 1000):03d}"


def render_line(record: Record, clock: Clock, *, width: int = 160) -> list[Segment]:
    """The segments of ``record``'s line: time, short sid, arrow, transport, body."""
    out: list[Segment] = []
    stamp = clock(record.ts)
    if stamp:
        out.append((stamp + " ", "time"))
    sid = safe_text(record.sid[:8]) if record.sid else "-"
    out.append((f"{sid:<8} ", "sid"))
    direction = record.direction
    out.append((ARROWS.get(direction or "", "·") + " ", direction or "plain"))
    kind = record.tag("transport.kind") if record.tags else None
    short = SHORT_TRANSPORT.get(kind or record.transport or "", "-")
    out.append((f"{short:<5} ", "transport"))
    out.extend(body(record, width=width))
    last_text, last_style = out[-1]
    out[-1] = (last_text.rstrip(), last_style)
    return out


def body(record: Record, *, width: int = 160) -> list[Segment]:
    """The record itself, for people."""
    if isinstance(record, SocketIOPacket):
        return _socketio(record, width)
    if record.layer == "app" and hasattr(record, "fields"):
        # An ioproto_appproto AppMessage (matched by shape: the monitor does not need that
        # plugin). It follows the Socket.IO EVENT it came from, whose line shows nsp and event.
        name = safe_text(record.type)
        fields = getattr(record, "fields", None)
        return [("↳ " + name + " ", "event"), (render_value(fields, limit=width), "args")]
    if isinstance(record, EngineIOHttpError):
        return [(_http_error(record), "error")]
    if isinstance(record, EngineIOPacket):
        return _engineio(record, width)
    if isinstance(record, EngineIOTransportClose):
        return _transport_close(record)
    if isinstance(record, ErrorRecord):
        where = f" at {record.offset}" if record.offset is not None else ""
        text = f"error [{safe_text(record.rule)}]{where} {safe_text(record.reason)}"
        if record.raw:
            text += " " + hex_preview(record.raw)
        return [(text, "error")]
    if isinstance(record, SocketIOUnansweredAck):
        name = _event_name(record.event)
        nsp = _nsp(record.nsp)
        return [(f"no ack #{record.id} for {nsp}{name} ({safe_text(record.reason)})", "warn")]
    if isinstance(record, SessionSummary):
        return [(summary_text(record), "summary")]
    if isinstance(record, HeartbeatTimeout):
        state = "timed out" if record.timed_out else safe_text(record.reason)
        return [(f"ping unanswered for {format_duration(record.waited)} ({state})", "warn")]
    if isinstance(record, WebSocketEnd):
        # Only an end the bytes showed (1006) is known to have had no close frame: a
        # browser reports a WebSocket's end without its frames (code unknown).
        said = "ended without a close frame" if record.code == ABNORMAL_CLOSURE else "ended"
        return [(f"websocket {said}: {safe_text(record.reason)}", "control")]
    if isinstance(record, UnansweredRequest):
        method = safe_text(record.http.method or "request") if record.http else "request"
        return [(f"{method} left unanswered: {record.reason}", "control")]
    if isinstance(record, Chunk):
        preview = hex_preview(record.data) if record.data else "<empty>"
        return [(f"{record.type} {preview}", "control")]
    value = getattr(record, "data", None)
    text = f"{safe_text(record.layer)} {safe_text(record.type)}"
    if value is not None:
        text += " " + render_value(value, limit=width)
    return [(text, "plain")]


def _nsp(nsp: str) -> str:
    return "" if nsp == "/" else safe_text(nsp) + " "


def _event_name(event: Any) -> str:
    if isinstance(event, str):
        return safe_text(event)
    return render_value(event, limit=40)


def _args(args: list[Any], width: int) -> str:
    text = ", ".join(render_value(arg, limit=width) for arg in args)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return text


def _socketio(record: SocketIOPacket, width: int) -> list[Segment]:
    kind = record.type
    nsp = _nsp(record.nsp)
    out: list[Segment] = []
    if nsp:
        out.append((nsp, "nsp"))
    if kind == "EVENT":
        out.append((_event_name(record.event), "event"))
        out.append(("(" + _args(record.args, width) + ")", "args"))
        if record.id is not None:
            out.append((f" #{record.id}", "id"))
        return out
    if kind == "ACK":
        text = f"ack #{record.id}"
        answered = record.answers
        if answered is not None:
            rtt = record.tag("latency.ack")
            if not isinstance(rtt, int | float):
                rtt = record.ts - answered.ts
            name = _event_name(getattr(answered, "event", None))
            text += f" for {name} ({format_duration(rtt)})"
        out.append((text, "ack"))
        if record.args:
            out.append((": " + _args(record.args, width), "args"))
        return out
    if kind == "CONNECT":
        word = "connected" if record.direction == "s2c" else "connect"
        out.insert(0, (word + " ", "ack"))
        if not nsp:
            out.append(("/ ", "nsp"))
        if record.data is not None:
            out.append((render_value(record.data, limit=width), "args"))
        return out
    if kind == "DISCONNECT":
        out.insert(0, ("disconnect ", "warn"))
        if not nsp:
            out.append(("/", "nsp"))
        return out
    if kind in ("CONNECT_ERROR", "ERROR"):
        reason = record.data
        if isinstance(reason, dict) and isinstance(reason.get("message"), str):
            shown = safe_text(reason["message"])
            extra = {key: value for key, value in reason.items() if key != "message"}
            if extra:
                shown += " " + render_value(extra, limit=width)
        else:
            shown = render_value(reason, limit=width)
        return [("connect error " + (nsp or "/ "), "error"), (shown, "error")]
    text = kind
    if record.data is not None:
        text += " " + render_value(record.data, limit=width)
    out.append((safe_text(text), "plain"))
    return out


def _engineio(record: EngineIOPacket, width: int) -> list[Segment]:
    kind = record.type
    if isinstance(record, EngineIOHandshake):
        parts = [f"open sid={safe_text(record.sid or '?')}"]
        if record.upgrades:
            parts.append("upgrades=" + ",".join(safe_text(item) for item in record.upgrades))
        if record.ping_interval is not None:
            parts.append(f"ping={record.ping_interval}/{record.ping_timeout} ms")
        handshake = record.tag("latency.handshake")
        if isinstance(handshake, int | float):
            parts.append(f"({format_duration(handshake)})")
        client = client_text(record)
        if client:
            parts.append(client)
        return [(" ".join(parts), "control")]
    if kind == "message":
        data = record.data
        if isinstance(data, bytes):
            return [("message " + hex_preview(data), "plain")]
        return [("message " + render_value(data, limit=width), "plain")]
    text = kind
    if record.data == "probe":
        text += " probe"
    elif kind in ("ping", "pong") and record.data:
        text += " " + render_value(record.data, limit=40)
    if kind == "pong":
        rtt = record.tag("latency.heartbeat")
        if isinstance(rtt, int | float):
            text += f" ({format_duration(rtt)})"
    elif kind == "upgrade":
        after = record.tag("upgrade.time")
        if isinstance(after, int | float):
            text += f" ({format_duration(after)} after open)"
    elif kind == "close":
        waited = record.tag("latency.ping_unanswered")
        notes = []
        if record.tag("upgrade.failed"):
            notes.append("upgrade failed")
        if isinstance(waited, int | float):
            notes.append(f"ping unanswered for {format_duration(waited)}")
        if notes:
            return [(text + " ", "control"), ("(" + ", ".join(notes) + ")", "warn")]
    style = "error" if record.tag("error.kind") else "control"
    if style == "error":
        text += " (" + safe_text(str(record.tag("error.reason", ""))) + ")"
    return [(text, style)]


def _transport_close(record: EngineIOTransportClose) -> list[Segment]:
    """``websocket closed 1001 "going away"``: the session's WebSocket closed, and with it
    the session; ``polling closed "a poll left unanswered: …"``: its waiting poll was cut off
    (``transport closed …`` when the transport is not known)."""
    text = closed_words(record.transport)
    if record.code is not None:
        text += f" {record.code}"
    if record.message:
        text += " " + render_value(record.message, limit=80)
    waited = record.tag("latency.ping_unanswered")
    if isinstance(waited, int | float):
        return [
            (text + " ", "control"),
            (f"(ping unanswered for {format_duration(waited)})", "warn"),
        ]
    return [(text, "control")]


def _http_error(record: EngineIOHttpError) -> str:
    text = f"HTTP {record.status}"
    if record.message:
        text += " " + safe_text(record.message)
    elif isinstance(record.data, str) and record.data:
        text += " " + safe_text(record.data[:120])
    if record.code is not None:
        text += f" (code {record.code})"
    return text


def client_text(record: Record) -> str:
    """``Chrome 126 on Windows 10`` from the ``client.*`` tags (``""`` if none)."""
    name = record.tag("client.name")
    if name is None:
        return ""
    text = safe_text(str(name))
    version = record.tag("client.version")
    if version:
        text += " " + safe_text(str(version))
    os_name = record.tag("client.os")
    if os_name:
        text += " on " + safe_text(str(os_name))
    return text


def summary_text(record: SessionSummary) -> str:
    """One line about a finished session."""
    parts = ["session " + ("→".join(record.transports) or "?")]
    if record.upgraded:
        after = f" after {format_duration(record.upgrade_time)}" if record.upgrade_time else ""
        parts.append(f"upgraded{after}")
    elif record.upgrade_failed:
        parts.append("upgrade failed")
    if record.client_name:
        client = record.client_name
        if record.client_version:
            client += " " + record.client_version
        if record.client_os:
            client += " on " + record.client_os
        parts.append(client)
    parts.append(f"{record.packets_c2s}↑ {record.packets_s2c}↓ packets")
    if record.heartbeat_rtt_mean is not None:
        parts.append(f"heartbeat {format_duration(record.heartbeat_rtt_mean)}")
    if record.ack_rtt_mean is not None:
        parts.append(f"ack {format_duration(record.ack_rtt_mean)}")
    if record.unanswered_acks:
        parts.append(plural(record.unanswered_acks, "unanswered ack"))
    if record.ping_unanswered:
        parts.append("ping unanswered")
    if record.errors:
        parts.append(plural(record.errors, "error"))
    parts.append(f"{format_duration(record.duration)}, {record.end_reason}")
    return safe_text(", ".join(parts))
