"""The bindings of an application protocol: which bytes are which construct format.

An :class:`~ioproto_appproto.protocol.AppProtocol` is data: a name and a list of these
bindings. Nothing happens at import time.

* :class:`EventArg` binds argument ``arg`` of Socket.IO EVENT ``event`` in namespace ``nsp``
  (optionally one direction only) to a construct ``format``.
* :class:`AckArg` binds argument ``arg`` of the ACK that answers EVENT ``event`` in ``nsp``
  (the Socket.IO layer pairs an ACK with its EVENT; an ACK whose EVENT was not seen cannot
  be bound).
* :class:`EngineIOBinary` binds binary Engine.IO messages (an application speaking raw
  Engine.IO, without Socket.IO) by HTTP ``path`` of the session (``"/telemetry"``), or by a
  ``probe(data) -> bool`` function, or both (both must match).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from ioproto.model import Direction


def name_check(instance: Any, attribute: Any, value: str) -> None:
    """An attrs validator: a name of letters, digits, ``_`` and ``-``."""
    if not value or not all(c.isalnum() or c in "_-" for c in value):
        raise ValueError(f"{attribute.name} {value!r}: use letters, digits, '_' and '-'")


def format_check(instance: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: a construct format (an object with ``parse``), not its class."""
    if isinstance(value, type) or not callable(getattr(value, "parse", None)):
        what = f"the class {value.__name__}" if isinstance(value, type) else repr(value)
        raise TypeError(
            f"format={what}: not a construct format; give one, such as "
            f'Struct("x" / Int8ub) or Int16ub'
        )


def direction_check(instance: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: ``None``, ``"c2s"`` or ``"s2c"``."""
    if value not in (None, "c2s", "s2c"):
        raise ValueError(f"direction={value!r}: give 'c2s', 's2c' or None (both)")


def nsp_check(instance: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: a Socket.IO namespace, which starts with ``/``."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise ValueError(f"nsp={value!r}: a namespace starts with '/', e.g. nsp='/{value}'")


def arg_check(instance: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: an argument position, 0 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"arg={value!r}: give the argument's position, 0 for the first")


def event_check(instance: Any, attribute: Any, value: Any) -> None:
    """An attrs validator: an event name."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"event={value!r}: give the event's name, e.g. event='move'")


@attrs.frozen(slots=True, kw_only=True)
class _Argument:
    """What binding a Socket.IO argument takes (see :class:`EventArg`, :class:`AckArg`).

    A value that cannot work (a ``format`` that is no construct format, a namespace without
    its ``/``, a negative ``arg``, a ``direction`` other than ``c2s``/``s2c``) raises
    ``ValueError`` or ``TypeError`` saying what to give, when the plugin is imported."""

    event: str = attrs.field(validator=event_check)
    format: Any = attrs.field(repr=False, validator=format_check)
    nsp: str = attrs.field(default="/", validator=nsp_check)
    arg: int = attrs.field(default=0, validator=arg_check)
    message: str | None = None
    direction: Direction | None = attrs.field(default=None, validator=direction_check)


@attrs.frozen(slots=True, kw_only=True)
class EventArg(_Argument):
    """Argument ``arg`` (0 = first after the event name) of EVENT ``event`` on ``nsp`` is
    ``format``; ``message`` names the decoded message (default: the event name)."""

    @property
    def name(self) -> str:
        return self.message or self.event


@attrs.frozen(slots=True, kw_only=True)
class AckArg(_Argument):
    """Argument ``arg`` (0 = the first) of the ACK answering EVENT ``event`` on ``nsp`` is
    ``format``; ``message`` names the decoded message (default: ``<event>-ack``);
    ``direction`` is the ACK's own (the opposite of its EVENT's)."""

    @property
    def name(self) -> str:
        return self.message or f"{self.event}-ack"


@attrs.frozen(slots=True, kw_only=True)
class EngineIOBinary:
    """Binary Engine.IO messages on HTTP ``path`` (and/or for which ``probe(data)`` is true)
    are ``format``, decoded as message ``message``."""

    format: Any = attrs.field(repr=False, validator=format_check)
    message: str = "message"
    path: str | None = None
    probe: Callable[[bytes], bool] | None = attrs.field(default=None, repr=False)
    direction: Direction | None = attrs.field(default=None, validator=direction_check)

    def __attrs_post_init__(self) -> None:
        if self.path is None and self.probe is None:
            raise ValueError("EngineIOBinary needs a path, a probe, or both")

    @property
    def name(self) -> str:
        return self.message


Binding = EventArg | AckArg | EngineIOBinary
SocketIOArg = EventArg | AckArg


def as_bindings(value: Iterable[Binding]) -> tuple[Binding, ...]:
    """An attrs converter: ``value`` as a tuple of bindings (anything else is refused)."""
    if isinstance(value, EventArg | AckArg | EngineIOBinary):
        raise TypeError(f"bindings takes a list of bindings: bindings=[{value!r}]")
    bindings = tuple(value)
    for binding in bindings:
        if not isinstance(binding, EventArg | AckArg | EngineIOBinary):
            raise TypeError(f"not a binding: {binding!r}")
    return bindings
