"""docs/writing-a-plugin.md cannot rot: every code block is a file of the example package
(docs/examples/ioproto-example, compared byte for byte) or a command, and the commands are
run verbatim, in order, on a copy of the package, in a plain virtual environment made for
the test (no ``--system-site-packages``: that would see the base interpreter, not the one
running the tests) in which ioproto is installed: a ``.pth`` file adds the site directories
of the interpreter running the tests, so it works the same from a virtualenv and from a
system Python. pip runs offline: it finds every requirement already installed, and builds
the package with the setuptools and wheel already there instead of fetching them (what
``--no-build-isolation`` does). What the tutorial shows of the commands' output must appear
in it."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import site
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "writing-a-plugin.md"
PACKAGE = ROOT / "docs" / "examples" / "ioproto-example"
BLOCK = re.compile(r"(?:<!-- file: (?P<file>\S+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
TIME = re.compile(r"\d\d:\d\d:\d\d\.\d{3}")


def blocks() -> list[tuple[str | None, str, str]]:
    return [
        (m.group("file"), m.group("lang"), m.group("body"))
        for m in BLOCK.finditer(TUTORIAL.read_text(encoding="utf-8"))
    ]


def commands() -> list[tuple[str, list[str]]]:
    """``(command, shown output lines)`` of every console block, in order."""
    out: list[tuple[str, list[str]]] = []
    for file, lang, body in blocks():
        if file is None and lang == "console":
            for line in body.splitlines():
                if line.startswith("$ "):
                    out.append((line[2:], []))
                else:
                    out[-1][1].append(line)
    return out


def package_files() -> set[str]:
    return {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path)
    }


def test_every_block_is_a_package_file_or_a_command() -> None:
    found = blocks()
    assert found
    for file, lang, body in found:
        if file is not None:
            assert (PACKAGE / file).read_text(encoding="utf-8") == body, f"{file} differs"
        else:
            assert lang == "console", f"a ```{lang} block that is neither a file nor a command"
            assert body.startswith("$ "), body
    shown = {file for file, _, _ in found if file is not None}
    assert shown == package_files()


def _site_directories() -> list[str]:
    """The site directories of the interpreter running the tests, in its order: where
    ioproto and its dependencies are installed (a virtualenv's, or a system Python's)."""
    found = [site.getusersitepackages()] if site.ENABLE_USER_SITE else []
    found += site.getsitepackages()  # after the user site, as Python orders them
    return [path for path in found if os.path.isdir(path)]


def _venv_site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the package and the environment of a plain venv where ioproto is installed."""
    base = tmp_path_factory.mktemp("plugin-author")
    work = base / "ioproto-example"
    shutil.copytree(PACKAGE, work, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True)
    python = base / "venv" / "bin" / "python"
    # "ioproto is installed": the running interpreter's site directories, .pth files and all
    # (an editable install is a .pth file), come after the venv's own.
    adds = "; ".join(f"site.addsitedir({path!r})" for path in _site_directories())
    (_venv_site_packages(python) / "zz-ioproto-under-test.pth").write_text(f"import site; {adds}\n")
    env = dict(os.environ)
    env["PATH"] = f"{base / 'venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(base / "venv")
    for name in ("PYTHONHOME", "PYTHONUSERBASE", "PIP_USER", "IOPROTO_LOAD_PLUGINS"):
        env.pop(name, None)
    # The core and the bundled plugin packages of the tree under test, even before the
    # editable install of ioproto is refreshed, and even when the system interpreter
    # (--system-site-packages) has another checkout of ioproto installed.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), str(ROOT / "plugins"), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["PIP_NO_INDEX"] = "1"
    env["PIP_NO_BUILD_ISOLATION"] = "0"  # pip's spelling of --no-build-isolation
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    yield work, env


def run(command: str, work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        shlex.split(command), cwd=work, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def ran(
    venv: tuple[Path, dict[str, str]],
) -> list[tuple[str, list[str], subprocess.CompletedProcess[str]]]:
    work, env = venv
    return [(command, shown, run(command, work, env)) for command, shown in commands()]


def test_the_tutorial_commands_succeed_and_print_what_it_shows(
    ran: list[tuple[str, list[str], subprocess.CompletedProcess[str]]],
) -> None:
    assert ran[0][0] == "pip install -e ."
    for command, shown, result in ran:
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        assert "warning" not in result.stderr, result.stderr
        actual = TIME.sub("HH:MM:SS.mmm", result.stdout).splitlines()
        for line in shown:
            assert TIME.sub("HH:MM:SS.mmm", line) in actual, f"{command}: missing {line!r}"


def test_plugins_json_shows_it_next_to_the_bundled_plugins(
    ran: object, venv: tuple[Path, dict[str, str]]
) -> None:
    work, env = venv
    result = run("python -m ioproto plugins --json", work, env)
    assert result.returncode == 0, result.stderr
    described = {entry["name"]: entry for entry in json.loads(result.stdout)}
    example = described["example"]
    assert (example["distribution"], example["version"]) == ("ioproto-example", "0.1.0")
    assert example["decoders"] == ["app-dice"] and example["sinks"] == ["tally"]
    assert {"engineio", "socketio", "lines", "jsonl", "text"} <= set(described)
    assert described["socketio"]["distribution"] == "ioproto"


def test_its_records_in_jsonl_and_its_sink_to_a_file(
    ran: object, venv: tuple[Path, dict[str, str]]
) -> None:
    work, env = venv
    result = run("python -m ioproto decode --proto app --sink jsonl rolls.txt", work, env)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    rolls = [r for r in records if r["type"] == "dice.roll"]
    assert [r["fields"] for r in rolls] == [{"count": 3, "faces": 6, "dice": [2, 5, 6]}]
    assert rolls[0]["via"][:2] == ["socketio", "engineio"]
    result = run("python -m ioproto decode --proto app --sink tally:out.txt rolls.txt", work, env)
    assert result.returncode == 0 and "1 app dice.roll" in (work / "out.txt").read_text()


def test_the_load_plugins_example_is_enough_to_decode_the_sample(
    ran: object, venv: tuple[Path, dict[str, str]]
) -> None:
    """Section 7's ``IOPROTO_LOAD_PLUGINS`` example names the plugins that decode rolls.txt
    (a source and a sink among them), and leaves the others out."""
    work, env = venv
    (names,) = re.findall(r"`IOPROTO_LOAD_PLUGINS=([\w,]+)`", TUTORIAL.read_text())
    env = {**env, "IOPROTO_LOAD_PLUGINS": names}
    result = run("python -m ioproto decode --proto app rolls.txt", work, env)
    assert result.returncode == 0, result.stderr
    assert " app dice.roll " in result.stdout
    listed = run("python -m ioproto plugins --json", work, env)
    assert {entry["name"] for entry in json.loads(listed.stdout)} == set(names.split(","))
