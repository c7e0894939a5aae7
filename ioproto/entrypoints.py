"""The entry points of one group, read without importing :mod:`importlib.metadata` when the
installed distributions are plain directories on ``sys.path`` (as pip installs them).

Importing ``importlib.metadata`` (email, zipfile, csv …) costs 15-25 ms, a fifth of
``ioproto plugins``; reading the few ``entry_points.txt`` files needs none of it.
:func:`entry_points` returns what ``importlib.metadata.entry_points(group=group)`` would, in
the same order: distributions in ``sys.path`` order and, in a directory, in listing order,
the first distribution of a (normalised) name hiding later ones; entry points in file
order. Where distributions could come from elsewhere (a zip file or an egg on ``sys.path``,
a meta-path finder of its own that finds distributions), it asks importlib.metadata.
"""

from __future__ import annotations

import os
import re
import sys
from importlib import import_module
from typing import Any

#: The syntax of an entry point's value (importlib.metadata's own).
_VALUE = re.compile(r"(?P<module>[\w.]+)\s*(:\s*(?P<attr>[\w.]+)\s*)?((?P<extras>\[.*\])\s*)?$")
_INFO_SUFFIXES = (".dist-info", ".egg-info")


class Distribution:
    """An installed distribution's directory; its ``name`` and ``version`` are read from its
    metadata file when first asked for."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._headers: dict[str, str] | None = None

    @property
    def name(self) -> str | None:
        return self._header("name")

    @property
    def version(self) -> str | None:
        return self._header("version")

    def _header(self, key: str) -> str | None:
        if self._headers is None:
            self._headers = {}
            text = _read(self.path, "METADATA") or _read(self.path, "PKG-INFO") or ""
            for line in text.splitlines():
                if not line.strip():
                    break  # the end of the headers
                field, colon, value = line.partition(":")
                if colon:
                    self._headers.setdefault(field.strip().lower(), value.strip())
        return self._headers.get(key)


class EntryPoint:
    """``name = value`` of a group, from ``dist``; :meth:`load` imports what it names."""

    def __init__(self, name: str, value: str, group: str, dist: Any) -> None:
        self.name = name
        self.value = value
        self.group = group
        self.dist = dist

    def load(self) -> Any:
        match = _VALUE.match(self.value)
        if match is None:
            raise ValueError(f"entry point {self.name} = {self.value!r} is not 'module:attr'")
        loaded: Any = import_module(match.group("module"))
        for attribute in filter(None, (match.group("attr") or "").split(".")):
            loaded = getattr(loaded, attribute)
        return loaded


def entry_points(group: str) -> list[Any]:
    """The entry points of ``group`` of every installed distribution (see the module
    docstring): objects with ``name``, ``value``, ``dist`` (``name``, ``version``) and
    ``load()``."""
    found = _from_directories(group)
    if found is None:
        import importlib.metadata

        return list(importlib.metadata.entry_points(group=group))
    return found


def _from_directories(group: str) -> list[Any] | None:
    """The entry points read from the distribution directories on ``sys.path``; ``None``
    when something this reader does not handle could hold distributions."""
    if any(_finds_distributions(finder) for finder in sys.meta_path):
        return None
    found: list[Any] = []
    seen: set[str] = set()
    for root in sys.path:
        folder = root or "."
        try:
            children = os.listdir(folder)
        except OSError:
            if os.path.exists(folder):
                return None  # a zip file, say
            continue
        if os.path.basename(folder).lower().endswith(".egg"):
            return None
        for child in children:
            if not child.lower().endswith(_INFO_SUFFIXES):
                continue
            name = _normalise(child.lower().rpartition(".")[0].partition("-")[0])
            if name in seen:
                continue
            seen.add(name)
            path = os.path.join(folder, child)
            text = _read(path, "entry_points.txt")
            if text:
                dist = Distribution(path)
                found.extend(
                    EntryPoint(key, value, group, dist)
                    for section, key, value in _pairs(text)
                    if section == group
                )
    return found


def _finds_distributions(finder: object) -> bool:
    """Whether a meta-path finder other than the standard path finder finds distributions."""
    from importlib.machinery import PathFinder

    return finder is not PathFinder and hasattr(finder, "find_distributions")


def _pairs(text: str) -> list[tuple[str | None, str, str]]:
    """``(section, name, value)`` of an ``entry_points.txt`` (importlib.metadata's reading:
    stripped lines, ``#`` comments, ``[section]`` headers, ``name = value``)."""
    pairs = []
    section = None
    for line in (line.strip() for line in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line.strip("[]")
            continue
        name, _, value = line.partition("=")
        pairs.append((section, name.strip(), value.strip()))
    return pairs


def _normalise(name: str) -> str:
    """PEP 503 normalisation, with underscores (importlib.metadata's ``Prepared``)."""
    return re.sub(r"[-_.]+", "-", name).lower().replace("-", "_")


def _read(folder: str, name: str) -> str | None:
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None
