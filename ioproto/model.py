"""The records that cross stage boundaries.

Every record is a frozen, slotted attrs class. A capture source produces records of the
layer its input natively has (byte-stream events, HTTP and WebSocket messages, …, each
layer's plugin declares its record classes); decoder layers turn records of the layer below
into :class:`Packet` records (or a plugin's subclass of it) and :class:`ErrorRecord`
records; classifiers attach :class:`Tag` values; sinks consume all of them. This module
names no protocol.

Contract shared by every record:

* ``ts`` is seconds since the epoch (float) of the capture time of the bytes it came from.
* ``connection`` names the transport connection (for TCP ``"10.0.0.1:5123-10.0.0.2:3000"``,
  client first), or the input it was read from.
* ``direction`` is ``"c2s"``, ``"s2c"`` or ``None`` when the source cannot tell.
* ``sid`` is the id of the session the record belongs to, filled by the layer that owns
  sessions (Engine.IO) once it is known, else ``None``.
* ``transport`` is the session's transport in the words of that layer (``"polling"``,
  ``"websocket"``, …) or ``None``.
* ``parent`` is the record of the layer below that this one was decoded from.
* ``tags`` are classification results, added by classifiers with :meth:`Record.with_tags`.

Binary data is always ``bytes`` inside the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

import attrs

from .fastrecords import PICKLING, Rebuilder, positional_maker, reduce_record, replace_field

Direction = Literal["c2s", "s2c"]


@attrs.frozen(slots=True)
class Tag:
    """One classification result, e.g. ``Tag("client.browser", "Chrome")``.

    ``name`` is dotted, the first part naming the classifier that set it. ``value`` is a JSON
    value (str, int, float, bool, None, list or dict of those).
    """

    name: str
    value: Any

    _ioproto_make = Rebuilder()  # pickle's name for how a Tag is unpickled

    def __reduce__(self) -> tuple[Any, ...]:
        return reduce_record(self)


#: ``make_tag(name, value)`` is ``Tag(name, value)``, at about half the cost: for classifiers
#: that tag most records.
make_tag = positional_maker(Tag, ("name", "value"))


@attrs.frozen(slots=True, kw_only=True)
class Record:
    """Fields every record has. See the module docstring for their contract."""

    ts: float
    connection: str | None = None
    direction: Direction | None = None
    sid: str | None = None
    transport: str | None = None
    parent: Record | None = attrs.field(default=None, repr=False, eq=False)
    tags: tuple[Tag, ...] = ()

    layer: str = ""
    type: str = ""

    _ioproto_make = Rebuilder()  # pickle's name for how each record class is unpickled

    def __reduce__(self) -> tuple[Any, ...]:
        # Cheap pickling: records cross to and from worker processes (ioproto.worker).
        # reduce_record's body, inlined: this runs once per record sent.
        maker, getter = PICKLING[self.__class__]
        return maker, getter(self)

    def with_tags(self, tags: Iterable[Tag]) -> Record:
        """A copy of this record with ``tags`` added after the existing ones."""
        added = tags if type(tags) is tuple else tuple(tags)
        if not added:
            return self
        return replace_field(self, "tags", self.tags + added)  # type: ignore[no-any-return]

    def tag(self, name: str, default: Any = None) -> Any:
        """The value of the last tag called ``name``, or ``default``."""
        for tag in reversed(self.tags):
            if tag.name == name:
                return tag.value
        return default

    def lineage(self) -> Iterator[Record]:
        """This record, then its parent, its parent's parent, and so on."""
        record: Record | None = self
        while record is not None:
            yield record
            record = record.parent


@attrs.frozen(slots=True, kw_only=True)
class Packet(Record):
    """A decoded packet of some layer.

    ``layer`` names the decoder layer (``"engineio"``, ``"socketio"``, …), ``type`` the packet
    type in that layer's own words (``"message"``, ``"EVENT"``). ``data`` is the payload as the
    layer understands it (``str``, ``bytes``, or a JSON value). ``revision`` is the protocol
    revision of this layer for the session. ``raw`` holds the bytes of this packet as they
    appeared on the wire (for binary data, the bytes themselves). ``notes`` are short strings
    that flag leniencies (input the reference accepts but the spec forbids).

    Plugins subclass :class:`Packet` to add typed fields; sinks serialise every attrs field.
    """

    data: Any = None
    revision: int | None = None
    raw: bytes = attrs.field(default=b"", repr=False)
    notes: tuple[str, ...] = ()


