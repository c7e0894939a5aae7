"""Filter fields of the classifiers' findings: their tags, and the session records.

Tags are on the records the classifiers put them on (docs/formats.md, "Tags"):
``client.*`` on a session's handshake (and on its :class:`SessionSummary`),
``latency.ack_rtt`` on ACKs, ``latency.heartbeat_rtt`` on pongs, and so on. None of these
fields is pushed down: they are only known after classification, which must see every
record of a session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ioproto.filters import Field, reads

if TYPE_CHECKING:
    from ioproto.model import Record

# The records are named, not imported: listing the fields imports no records module.
_SUMMARY = "ioproto_classify.records:SessionSummary"
_TIMEOUT = "ioproto_classify.records:HeartbeatTimeout"


def _tag(name: str, summary: str | None = None) -> Callable[[Record], Any]:
    from_summary = _summary(summary) if summary is not None else None

    def get(record: Record) -> Any:
        if record.tags:
            value = record.tag(name)
            if value is not None:
                return value
        return from_summary(record) if from_summary is not None else None

    return get


def _summary(attribute: str) -> Callable[[Record], Any]:
    return reads(_SUMMARY, lambda summary: getattr(summary, attribute))


def _timeout(attribute: str) -> Callable[[Record], Any]:
    return reads(_TIMEOUT, lambda timeout: getattr(timeout, attribute))


FIELDS = (
    Field(
        name="transport.kind",
        type="string",
        get=_tag("transport.kind"),
        description="polling-xhr, polling-jsonp, websocket or webtransport",
        example='transport.kind == "polling-jsonp"',
    ),
    Field(
        name="client.kind",
        type="string",
        get=_tag("client.kind", "client_kind"),
        description="browser, library, tool, bot or unknown (on the handshake and summary)",
        example='client.kind == "bot"',
    ),
    Field(
        name="client.browser",
        type="string",
        get=_tag("client.name", "client_name"),
        description="browser family or library (Chrome, Firefox, Node.js engine.io-client …)",
        example='client.browser == "Firefox"',
    ),
    Field(
        name="client.version",
        type="string",
        get=_tag("client.version", "client_version"),
        description="the browser's or library's version",
        example='client.version matches "^12"',
    ),
    Field(
        name="client.os",
        type="string",
        get=_tag("client.os", "client_os"),
        description="the operating system",
        example='client.os contains "Windows"',
    ),
    Field(
        name="client.device",
        type="string",
        get=_tag("client.device", "client_device"),
        description="the device family",
        example='client.device != "Desktop"',
    ),
    Field(
        name="latency.ack_rtt",
        type="duration",
        get=_tag("latency.ack"),
        description="an ACK's round trip from its EVENT",
        example="latency.ack_rtt > 50ms",
    ),
    Field(
        name="latency.heartbeat_rtt",
        type="duration",
        get=_tag("latency.heartbeat"),
        description="a pong's round trip from its ping",
        example="latency.heartbeat_rtt > 100ms",
    ),
    Field(
        name="latency.handshake",
        type="duration",
        get=_tag("latency.handshake", "handshake_time"),
        description="the handshake's time from its HTTP request",
        example="latency.handshake > 1s",
    ),
    Field(
        name="latency.ping_unanswered",
        type="duration",
        get=_tag("latency.ping_unanswered"),
        description="on a close: how long the last ping had waited for its pong",
        example="latency.ping_unanswered > 20s",
    ),
    Field(
        name="upgrade.time",
        type="duration",
        get=_tag("upgrade.time", "upgrade_time"),
        description="on the upgrade packet: time from the handshake",
        example="upgrade.time > 500ms",
    ),
    Field(
        name="upgrade.failed",
        type="bool",
        get=_tag("upgrade.failed", "upgrade_failed"),
        description="on a close (and summary): the session probed but never upgraded",
        example="upgrade.failed",
    ),
    Field(
        name="upgrade.probe",
        type="string",
        get=_tag("upgrade.probe"),
        description="on 2probe / 3probe: ping or pong",
        example='upgrade.probe == "pong"',
    ),
    Field(
        name="error.kind",
        type="string",
        get=_tag("error.kind"),
        description="decode, protocol, limit, capture, plugin, http or connect-error",
        example='error.kind in {"protocol", "limit"}',
    ),
    Field(
        name="session.duration",
        type="duration",
        get=_summary("duration"),
        description="a session summary's duration",
        example="session.duration > 1h",
    ),
    Field(
        name="session.end_reason",
        type="string",
        get=_summary("end_reason"),
        description="closed, transport closed, input ended or evicted",
        example='session.end_reason == "closed"',
    ),
    Field(
        name="session.upgraded",
        type="bool",
        get=_summary("upgraded"),
        description="the session upgraded to WebSocket",
        example="not session.upgraded",
    ),
    Field(
        name="session.transports",
        type="json",
        get=_summary("transports"),
        description="the transport kinds the session used, first one first",
        example='session.transports contains "websocket"',
    ),
    Field(
        name="session.unanswered_acks",
        type="integer",
        get=_summary("unanswered_acks"),
        description="acks the session never got",
        example="session.unanswered_acks > 0",
    ),
    Field(
        name="heartbeat.waited",
        type="duration",
        get=_timeout("waited"),
        description="a heartbeat-timeout record: how long the ping waited",
        example="heartbeat.waited > 30s",
    ),
    Field(
        name="heartbeat.timed_out",
        type="bool",
        get=_timeout("timed_out"),
        description="a heartbeat-timeout record: the wait reached the pingTimeout",
        example="heartbeat.timed_out",
    ),
)
