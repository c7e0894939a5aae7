"""ioproto's version, the one place it is written (pyproject.toml reads it from here).

A module of its own, importing nothing when it loads, so that ``ioproto --version`` needs
nothing else.
"""

__version__ = "0.1.0"


def build() -> str:
    """``"compiled"`` when the decode path runs from the compiled build's modules
    (setup.py, ``IOPROTO_COMPILE=1``), else ``"python"``."""
    from importlib.machinery import EXTENSION_SUFFIXES
    from importlib.util import find_spec

    spec = find_spec("ioproto.pipeline")
    origin = (spec.origin if spec is not None else None) or ""
    return "compiled" if origin.endswith(tuple(EXTENSION_SUFFIXES)) else "python"
