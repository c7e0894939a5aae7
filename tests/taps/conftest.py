"""The tap tests reuse the live tests' peers (tests/live/peers) and their helpers."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "live"))
