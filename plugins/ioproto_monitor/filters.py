"""Which records the monitor shows: event names (globs), namespaces, sessions, types,
direction, and whether Engine.IO control packets are hidden.

Options come as strings (``--sink-option monitor.event=chat*``, comma-separated for several)
or as lists (from the ``ioproto monitor`` command).
"""

from __future__ import annotations

from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

import attrs

from ioproto.components import option_flag
from ioproto.model import Record

from .render import is_control


def as_list(value: Any) -> tuple[str, ...]:
    """``"a,b"`` / ``["a", "b"]`` / ``None`` → ``("a", "b")`` / ``()``."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [str(item) for item in value]
    return tuple(item.strip() for item in items if item.strip())


def event_name(record: Record) -> str | None:
    """The event a record is about: an EVENT's name, or the name of the EVENT an ACK (or an
    unanswered-ack record) answers. ``None`` for other records."""
    event = getattr(record, "event", None)
    if event is None:
        answered = getattr(record, "answers", None)
        event = getattr(answered, "event", None) if answered is not None else None
    if event is None:
        return None
    return event if isinstance(event, str) else str(event)


@attrs.frozen
class Filter:
    """A record passes when it matches every criterion that is set."""

    events: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    sids: tuple[str, ...] = ()
    types: frozenset[str] = frozenset()
    direction: str | None = None
    hide_control: bool = False

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Filter:
        direction = options.get("direction")
        return cls(
            events=as_list(options.get("event")),
            namespaces=as_list(options.get("nsp")),
            sids=as_list(options.get("sid")),
            types=frozenset(item.lower() for item in as_list(options.get("type"))),
            direction=str(direction) if direction in ("c2s", "s2c") else None,
            hide_control=option_flag(options.get("hide_control", False)),
        )

    @property
    def active(self) -> bool:
        return bool(
            self.events
            or self.namespaces
            or self.sids
            or self.types
            or self.direction
            or self.hide_control
        )

    def __call__(self, record: Record) -> bool:
        if self.hide_control and is_control(record):
            return False
        if self.direction is not None and record.direction != self.direction:
            return False
        if self.types and record.type.lower() not in self.types:
            return False
        if self.sids:
            sid = record.sid
            if sid is None or not any(sid.startswith(prefix) for prefix in self.sids):
                return False
        if self.namespaces:
            nsp = getattr(record, "nsp", None)
            if nsp is None or nsp not in self.namespaces:
                return False
        if self.events:
            name = event_name(record)
            if name is None or not any(fnmatchcase(name, glob) for glob in self.events):
                return False
        return True
