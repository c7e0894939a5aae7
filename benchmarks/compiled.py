"""The compiled build (setup.py, ``IOPROTO_COMPILE=1``) in a directory of its own, beside
the installed package, for bench_targets.py ``--compiled`` and tests/core/test_compiled.py.

    python benchmarks/compiled.py [DIR]    # build into DIR (default benchmarks/data/compiled)

:func:`build_tree` builds the wheel with the Cython and setuptools of this environment
(``pip install cython``; no download) and unpacks its packages into a directory, without
the package's metadata, so that the installed package's entry points (the same module
names) stay the ones read. :func:`python_command` runs Python with that directory first on
``sys.path``: its compiled modules are then the ones imported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TREE = ROOT / "benchmarks" / "data" / "compiled"


def build_tree(tree: Path) -> Path:
    """Build the compiled wheel of this checkout and unpack it into ``tree`` (emptied
    first); ``RuntimeError`` with pip's last words when the build fails."""
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    # setuptools builds in ./build: what an earlier build left in build/lib (a module
    # since removed, a stray file) would go into the wheel. The C and the object files it
    # keeps (build/cython, build/temp*) only spare recompiling unchanged modules.
    for stale in (ROOT / "build").glob("lib*"):
        shutil.rmtree(stale)
    with tempfile.TemporaryDirectory(prefix="ioproto-wheel-") as wheels:
        built = subprocess.run(
            [*pip_wheel, "-q", "-w", wheels, str(ROOT)],
            env={**os.environ, "IOPROTO_COMPILE": "1"},
            capture_output=True,
            text=True,
        )
        if built.returncode != 0:
            raise RuntimeError(f"the compiled build failed: {built.stderr[-4000:]}")
        (wheel,) = Path(wheels).glob("ioproto-*.whl")
        shutil.rmtree(tree, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(tree)
    for metadata in tree.glob("*.dist-info"):
        shutil.rmtree(metadata)
    return tree


def python_command(tree: Path) -> list[str]:
    """The command that runs this Python with the compiled modules of ``tree`` imported
    first (``-P``: the working directory, whose source would hide them, not on
    ``sys.path``)."""
    return ["env", f"PYTHONPATH={tree}", sys.executable, "-P"]


def add_compiled_option(parser: argparse.ArgumentParser, what: str = "also") -> None:
    """The benchmarks' ``--compiled`` flag; ``what``: "also" the compiled build, or
    "measure" it instead of the installed one."""
    parser.add_argument(
        "--compiled",
        action="store_true",
        help=f"{what} the compiled build (setup.py), built into benchmarks/data/compiled",
    )


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_TREE
    print(build_tree(target))
