"""Which decoder option names the components take: the one check that :meth:`Pipeline.build
<ioproto.pipeline.Pipeline.build>` makes of ``DecodeContext.options`` and whose words
``-D``/``--decode-option`` shares.

Decoder options are one mapping that every decoder layer and classifier is given, so a name
is valid when a decoder or a classifier declares it (``options``, see
:mod:`ioproto.components`). While a decoder declares nothing, no name can be checked and every
name passes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .components import declared_options
from .errors import UsageError
from .suggest import did_you_mean

if TYPE_CHECKING:
    from .plugins import Components

#: How a program gives a source option, for :func:`decode_option_problem`.
_LIBRARY_SOURCE_OPTION = "source_options={{'{key}': ...}}"


def decode_option_names(components: Components) -> set[str] | None:
    """Every decoder option name a decoder or classifier declares; ``None`` when a decoder
    declares nothing (then any name passes)."""
    valid: set[str] = set()
    for decoder in components.decoders.items():
        names = declared_options(decoder.component, "Decoder")
        if names is None:
            return None
        valid.update(names)
    for classifier in components.classifiers.items():
        valid.update(declared_options(classifier.component, "Classifier") or ())
    return valid


def source_option_names(components: Components) -> set[str]:
    """Every source option name some registered source declares."""
    names: set[str] = set()
    for item in components.sources.items():
        names.update(declared_options(item.component, "Source") or ())
    return names


def decode_option_problem(key: str, components: Components, *, source_option: str) -> str | None:
    """Why ``key`` is no decoder option, or ``None`` when it is one or cannot be checked:
    ``"no decoder takes it (did you mean X?); valid: A, B"``, and when a source declares
    ``key``, ``"; KEY is a source's option: HOW"``, where ``source_option`` is how the
    caller's user gives one, ``{key}`` standing for the name (``--source-option
    {key}=VALUE``)."""
    valid = decode_option_names(components)
    if valid is None or key in valid:
        return None
    listed = ", ".join(sorted(valid)) or "none"
    problem = f"no decoder takes it{did_you_mean(key, valid)}; valid: {listed}"
    if key in source_option_names(components):
        problem += f"; {key} is a source's option: {source_option.format(key=key)}"
    return problem


def check_decode_option_names(keys: Iterable[str], components: Components) -> None:
    """A :class:`~ioproto.errors.UsageError` for the first of ``keys`` that no decoder or
    classifier takes, in :func:`decode_option_problem`'s words."""
    for key in keys:
        problem = decode_option_problem(key, components, source_option=_LIBRARY_SOURCE_OPTION)
        if problem is not None:
            raise UsageError(f"decoder option {key!r}: {problem}")
