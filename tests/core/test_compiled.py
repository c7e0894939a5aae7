"""The compiled build (setup.py, ``IOPROTO_COMPILE=1``) decodes exactly as the Python source.

A wheel is built with Cython and unpacked into a directory; the tests that pin the
decoders' output then run again in a process that imports the compiled modules from it:
every capture's golden records, the decoders' property, robustness and reference tests,
the hostile inputs of tests/fuzz (bombs, damaged headers, absurd values), the pipeline's,
the records' pickling, the reader process's (and its pipe), the sharded workers' and the
proxy's. Skipped, saying why, where
Cython or a C compiler is missing: the compiled build is optional, and without it the
package is the same Python.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from compiled import build_tree, python_command  # noqa: E402

#: The tests run again on the compiled modules.
PARITY_TESTS = (
    "tests/golden",
    "tests/socketio",
    "tests/engineio",
    "tests/pcap",
    "tests/fuzz",
    "tests/core/test_pipeline.py",
    "tests/core/test_fastrecords.py",
    "tests/core/test_pickling.py",
    "tests/core/test_pipes.py",
    "tests/core/test_jsonform.py",
    "tests/core/test_worker.py",
    "tests/core/test_split.py",
    "tests/core/test_routing.py",
    "tests/live/test_proxy_cli.py",
    "tests/live/test_proxy_framing.py",
    "tests/live/test_proxy_process.py",
    "tests/live/test_proxy_relay.py",
    "tests/live/test_proxy_spool.py",
    "tests/live/test_proxy_streams.py",
    "tests/live/test_proxy_transparent.py",
    "tests/live/test_proxy_vs_capture.py",
)

pytestmark = pytest.mark.slow


def _compiler() -> str | None:
    command = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    return shutil.which(command.split()[0])


@pytest.fixture(scope="module")
def compiled_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the compiled build's packages (benchmarks/compiled.py)."""
    if importlib.util.find_spec("Cython") is None:
        pytest.skip("Cython is not installed (pip install cython): the compiled build needs it")
    if _compiler() is None:
        pytest.skip("no C compiler (cc): the compiled build needs one")
    return build_tree(tmp_path_factory.mktemp("compiled"))


def _python(tree: Path, *arguments: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*python_command(tree), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_every_listed_module_is_compiled_and_imported_so(
    compiled_tree: Path, setup_py: Any
) -> None:
    sources = setup_py.compiled_sources()
    names = [".".join(Path(source).with_suffix("").parts[-2:]) for source in sources]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    print(name, importlib.import_module(name).__file__)\n"
    )
    result = _python(compiled_tree, "-c", script, timeout=120)
    assert result.returncode == 0, result.stderr
    suffixes = tuple(EXTENSION_SUFFIXES)
    loaded = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert set(loaded) == set(names)
    python_ones = [name for name, path in loaded.items() if not path.endswith(suffixes)]
    assert not python_ones, f"imported from Python source, not compiled: {python_ones}"
    assert all(path.startswith(str(compiled_tree)) for path in loaded.values())
    version = _python(compiled_tree, "-m", "ioproto", "--version", timeout=60)
    assert version.stdout.strip().endswith("(compiled build)"), version.stdout + version.stderr


def test_the_command_the_parity_tests_run_is_the_compiled_one(compiled_tree: Path) -> None:
    """The parity tests run ``ioproto`` through tests/clirun.py, from the repository's root,
    whose ``ioproto/`` is the source: that command must import the compiled tree's modules
    all the same (``-P``), not the source in its working folder."""
    script = (
        "import sys\n"
        "sys.path.insert(0, 'tests')\n"
        "from clirun import run_ioproto\n"
        "done = run_ioproto('--version', env={'PYTHONVERBOSE': '1'})\n"
        "print(done.stdout, end='')\n"
        "print(done.stderr, end='', file=sys.stderr)\n"
    )
    result = _python(compiled_tree, "-c", script, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().endswith("(compiled build)"), result.stdout
    imported = _imported_files(result.stderr)
    assert any(path.startswith(f"{compiled_tree}/ioproto/") for path in imported), imported
    sources = (f"{ROOT}/ioproto/", f"{ROOT}/plugins/")
    from_source = [path for path in imported if path.startswith(sources)]
    assert not from_source, f"imported from the source, not the compiled build: {from_source}"


def _imported_files(verbose: str) -> list[str]:
    """Every file a module's code came from, as ``PYTHONVERBOSE=1`` says (``# code object
    from PATH``, ``# extension module 'NAME' loaded from 'PATH'``)."""
    files: list[str] = []
    for line in verbose.splitlines():
        if line.startswith("# code object from "):
            files.append(line.removeprefix("# code object from ").strip("'"))
        elif match := re.match(r"# extension module '[\w.]+' loaded from '(.+)'$", line):
            files.append(match.group(1))
    return files


def test_the_decoders_tests_pass_on_the_compiled_modules(compiled_tree: Path) -> None:
    result = _python(
        compiled_tree,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-m",
        "not slow",
        *PARITY_TESTS,
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("variable", "argv", "compiled"),
    [
        (None, ["setup.py", "bdist_wheel"], False),  # not asked for: pure Python
        ("1", ["setup.py", "editable_wheel"], False),  # editable: never compiled
        ("1", ["setup.py", "egg_info"], None),  # asked for: compiled where Cython is
    ],
)
def test_the_build_compiles_only_when_asked_and_never_editable(
    monkeypatch: pytest.MonkeyPatch,
    setup_py: Any,
    variable: str | None,
    argv: list[str],
    compiled: bool | None,
) -> None:
    if variable is None:
        monkeypatch.delenv("IOPROTO_COMPILE", raising=False)
    else:
        monkeypatch.setenv("IOPROTO_COMPILE", variable)
    monkeypatch.setattr(sys, "argv", argv)
    if compiled is None:
        compiled = importlib.util.find_spec("Cython") is not None
        if compiled:
            # Cython translating every module takes a minute: a stand-in that names them.
            import Cython.Build

            monkeypatch.setattr(Cython.Build, "cythonize", lambda extensions, **_: extensions)
    names = {extension.name for extension in setup_py._extensions()}
    assert bool(names) is compiled
    if compiled:
        assert "ioproto.pipeline" in names and "ioproto_socketio.decoder" in names


def test_a_module_that_does_not_compile_stays_python_and_the_build_goes_on(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    setup_py: Any,
) -> None:
    from setuptools import Distribution, Extension

    # A real build of a real C module, with a compiler that fails as a missing one does.
    monkeypatch.setenv("CC", "/bin/false")
    source = tmp_path / "tiny.c"
    source.write_text("int tiny(void) { return 1; }\n")
    distribution = Distribution({"ext_modules": [Extension("tiny", [str(source)])]})
    command = setup_py.OptionalBuildExt(distribution)
    command.build_lib = str(tmp_path / "lib")
    command.build_temp = str(tmp_path / "temp")
    command.ensure_finalized()

    command.run()  # raises nothing

    said = capsys.readouterr().err
    assert "ioproto setup: tiny did not compile (" in said and "it stays Python" in said
    assert not list(tmp_path.rglob("tiny*.so"))
