"""A short, seeded round of the fuzzing campaign (tests/fuzz/campaign.py) per source.

``make fuzz`` runs the long campaign; this keeps its harness and its checks honest in the
test suite: no exception escapes, no record of an undamaged part is lost, memory stays low.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import campaign  # noqa: E402

#: inputs per source: decoding a capture costs tens of milliseconds, framing a request µs
COUNTS = {"pcap": 40, "pcapng": 30, "har": 40, "lines": 40, "proxy": 3000}


@pytest.mark.parametrize("source", campaign.SOURCES)
def test_a_short_campaign_finds_nothing(source: str) -> None:
    # a fresh interpreter, as `make fuzz` runs it: its peak memory is the campaign's own
    argv = ["--source", source, "--count", str(COUNTS[source]), "--seed", "11"]
    done = subprocess.run(
        [sys.executable, str(HERE / "campaign.py"), *argv],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["inputs"] == COUNTS[source]
    assert report["failures"] == 0, report["first_failures"]
    assert report["peak_rss_mb"] < 200
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_checks_catch_a_lost_record(tmp_path: Path) -> None:
    """The silent-loss check is not vacuous: a decoder that drops records is caught."""
    fuzzed = campaign.CaptureTarget("pcap", tmp_path)
    _name, _frames, before = fuzzed.seeds[0]
    with pytest.raises(campaign.Failure, match="lost"):
        campaign.survived(before, before[: len(before) // 2], lambda record: True)
