"""What the core tells a component when it opens it: :class:`Limits` and the contexts of
decoders, sources and sinks.

They are re-exported by :mod:`ioproto.components` (where plugins import them from) and
loaded on first use there, so that listing the plugins (``ioproto plugins``) imports no
attrs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import IO, TYPE_CHECKING, Any

import attrs

from .errors import UsageError

if TYPE_CHECKING:
    from .model import Record
    from .sessions import SessionStore


@attrs.frozen(slots=True)
class Limits:
    """Explicit bounds every decoder honours (untrusted input).

    ``max_payload`` caps the bytes of one chunk a decoder will look at (larger input becomes
    an error record); ``max_packets_per_payload`` caps packets in one polling payload;
    ``max_json_depth`` caps nesting of JSON values and ``max_json_bytes`` the estimated memory
    of one decoded JSON value; ``max_pending`` caps per-session state
    such as unanswered acks; ``max_attachments`` caps Socket.IO binary attachments per
    packet; ``max_raw_kept`` caps the bytes an error record keeps.

    What components keep per session lives in the pipeline's session store
    (:mod:`ioproto.sessions`), bounded by ``max_sessions`` sessions and ``max_state_bytes``
    bytes in all (past either, the least recently used session ends early and its
    components report what they held); ``max_pending_bytes`` bounds one session's state in a
    layer. Bytes are each component's estimate of what its state costs in memory. A table
    keyed by something else (the Engine.IO layer's map of connections to their sid) is
    bounded by ``max_state_bytes`` alone: a connection's sid must outlive its session's
    eviction, so that the connection's close still ends the session.
    ``max_evicted_bytes`` bounds the store's memory of evicted sessions' keys (about 120
    bytes a key), by which a later record of an evicted session continues it rather than
    starting a new session.
    ``max_buffer_bytes`` bounds what the connections of a layer hold together of messages
    not finished yet (the HTTP layer: bodies, WebSocket fragments, partial frames); past
    it, the connection holding the most lets go of its message in progress.

    Each bound is a whole number of at least 1; another value is a
    :class:`~ioproto.errors.UsageError` when the limits are made.
    """

    max_payload: int = 16 * 1024 * 1024
    max_packets_per_payload: int = 100_000
    max_json_depth: int = 10_000
    max_json_bytes: int = 64 * 1024 * 1024
    max_pending: int = 10_000
    max_attachments: int = 10
    max_raw_kept: int = 4096
    max_sessions: int = 100_000
    max_pending_bytes: int = 32 * 1024 * 1024
    max_state_bytes: int = 64 * 1024 * 1024
    max_evicted_bytes: int = 4 * 1024 * 1024
    max_buffer_bytes: int = 128 * 1024 * 1024

    def __attrs_post_init__(self) -> None:
        # A bound that is no whole number failed each record later (a str: a
        # "*.internal" error record per message; 0 or less: every message "too large").
        for field in attrs.fields(Limits):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(
                    f"Limits({field.name}={value!r}): give a whole number of at least 1 "
                    f"(docs/cli.md, Limits)"
                )


@attrs.frozen(slots=True)
class DecodeContext:
    """What a decoder stream is told when it is opened.

    ``options`` holds ``--decode-option KEY=VALUE`` settings and API keyword options (for
    example ``revision`` to force an Engine.IO revision); ``strict`` says whether leniencies
    should become errors. ``wanted(record)`` says whether a record this layer could make
    would be input for some decoder of the layer above (any registered one, whether or not
    this run decodes that high), so that a layer may skip the work of making what nobody
    wants (the ``http`` layer skips HTTP messages that are not Engine.IO); ``None`` means
    everything is wanted. ``sessions`` is the pipeline's :class:`~ioproto.sessions.SessionStore`
    where a stream or a classifier keeps what it holds per session (``None`` outside a
    pipeline: keep a store of your own).
    """

    limits: Limits = Limits()
    options: Mapping[str, Any] = attrs.field(factory=dict)
    strict: bool = False
    wanted: Callable[[Record], bool] | None = None
    sessions: SessionStore | None = None


def _no_tick() -> None:
    return None


@attrs.frozen(slots=True)
class SourceContext:
    """What a capture source is told: source options (``--source-option``) and limits.

    ``wanted(record)`` says whether a record the source could make would be input for some
    registered decoder (``None``: everything is wanted), so that a source holding far more
    than the layers above use (a HAR file's images and scripts) can leave it out.

    ``tick`` is for sources that may wait for input (a live capture, a proxy): they call it
    often while waiting, from the thread that iterates them (never from another thread), so
    that periodic output such as ``stats --every 10s`` appears while the wire is quiet.
    Calling it costs little; it does something only when a period has passed.

    ``caught_up`` is for live sources that declare ``says_caught_up``: they call it, from
    the same thread, whenever they have yielded the records of all the traffic that has
    arrived (before they wait for more), and at least every 0.1 s while traffic keeps
    coming. The CLI then writes the output out, so that it may buffer a live run's output
    in blocks (one system call per block, not per line, under a flood) and still show each
    record at once when the wire is quiet.

    ``started`` is for sources that may wait for input: they call it once the input is
    open (a capture running, a port listened on, a browser attached) and before they wait.
    A sink that announces itself (the dashboard's URL) does so then, so that an input that
    cannot open is one line on stderr; the CLI also calls it at an input's first record.
    """

    options: Mapping[str, Any] = attrs.field(factory=dict)
    limits: Limits = Limits()
    tick: Callable[[], None] = _no_tick
    wanted: Callable[[Record], bool] | None = None
    caught_up: Callable[[], None] = _no_tick
    started: Callable[[], None] = _no_tick


@attrs.frozen(slots=True)
class SinkContext:
    """What a sink is told when opened.

    ``stream`` is the text stream to write to (stdout unless ``--output`` says otherwise);
    ``color`` says whether ANSI colours are wanted; ``options`` holds ``--sink-option``
    settings and sink-specific CLI options; ``sessions`` is the pipeline's session store
    (filled in by :meth:`Pipeline.build <ioproto.pipeline.Pipeline.build>`), for a sink that
    keeps something per session (docs/plugin-hooks.md, "Sessions"). Only the pipeline's
    thread may use it.

    ``live`` says that the records come from a live source (one that declares ``live``:
    its records arrive as traffic happens), so that capture time also passes between
    records, as the wall clock does: a sink that ends what has gone quiet (the
    ``prometheus`` sink's idle sessions) may look at the wall clock while no record comes.
    False for files, and by default (a program feeding a pipeline itself says so).
    """

    stream: IO[str]
    color: bool = False
    options: Mapping[str, Any] = attrs.field(factory=dict)
    sessions: SessionStore | None = None
    live: bool = False
