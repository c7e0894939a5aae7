"""The insight classifiers: transport, upgrade, client, latency, event, error, session.

Each is its own classifier (``--no-classify NAME`` turns one off). They are registered in
this order because ``session`` reads the tags of the others. Tags and records are listed in
each module's docstring and in docs/formats.md.
"""

from __future__ import annotations

from collections.abc import Callable

import ioproto
from ioproto.components import Classifier
from ioproto.filters import Field
from ioproto.lazy import lazy_names
from ioproto.lazycomponents import LazyComponent

#: ``(module, class, name)`` of each classifier, in the order they run.
_CLASSIFIERS = (
    ("transport", "TransportClassifier", "transport"),
    ("upgrade", "UpgradeClassifier", "upgrade"),
    ("client", "ClientClassifier", "client"),
    ("latency", "LatencyClassifier", "latency"),
    ("events", "EventClassifier", "event"),
    ("errors", "ErrorClassifier", "error"),
    ("session", "SessionClassifier", "session"),
)


@ioproto.hookimpl
def register_classifiers(register: Callable[[Classifier | LazyComponent], None]) -> None:
    for module, cls, name in _CLASSIFIERS:
        register(LazyComponent(f"{__name__}.{module}:{cls}", name=name))


@ioproto.hookimpl
def register_fields(register: Callable[[Field], None]) -> None:
    from .fields import FIELDS

    for field in FIELDS:
        register(field)


# The names this package exported before its modules loaded on first use.
__getattr__ = lazy_names(
    __name__,
    {
        "ClientClassifier": "client",
        "ErrorClassifier": "errors",
        "EventClassifier": "events",
        "FIELDS": "fields",
        "LatencyClassifier": "latency",
        "SessionClassifier": "session",
        "TransportClassifier": "transport",
        "UpgradeClassifier": "upgrade",
    },
    globals(),
)
