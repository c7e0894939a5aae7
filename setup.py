"""The optional compiled build: the decode path's modules compiled with Cython, as they are.

Everything about the package is in pyproject.toml; this file only adds extension modules,
and only when asked: ``IOPROTO_COMPILE=1`` in the environment of a regular (not editable)
build, with Cython installed and a C compiler at hand (``make install-compiled``). Each
listed module is then compiled from its unchanged source and installed next to it; Python
imports the compiled one first. Without the variable, in an editable install, without
Cython or when a module does not compile, the package is the pure-Python one (a warning
says why), so ``pip install -e .`` never needs a compiler.

An editable install is never compiled: the compiled modules would sit in the source tree
and hide every later edit of their ``.py`` files until the next build. It is byte-compiled
instead (:class:`ByteCompiledEditable`), as pip byte-compiles a regular install.

docs/performance.md says what it gains, and tests/core/test_compiled.py that a compiled
build decodes every capture of tests/data to the same records.
"""

from __future__ import annotations

import compileall
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext
from setuptools.command.editable_wheel import editable_wheel

ROOT = Path(__file__).resolve().parent

#: The modules on the hot path of a decode (reading, TCP, HTTP/WebSocket, Engine.IO,
#: Socket.IO, the classifiers, the JSON-lines sink and the pipeline that joins them) and of
#: the proxy (its relay and the decoder's end of its tap).
COMPILED_PACKAGES = (
    "plugins/ioproto_pcap",
    "plugins/ioproto_tcp",
    "plugins/ioproto_http",
    "plugins/ioproto_engineio",
    "plugins/ioproto_socketio",
    "plugins/ioproto_classify",
    "plugins/ioproto_jsonl",
    "plugins/ioproto_proxy",
)
COMPILED_CORE = (
    "ioproto/pipeline.py",
    "ioproto/model.py",
    "ioproto/jsonform.py",
    "ioproto/sessions.py",
    "ioproto/fastrecords.py",
    "ioproto/memory.py",
    "ioproto/timestamps.py",
    "ioproto/routing.py",
    "ioproto/split.py",
    "ioproto/worker.py",
    "ioproto/shard.py",
)
#: The source trees of the package's modules (the ``ioproto*`` packages of pyproject.toml).
SOURCE_TREES = ("ioproto", "plugins")

#: Left as Python: package ``__init__`` modules, test helpers, and the User-Agent cache,
#: which reads the classifier's source file next to it by its own ``__file__``.
NOT_COMPILED = ("__init__.py", "testing.py", "uacache.py")

#: Cython's defaults changed for the source as it is: annotations are documentation here
#: (``x: int`` must not make Cython reject a bool or reject None), and the semantics are
#: Python 3's.
DIRECTIVES = {"language_level": 3, "annotation_typing": False, "binding": True}


def compiled_sources() -> list[str]:
    """The source files the compiled build compiles, relative to the project's root."""
    sources = list(COMPILED_CORE)
    for package in COMPILED_PACKAGES:
        for path in sorted((ROOT / package).glob("*.py")):
            if path.name not in NOT_COMPILED:
                sources.append(f"{package}/{path.name}")
    return sources


def _say(message: str) -> None:
    print(f"ioproto setup: {message}", file=sys.stderr)


def _requested() -> bool:
    return os.environ.get("IOPROTO_COMPILE", "").lower() in ("1", "true", "yes")


def _extensions() -> list[object]:
    if not _requested():
        return []
    if "editable_wheel" in sys.argv:
        _say("an editable install is never compiled (edits would be hidden); pure Python")
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        if "egg_info" not in sys.argv:  # egg_info: pip asking what the build requires
            _say("IOPROTO_COMPILE is set but Cython is not installed; pure Python")
        return []
    from setuptools import Extension

    extensions = []
    for source in compiled_sources():
        path = Path(source)
        package = path.parent.name  # plugins/ioproto_x/y.py -> ioproto_x.y
        # -g0: no debugging symbols (they would make the wheel about four times larger).
        extensions.append(Extension(f"{package}.{path.stem}", [source], extra_compile_args=["-g0"]))
    try:
        return list(
            cythonize(
                extensions,
                compiler_directives=DIRECTIVES,
                build_dir="build/cython",  # the generated C, out of the source tree
                nthreads=os.cpu_count() or 1,
                quiet=True,
            )
        )
    except Exception as exc:  # Cython refused a module: all of it stays Python
        _say(f"Cython could not translate the modules ({exc}); pure Python")
        return []


class OptionalBuildExt(build_ext):
    """Build what compiles; a module that does not (no compiler) stays pure Python."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # any failure leaves the pure-Python package
            _say(f"the compiled build failed ({exc}); pure Python")

    def build_extension(self, ext: object) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            _say(f"{getattr(ext, 'name', ext)} did not compile ({exc}); it stays Python")


def byte_compile(root: Path = ROOT) -> bool:
    """Write the bytecode cache (``__pycache__``) of every module under :data:`SOURCE_TREES`
    that has none or a stale one; whether all compiled. A module that does not compile is
    left to fail at import, as it would anyway."""
    results = [
        compileall.compile_dir(root / tree, quiet=1, workers=os.cpu_count() or 1)
        for tree in SOURCE_TREES
        if (root / tree).is_dir()
    ]
    return all(results)


class ByteCompiledEditable(editable_wheel):
    """An editable install that also byte-compiles the source tree it points at.

    pip byte-compiles a regular install, never an editable one, whose modules are then
    compiled when first imported and their bytecode cached next to them. Where the
    environment says not to write that cache (``PYTHONDONTWRITEBYTECODE``, set in many
    container images), every run compiled the modules it imported again: a one-connection
    decode took 0.32 s instead of 0.23 s, ``ioproto --help`` 0.12 s instead of 0.08 s
    (benchmarks/README.md, "Without a bytecode cache"). Compiling once here makes start-up
    the same in every environment; Python still checks each cached file against its
    source, so an edited module is compiled again as before."""

    def run(self) -> None:
        super().run()
        if not byte_compile():
            _say("some modules did not byte-compile; they compile when imported")


if __name__ == "__main__":  # setuptools runs it so; tests import compiled_sources()
    setup(
        ext_modules=_extensions(),
        cmdclass={"build_ext": OptionalBuildExt, "editable_wheel": ByteCompiledEditable},
        # What pip installs into an isolated build's environment (setuptools' PEP 517 backend
        # asks for it): Cython only for the compiled build; 3.0 made code of 16% more
        # instructions than 3.3 (benchmarks/README.md, "seventh session").
        setup_requires=["cython>=3.3"] if _requested() else [],
    )
