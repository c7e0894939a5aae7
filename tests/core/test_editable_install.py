"""An editable install (the README's ``pip install -e .``) leaves the source tree
byte-compiled, so that start-up does not depend on the environment.

Where ``PYTHONDONTWRITEBYTECODE`` is set (many container images set it) Python never writes
the bytecode cache, and an editable install, which pip does not byte-compile, compiled all
of ioproto at every run (setup.py, ``ByteCompiledEditable``; benchmarks/README.md,
"Without a bytecode cache").
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sysconfig
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: What an install of the project reads.
PROJECT_FILES = ("pyproject.toml", "setup.py", "README.md")


def _uncached(tree: Path) -> list[Path]:
    """The modules under ``tree`` without a bytecode cache as fresh as their source."""
    missing = []
    for source in sorted(tree.rglob("*.py")):
        cached = Path(importlib.util.cache_from_source(str(source)))
        if not cached.exists() or cached.stat().st_mtime < source.stat().st_mtime:
            missing.append(source)
    return missing


def test_byte_compile_caches_every_module_and_survives_one_that_does_not_compile(
    tmp_path: Path, setup_py: Any
) -> None:
    (tmp_path / "ioproto" / "cli").mkdir(parents=True)
    (tmp_path / "ioproto" / "cli" / "main.py").write_text("VALUE = 1\n")
    (tmp_path / "plugins" / "ioproto_x").mkdir(parents=True)
    (tmp_path / "plugins" / "ioproto_x" / "good.py").write_text("def f():\n    return 2\n")
    broken = tmp_path / "plugins" / "ioproto_x" / "broken.py"
    broken.write_text("def f(:\n")

    assert setup_py.byte_compile(tmp_path) is False  # one module did not compile, no exception
    assert _uncached(tmp_path) == [broken]


@pytest.mark.slow
def test_an_editable_install_is_byte_compiled_where_python_may_not_write_its_cache(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in PROJECT_FILES:
        shutil.copy(ROOT / name, project / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.c")
    for tree in ("ioproto", "plugins"):
        shutil.copytree(ROOT / tree, project / tree, ignore=ignore)
    assert _uncached(project / "ioproto")
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    # The dependencies from the site-packages of the environment running the tests (a venv
    # or not), by a .pth line: only the install is tested. (A directory named by a .pth
    # file is not a site directory: the .pth files in it, the tests' own editable install
    # of ioproto among them, are not read.)
    inner = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(inner) / "outer-environment.pth").write_text("".join(f"{path}\n" for path in outer))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)

    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(project)],
        check=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )

    assert _uncached(project / "ioproto") == []
    assert _uncached(project / "plugins") == []
    run = subprocess.run(
        [str(python), "-c", "import ioproto_socketio.decoder as m; print(m.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()).is_relative_to(project)  # the install under test
