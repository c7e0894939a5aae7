"""Engine.IO plugin tests: make the plugin importable from this tree."""

from __future__ import annotations

import sys
from pathlib import Path

_PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
if str(_PLUGINS) not in sys.path:
    # Before an editable install's finder, which may map the package as a namespace.
    sys.path.insert(0, str(_PLUGINS))
