"""The records the classifiers emit. Public: sinks and other plugins may import them.

Both are ``layer="session"`` records, emitted when the pipeline closes (a classifier can only
add records at the end; see :class:`ioproto.components.ClassifierState`):

* :class:`SessionSummary` (``type="summary"``): one per Engine.IO session, with what the
  classifiers found out about it.
* :class:`HeartbeatTimeout` (``type="heartbeat-timeout"``): a session whose last ping got no
  pong before the session closed or the input ended.

Times are seconds (``float``); ``None`` means "not seen".
"""

from __future__ import annotations

import attrs

from ioproto.jsonform import WHEN_SET
from ioproto.model import Packet

LAYER = "session"

# How the text view shows a field: a duration, or a time (seconds since the epoch).
_SECONDS = {"unit": "seconds"}
_EPOCH = {"unit": "epoch"}


@attrs.frozen(slots=True, kw_only=True)
class SessionSummary(Packet):
    """What one Engine.IO session looked like, from its first to its last record.

    ``ts`` is the time of its last record. ``end_reason`` is ``"closed"`` (an Engine.IO
    ``close`` packet), ``"input ended"`` or ``"evicted"`` (more open sessions than
    ``Limits.max_sessions``). ``transports`` lists the transport kinds used, first one first
    (``polling-xhr``, ``polling-jsonp``, ``websocket``, ``webtransport``). ``upgrade_failed``
    means a ``2probe`` was sent but no ``upgrade`` packet followed. ``handshake_time`` is the
    handshake record's time minus its HTTP request's time. Heartbeat round-trips are
    summarised by count, min, mean and max; ``ping_unanswered`` says the last ping got no pong.

    ``resumed`` says the session continues one the session store evicted (whose summary,
    ``end_reason="evicted"``, came before): this summary covers only what came after the
    eviction, and the session is not a new one (count it once). Written only when true.
    """

    layer: str = LAYER
    type: str = "summary"
    started: float = attrs.field(default=0.0, metadata=_EPOCH)
    duration: float = attrs.field(default=0.0, metadata=_SECONDS)
    end_reason: str = "input ended"
    handshake_seen: bool = False
    transports: tuple[str, ...] = ()
    upgraded: bool = False
    upgrade_time: float | None = attrs.field(default=None, metadata=_SECONDS)
    upgrade_failed: bool = False
    client_kind: str | None = None
    client_name: str | None = None
    client_version: str | None = None
    client_os: str | None = None
    client_device: str | None = None
    handshake_time: float | None = attrs.field(default=None, metadata=_SECONDS)
    heartbeats: int = 0
    heartbeat_rtt_min: float | None = attrs.field(default=None, metadata=_SECONDS)
    heartbeat_rtt_mean: float | None = attrs.field(default=None, metadata=_SECONDS)
    heartbeat_rtt_max: float | None = attrs.field(default=None, metadata=_SECONDS)
    ping_unanswered: bool = False
    packets_c2s: int = 0
    packets_s2c: int = 0
    events_c2s: int = 0
    events_s2c: int = 0
    acks: int = 0
    ack_rtt_mean: float | None = attrs.field(default=None, metadata=_SECONDS)
    unanswered_acks: int = 0
    errors: int = 0
    resumed: bool = attrs.field(default=False, metadata=WHEN_SET)


@attrs.frozen(slots=True, kw_only=True)
class HeartbeatTimeout(Packet):
    """The last ping of a session got no pong.

    ``ts`` is when that was noticed (the session's close, or the last record of the input);
    ``direction`` is the ping's. ``waited`` is ``ts - ping_ts``. ``ping_timeout`` is the
    handshake's ``pingTimeout`` in seconds (``None`` if the handshake was not seen);
    ``timed_out`` says ``waited`` reached it (when unknown: ``True`` for a closed session,
    ``False`` at the end of the input). ``reason``: ``"session closed"`` or ``"input ended"``.
    """

    layer: str = LAYER
    type: str = "heartbeat-timeout"
    ping_ts: float = attrs.field(default=0.0, metadata=_EPOCH)
    waited: float = attrs.field(default=0.0, metadata=_SECONDS)
    ping_timeout: float | None = attrs.field(default=None, metadata=_SECONDS)
    timed_out: bool = False
    reason: str = "input ended"
