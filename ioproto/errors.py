"""The exceptions ioproto raises to its callers.

Decoders never raise these for bad input: bad input becomes an
:class:`~ioproto.model.ErrorRecord`. These are for the caller's mistakes (an unknown name, an
input nobody can read) and for ``--strict`` runs.
"""

from __future__ import annotations

import os
from typing import Any

from .writable import file_problem


class IoprotoError(Exception):
    """Base class of ioproto's exceptions."""


class UsageError(IoprotoError):
    """A mistake of the caller that no record can stand for: an input that cannot be opened
    at all (an interface that does not exist, a port in use, a bad upstream URL), a file a
    sink cannot write.

    A source's ``open`` raises it before yielding anything, a sink factory's ``open`` when
    it is asked to. The message is one line that says what is wrong and what to do; the
    ``ioproto`` command prints it and exits with status 2.
    """


class NoSourceError(UsageError):
    """No registered capture source claims an input (a :class:`UsageError`). Unless
    ``message`` says otherwise, its message says why as far as the path tells: no such file,
    a directory (with the captures in it to name instead), no source loaded, or else to name
    a source."""

    def __init__(self, input: str, valid: list[str], message: str | None = None) -> None:
        self.input = input
        self.valid = valid
        if message is None:
            message = not_a_file(input)
        if message is None and not valid:
            message = (
                f"no capture source can read {input!r}: no plugin that registers one is "
                "loaded (IOPROTO_LOAD_PLUGINS=a,b loads only those; `ioproto plugins` lists "
                "what is loaded)"
            )
        super().__init__(
            message
            or f"no capture source can read {input!r}; name one with --source (in Python: "
            f"source=...) (valid: {', '.join(valid)})"
        )


class PluginError(UsageError):
    """A plugin that cannot work as written, found before any record flows: a hook ioproto
    does not have or that takes an argument the hook does not give, a component without a
    member its kind needs, a component whose ``open`` raised.

    The message names the plugin and what to change. It is a :class:`UsageError`, so the
    ``ioproto`` command prints it as one line and exits with status 2. (An installed plugin
    whose hooks are wrong is not this: it is reported with a warning and skipped.)
    """


class PluginFailure(IoprotoError):
    """Plugin code raised while ``strict`` was on."""

    def __init__(self, plugin: str, component: str, exc: BaseException) -> None:
        self.plugin = plugin
        self.component = component
        self.exc = exc
        super().__init__(f"{component} ({plugin}) raised {type(exc).__name__}: {exc}")

    def __reduce__(self) -> tuple[Any, ...]:
        # A sharded worker (ioproto.shard) sends it to the parent, which raises it.
        return (PluginFailure, (self.plugin, self.component, self.exc))


#: File name extensions of formats that an HTML page written under them would be mistaken for.
_NOT_HTML = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".pdf", ".json", ".csv", ".txt", ".md")


def check_writable(path: str, what: str, *, html: bool = False) -> None:
    """Raise :class:`UsageError` now if the file ``path`` (a sink's ``what``: a chart, a
    report) cannot be written when the input ends (no such folder, a folder, no permission,
    a file system that takes no new files: tried, leaving nothing behind, see
    :mod:`ioproto.writable`); with ``html``, also a name that says another format
    (``chart.png``)."""
    stem, extension = os.path.splitext(path)
    if html and extension.lower() in _NOT_HTML:
        problem: str | None = f"the {what} is an HTML page; name it {stem}.html"
    else:
        problem = file_problem(path)
    if problem is not None:
        raise UsageError(f"cannot write the {what} {path}: {problem}")


class PluginLoadWarning(UserWarning):
    """A plugin could not be loaded; the rest of ioproto goes on without it."""


def not_a_file(path: str) -> str | None:
    """What to say of an input no source claims because it is no file: one that does not
    exist, or a directory (naming the captures in it); ``None`` for a file, and for a
    source's own syntax (``live:eth0``, ``proxy:8080``)."""
    scheme, colon, _ = path.partition(":")
    if colon and scheme.isidentifier() and len(scheme) > 1:
        return None
    if not os.path.exists(path):
        return f"no such file: {path}"
    if not os.path.isdir(path):
        return None
    suffixes = (".pcap", ".pcapng", ".cap", ".har", ".gz")
    try:
        files = sorted(name for name in os.listdir(path) if name.lower().endswith(suffixes))
    except OSError:
        files = []
    if not files:
        return (
            f"{path} is a directory; name the capture files to read (it holds no .pcap, "
            ".pcapng or .har file)"
        )
    example = os.path.join(path, "*" + os.path.splitext(files[0])[1])
    return f"{path} is a directory; name the capture files to read, e.g. {example} " + (
        f"({len(files)} files in it look like captures)"
        if len(files) > 1
        else "(1 file in it looks like a capture)"
    )
