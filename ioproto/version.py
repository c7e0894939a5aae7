"""ioproto's version, the one place it is written (pyproject.toml reads it from here).

A module of its own, with no imports, so that ``ioproto --version`` needs nothing else.
"""

__version__ = "0.1.0"