@attrs.frozen(slots=True, kw_only=True)
class ErrorRecord(Record):
    """Input that could not be decoded, or a plugin that failed.

    ``rule`` is a stable machine-readable name of what was broken (e.g.
    ``"engineio.payload.bad-length"``); ``reason`` explains it to a person. ``raw`` keeps the
    offending bytes (possibly truncated to the configured limit), ``offset`` the byte or
    character offset inside the parent's data and ``index`` the packet index inside a payload,
    where they apply. ``plugin`` names the plugin whose code raised, for plugin failures.
    """

    rule: str
    reason: str
    raw: bytes = attrs.field(default=b"", repr=False)
    offset: int | None = None
    index: int | None = None
    plugin: str | None = None
    type: str = "error"


def record_context(parent: Record) -> dict[str, Any]:
    """The keyword arguments a derived record copies from ``parent``.

    Decoders call ``Packet(**record_context(parent), layer=..., ...)`` so that every layer
    carries the same time, connection, direction, session and transport.
    """
    return {
        "ts": parent.ts,
        "connection": parent.connection,
        "direction": parent.direction,
        "sid": parent.sid,
        "transport": parent.transport,
        "parent": parent,
    }


def error_from(
    parent: Record,
    *,
    layer: str,
    rule: str,
    reason: str,
    raw: bytes = b"",
    offset: int | None = None,
    index: int | None = None,
    sid: str | None = None,
) -> ErrorRecord:
    """An :class:`ErrorRecord` about input that came from ``parent``."""
    context = record_context(parent)
    if sid is not None:
        context["sid"] = sid
    return ErrorRecord(
        **context,
        layer=layer,
        rule=rule,
        reason=reason,
        raw=raw,
        offset=offset,
        index=index,
    )


#: The layer of :class:`InputSummary` records.
INPUT_SUMMARY_LAYER = "input"


@attrs.frozen(slots=True, kw_only=True)
class InputSummary(Record):
    """What a source saw in one input: a source may yield one as its last record (the
    bundled file sources always do), which also tells the layers the input has ended
    (:meth:`~ioproto.pipeline.Pipeline.end_silent_sessions`: a run's next input may be
    another day's capture).

    The pipeline hands it to no decoder, classifier or sink; it keeps it in
    ``RunSummary.input_summaries``, so that the ``ioproto`` command can say why a run gave
    no records. ``input`` names the input; ``counts`` holds what the source read (its own
    names: ``frames``, ``tcp_connections``, …); ``empty_reason`` is one line for a person
    saying why the input gave no records, should none come out of it (for example ``no TCP
    connection on port 3001; the capture holds ports 3000, 8080``). A source whose records
    the layers above may still turn into nothing (TCP streams that are not Engine.IO) always
    sets it; one that knows sets it only when it yielded nothing else. ``unreadable`` is set,
    to one line saying why, when the source could not read the input as what it reads at
    all (not a capture, a HAR that is not JSON, a file that cannot be read): the error
    record of it is yielded as well, and the ``ioproto`` command also says it on stderr and
    exits with status 1.
    """

    input: str
    counts: Mapping[str, int] = attrs.field(factory=dict)
    empty_reason: str | None = None
    unreadable: str | None = None
    layer: str = INPUT_SUMMARY_LAYER
    type: str = "summary"


DELIVERED_LAYER = "delivered"


@attrs.frozen(slots=True, kw_only=True)
class Delivered(Record):
    """Records that worker processes decoded and classified (``ioproto.shard``), fed to a
    pipeline as one: it writes ``records`` to its sinks, as they are, in order.

    ``rendered``: the workers counted them already, and rendered what they could (the
    ``bytes`` items: for the one sink's ``write_rendered``)."""

    records: list[Any] = attrs.field(factory=list)
    rendered: bool = False
    layer: str = DELIVERED_LAYER
    type: str = "batch"
