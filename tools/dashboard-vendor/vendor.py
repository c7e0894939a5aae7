"""Copy the pinned chart library from node_modules into the dashboard plugin.

    cd tools/dashboard-vendor && npm ci && python vendor.py

The files land in plugins/ioproto_dashboard/static/vendor/ and are committed, so that
installing ioproto needs no Node. tests/dashboard/test_dashboard_vendor.py checks that they are
byte for byte the files of the version pinned in package.json (installed by `make
install-test`), so they are never edited by hand.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parents[1] / "plugins" / "ioproto_dashboard" / "static" / "vendor"
#: npm package -> files copied from it (relative to the package folder).
FILES = {"uplot": ("dist/uPlot.iife.min.js", "dist/uPlot.min.css", "LICENSE")}


def pinned(package: str) -> str:
    manifest = json.loads((HERE / "package.json").read_text())
    return str(manifest["dependencies"][package])


def main() -> int:
    for package, files in FILES.items():
        folder = HERE / "node_modules" / package
        installed = json.loads((folder / "package.json").read_text())["version"]
        if installed != pinned(package):
            print(f"{package} {installed} is installed, {pinned(package)} pinned: run npm ci")
            return 1
        for name in files:
            target = TARGET / (f"{package}.LICENSE" if name == "LICENSE" else Path(name).name)
            shutil.copyfile(folder / name, target)
            print(f"{folder / name} -> {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
