"""Resource bombs (issue 11): small inputs that once took gigabytes stay under 200 MB.

Each test decodes a bomb from tests/fuzz/bombs.py in a fresh interpreter
(tests/fuzz/peak.py) and bounds its peak resident set size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bombs  # noqa: E402
from peak import MIB, peak_rss  # noqa: E402

BOUND = 200 * MIB


def _records(stdout: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_malformed_large_messages_are_released_at_once(tmp_path: Path) -> None:
    """Item 11: 100 messages inflating to 15 MiB each, all failing to decode (1.2-1.6 GB)."""
    bomb = bombs.malformed_bomb(tmp_path / "malformed.pcap")
    peak, result = peak_rss(["decode", str(bomb), "--sink", "jsonl", "--no-classify", "all"])
    assert result.returncode == 0, result.stderr[-2000:]
    errors = [r for r in _records(result.stdout) if r["type"] == "error"]
    assert len(errors) >= 100
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"
