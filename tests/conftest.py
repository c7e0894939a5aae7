"""Shared fixtures. Every test gets a fresh plugin manager; nothing is global."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"

# The bundled plugins are importable through the editable install; this keeps a bare
# source checkout working too. The example game protocol (docs/examples/ioproto-game) is an
# example, not installed: the tests that decode game.pcap import it from there and
# register it themselves.
for path in (ROOT / "plugins", ROOT / "docs" / "examples" / "ioproto-game"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def bundled_plugin_names() -> list[str] | None:
    """The entry points the installed ioproto distribution declares (its bundled plugins);
    ``None`` when it is not installed (a bare source checkout loads no entry point)."""
    from importlib import metadata

    try:
        declared = metadata.distribution("ioproto").entry_points
    except metadata.PackageNotFoundError:
        return None
    return [entry.name for entry in declared if entry.group == "ioproto"]


def pytest_configure(config: pytest.Config) -> None:
    # The client classifier keeps the User-Agents it identified in a cache file
    # (ioproto_classify.uacache): the tests, and the ioproto processes they start, use a
    # directory of their own, not the user's ~/.cache.
    if "IOPROTO_CACHE_DIR" not in os.environ:
        folder = tempfile.mkdtemp(prefix="ioproto-test-cache-")
        os.environ["IOPROTO_CACHE_DIR"] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    # The suite tests the bundled plugins: one installed besides them (the README's example
    # game, docs/writing-a-plugin.md's dice, a third party's) would add layers, fields,
    # sinks and imports to what the tests compare. Only ioproto's own entry points load,
    # here and in the commands the tests run; a test of other plugins unsets this itself.
    bundled = bundled_plugin_names()
    if "IOPROTO_LOAD_PLUGINS" not in os.environ and bundled is not None:
        os.environ["IOPROTO_LOAD_PLUGINS"] = ",".join(bundled)
        config.add_cleanup(lambda: os.environ.pop("IOPROTO_LOAD_PLUGINS", None))


def node_available() -> bool:
    return shutil.which("node") is not None and NODE_MODULES.is_dir()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if node_available():
        return
    skip = pytest.mark.skip(reason="node or tests/node/node_modules missing (run `make test`)")
    for item in items:
        if "node" in item.keywords:
            item.add_marker(skip)
