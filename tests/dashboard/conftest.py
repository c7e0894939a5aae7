"""Fixtures of the dashboard tests; the helpers live in dashhelp.py (importable by name),
and those of the live tests (tests/live/livehelp.py: their peer servers) are reused."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "live"))

from dashhelp import browser, dashboard

__all__ = ["browser", "dashboard"]
