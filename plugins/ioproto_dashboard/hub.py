"""The hand-off between the pipeline thread and the web server's thread.

The pipeline calls :meth:`Hub.write` for every record, from one thread; the aggregate is
only touched under :attr:`Hub.lock`. A few times a second (``interval``, stretched so that
publishing never takes more than a ninth of the time) the hub *publishes*: it computes the
figures and the snapshot under the lock, serialises the snapshot to JSON once, and swaps in a
new immutable :class:`Published` (a single reference assignment). The server reads
:attr:`Hub.published` without the lock, so a page or an API call never waits for the
pipeline, and N browsers cost one serialisation, not N.

When the pipeline is quiet (a live source between packets, a replay sleeping, the end of the
input) the server calls :meth:`Hub.refresh`, which publishes what is still unpublished.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import attrs

from ioproto.liveclock import LiveClock
from ioproto.model import Record

from .aggregate import Aggregate

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency
    orjson = None  # type: ignore[assignment]


def dump_json(value: Any) -> bytes:
    """Compact JSON bytes; ``json`` for what orjson refuses (lone surrogates, huge ints)."""
    if orjson is not None:
        try:
            return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            pass
    return json.dumps(value, separators=(",", ":"), default=str, allow_nan=False).encode()


@attrs.frozen(slots=True)
class Published:
    """One published state; never changed after it is made.

    ``snapshot`` is the ``/api/snapshot`` document as JSON bytes; ``figures`` the whole
    stats figures (``/api/summary``); ``rows`` the packet table rows, oldest first.
    """

    version: int
    generated: float
    snapshot: bytes
    figures: dict[str, Any]
    rows: tuple[dict[str, Any], ...] = ()
    finished: bool = False


@attrs.frozen(slots=True)
class Feed:
    """Where the records come from, as the page says it (``mode``): ``live`` when the sink
    was told so (``SinkContext.live``: a live source), else ``replay`` (a file fed at
    ``speed`` times its recorded pace: the ``dashboard`` command's ``--speed``) or ``file``
    (as fast as possible). ``inputs`` names them."""

    live: bool = False
    speed: float = 0.0
    inputs: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        """``live``, ``replay`` or ``file``."""
        if self.live:
            return "live"
        return "replay" if self.speed > 0 else "file"


class Hub:
    def __init__(
        self,
        aggregate: Aggregate | None = None,
        *,
        feed: Feed | None = None,
        interval: float = 0.25,
    ) -> None:
        self.lock = threading.Lock()
        self.aggregate = aggregate or Aggregate()
        self.feed = feed or Feed()
        self.interval = interval
        self.finished = False
        self.started = time.time()
        self.publish_seconds = 0.0
        self._dirty = True
        self._next = 0.0
        #: capture time on a live source, between its records
        self._clock = LiveClock()
        self._version = 0
        #: Called (from the publishing thread) after each publication.
        self.on_publish: Callable[[], None] | None = None
        self.published = self._make_published()

    # -- the pipeline's side ----------------------------------------------------------------

    def write(self, record: Record) -> None:
        with self.lock:
            self.aggregate.add(record)
            self._dirty = True
            arrived = self._clock.arrived(record.ts)
            if arrived >= self._next:
                self._publish_locked()

    def finish(self) -> None:
        """The input has ended: publish the final state."""
        with self.lock:
            self.finished = True
            self._dirty = True
            self._publish_locked()

    # -- the server's side --------------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether a live source is still running: its capture time moves on between
        records, so the page does too (idle sessions end, the charts scroll)."""
        return self.feed.live and not self.finished

    def needs_refresh(self) -> bool:
        """Whether :meth:`refresh` would publish: something is unpublished (or a live source
        runs, whose clock moves on even without records) and the interval has passed."""
        return (self._dirty or self.following) and time.monotonic() >= self._next

    def refresh(self) -> None:
        """Publish now if :meth:`needs_refresh`."""
        if self.needs_refresh():
            with self.lock:
                self._publish_locked()

    def session(self, sid: str) -> dict[str, Any] | None:
        with self.lock:
            return self.aggregate.session_view(sid)

    def sessions(self, limit: int) -> list[dict[str, Any]]:
        with self.lock:
            return self.aggregate.sessions.recent(limit)

    def export_data(self) -> dict[str, Any]:
        """Everything a static report needs (``--export``), as plain JSON types."""
        with self.lock:
            aggregate = self.aggregate
            sessions = aggregate.sessions.recent(len(aggregate.sessions))
            timelines = {
                sid: aggregate.session_view(sid) for sid in list(aggregate.timelines.sessions)
            }
        published = self.published
        return {
            "snapshot": json.loads(published.snapshot),
            "summary": published.figures,
            "packets": list(published.rows),
            "sessions": sessions,
            "timelines": timelines,
        }

    # -- publishing ---------------------------------------------------------------------------

    def _now(self) -> float | None:
        """Capture time now (``None`` before the first record): while a live source runs,
        :class:`~ioproto.liveclock.LiveClock`'s (the latest record's time plus the time
        elapsed since a record last arrived, as the ``prometheus`` sink keeps it); a file's
        stays the records' own, the latest record's time."""
        if self.following:
            return self._clock.now()
        return self.aggregate.last_ts

    def _publish_locked(self) -> None:
        start = time.perf_counter()
        now = self._now()
        if now is not None:
            self.aggregate.expire(now, time.monotonic())
            if self.following:
                self.aggregate.series.advance(now)
        self.published = self._make_published(now)
        self._dirty = False
        cost = time.perf_counter() - start
        self.publish_seconds += cost
        self._next = time.monotonic() + max(self.interval, 8 * cost)
        callback = self.on_publish
        if callback is not None:
            callback()

    def _make_published(self, now: float | None = None) -> Published:
        aggregate = self.aggregate
        figures = aggregate.stats.figures()
        # Only a live source's last bucket is still filling (its rate counts the part elapsed).
        filling = now if self.following else None
        snapshot = aggregate.snapshot(figures, filling)
        self._version += 1
        generated = time.time()
        snapshot["meta"] = {
            "version": self._version,
            "generated": generated,
            "started": self.started,
            "mode": self.feed.mode,
            "speed": self.feed.speed,
            "inputs": list(self.feed.inputs),
            "finished": self.finished,
            "first_ts": aggregate.first_ts,
            "last_ts": aggregate.last_ts,
            "now": now,
            "records": aggregate.records,
            "publish_ms": round(self.publish_seconds * 1000, 1),
        }
        return Published(
            version=self._version,
            generated=generated,
            snapshot=dump_json(snapshot),
            figures=figures,
            rows=tuple(aggregate.ring.rows),
            finished=self.finished,
        )
