"""Which option names a sink takes: the one check that :meth:`Pipeline.build
<ioproto.pipeline.Pipeline.build>` makes of every ``SinkContext.options`` and whose words
``--sink-option`` shares.

A sink factory's ``options`` declare what a user may set. Its ``private_options`` name what
the plugin's own code passes besides (a command's object, what ``plan()`` returns), and a
factory whose ``target`` is ``"address"`` is given ``target``: a program may pass those,
``--sink-option`` may not. A factory that declares no ``options`` is not checked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from .components import SinkFactory, declared_options, optional
from .errors import UsageError
from .suggest import closest, did_you_mean

#: What a program may mean by a file to write to, which a path sink takes as its stream.
_FILE_WORDS = ("path", "file", "filename", "output", "out")
_STREAM_HINT = (
    "; it writes to its SinkContext's stream: SinkContext(stream=open(PATH, 'w', encoding='utf-8'))"
)


def takes_path(factory: object | None) -> bool:
    """Whether ``NAME:X`` (``--sink NAME:X``, an in-process tap's ``sinks``) names a file for
    sink factory ``factory`` to write (the default, and for a sink not installed) or, for a
    factory with ``target = "address"`` (prometheus), what it reads as its option
    ``target``."""
    if factory is None:
        return True
    return bool(optional(factory, "SinkFactory", "target") == "path")


def split_sink_options(
    options: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(shared, per_sink)``: ``KEY`` for every sink that takes it, ``SINK.KEY`` for sink
    ``SINK`` alone, as ``--sink-option`` reads them (and an in-process tap's
    ``sink_options``)."""
    shared: dict[str, Any] = {}
    per_sink: dict[str, dict[str, Any]] = {}
    for key, value in options.items():
        sink, dot, option = key.partition(".")
        if dot:
            per_sink.setdefault(sink, {})[option] = value
        else:
            shared[key] = value
    return shared, per_sink


def not_an_option(key: str, valid: Collection[str], owner: str) -> str:
    """``"not an option of the OWNER (did you mean X?); valid: A, B"``: how a name that
    ``owner`` does not take is said, by the command and the library alike."""
    listed = ", ".join(sorted(valid)) or "none"
    return f"not an option of the {owner}{did_you_mean(key, valid)}; valid: {listed}"


def accepted_option_names(factory: SinkFactory, *, private: bool = True) -> set[str] | None:
    """Every name ``factory`` may be opened with: declared, and unless ``private`` is false
    (what a user types, ``--sink-option``) its private ones and ``target`` for an address
    sink; ``None`` when it declares no options."""
    declared = declared_options(factory, "SinkFactory")
    if declared is None:
        return None
    names = set(declared)
    if private:
        names.update(optional(factory, "SinkFactory", "private_options"))
        if optional(factory, "SinkFactory", "target") == "address":
            names.add("target")
    return names


def option_problem(
    name: str, factory: SinkFactory, key: str, *, private: bool = True
) -> str | None:
    """Why sink ``name`` does not take option ``key`` (``not_an_option``'s words), or
    ``None`` when it does or declares nothing. ``private``: as for
    :func:`accepted_option_names`."""
    accepted = accepted_option_names(factory, private=private)
    if accepted is None or key in accepted:
        return None
    return not_an_option(key, declared_options(factory, "SinkFactory") or {}, f"{name} sink")


def check_sink_option_names(name: str, factory: SinkFactory, keys: Iterable[str]) -> None:
    """A :class:`~ioproto.errors.UsageError` for a key sink ``name`` does not take, naming
    the likely one and the valid ones."""
    for key in keys:
        problem = option_problem(name, factory, key)
        if problem is not None:
            hint = _STREAM_HINT if names_a_file(key, factory) else ""
            raise UsageError(f"sink option {key!r}: {problem}{hint}")


def names_a_file(key: str, factory: SinkFactory) -> bool:
    """Whether ``key`` looks like a file to write (``path``, ``paht``, ``output``) given as an
    option to a sink that takes none, as it writes to its stream."""
    if optional(factory, "SinkFactory", "target") != "path":
        return False
    if "path" in (accepted_option_names(factory) or ()):
        return False
    return closest(key, _FILE_WORDS) is not None
