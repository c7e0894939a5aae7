"""Fixtures of the core tests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup_py() -> Any:
    """The project's setup.py, imported as a module (its ``setup()`` call does not run)."""
    sys.path.insert(0, str(ROOT))
    try:
        import setup  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT))
    return setup
