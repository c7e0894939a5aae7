"""The vendored chart library is the npm package pinned in tools/dashboard-vendor, unedited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "dashboard-vendor"
VENDOR = ROOT / "plugins" / "ioproto_dashboard" / "static" / "vendor"
FILES = {
    "uPlot.iife.min.js": "dist/uPlot.iife.min.js",
    "uPlot.min.css": "dist/uPlot.min.css",
    "uplot.LICENSE": "LICENSE",
}


def test_the_vendored_files_are_those_of_the_pinned_npm_package() -> None:
    package = TOOLS / "node_modules" / "uplot"
    if not package.is_dir():
        pytest.skip("tools/dashboard-vendor/node_modules missing: run make install-test")
    pinned = json.loads((TOOLS / "package.json").read_text())["dependencies"]["uplot"]
    locked = json.loads((TOOLS / "package-lock.json").read_text())
    assert locked["packages"]["node_modules/uplot"]["version"] == pinned
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    for shipped, original in FILES.items():
        assert (VENDOR / shipped).read_bytes() == (package / original).read_bytes(), shipped


def test_the_package_ships_every_file_the_page_needs() -> None:
    from ioproto_dashboard.page import STATIC_FILES, index_html, static_bytes

    page = index_html().decode()
    for name in STATIC_FILES:
        assert f'"static/{name}"' in page
        assert static_bytes(name)
        assert b"</script" not in static_bytes(name).lower()
