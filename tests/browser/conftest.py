"""The browser tests: real Chromium (Debian's package), real Socket.IO servers, tcpdump."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "live"))
sys.path.insert(0, str(HERE.parent / "taps"))
