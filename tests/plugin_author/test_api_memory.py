"""``ioproto.decode`` is bounded in memory as the command is: the same byte budgets by
default, and the resource bombs of tests/fuzz/test_bombs.py stay under the same bound when
a program iterates the records (in a fresh interpreter, as tests/fuzz/peak.py runs the
command)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

import ioproto
from ioproto.cli.options import parse_limits
from ioproto.optionvalues import parse_size

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
sys.path.insert(0, str(FUZZ))

import bombs  # noqa: E402
from peak import MIB  # noqa: E402

BOUND = 200 * MIB  # the command's bound in tests/fuzz/test_bombs.py

#: A program that keeps nothing of the records it iterates: docs/embedding.md's advice.
PROGRAM = """
import sys
sys.path.insert(0, {fuzz!r})
import ioproto
from peak import _peak_bytes

counts = {{}}
for record in ioproto.decode(sys.argv[1]):
    counts[record.type] = counts.get(record.type, 0) + 1
    del record  # a record holds its parents, down to the bytes of its message
print(counts.get("error", 0), counts.get("EVENT", 0), _peak_bytes())
"""


def peak_of_decode(path: Path) -> tuple[int, int, int]:
    """``(error records, EVENTs, peak RSS in bytes)`` of ``PROGRAM`` decoding ``path``."""
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(fuzz=str(FUZZ)), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    errors, events, peak = (int(word) for word in result.stdout.split())
    return errors, events, peak


DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_api_takes_the_command_s_budgets_by_default() -> None:
    pipeline = ioproto.Pipeline.build()
    assert attrs.asdict(pipeline.context.limits) == attrs.asdict(parse_limits([]))


def test_embedding_md_gives_each_budget_its_default() -> None:
    """The table of docs/embedding.md, "Memory": a limit's default is ``Limits()``'s, a
    source option's is the one docs/cli.md gives."""
    rows = re.findall(
        r"^\| `(\w+)`( \(source option\))? \| (\d+)( MiB)? \|",
        (DOCS / "embedding.md").read_text(),
        re.M,
    )
    assert len(rows) >= 8
    limits = attrs.asdict(ioproto.Limits())
    cli = (DOCS / "cli.md").read_text()
    for name, source, number, mib in rows:
        value = int(number) * (MIB if mib else 1)
        if source:
            given = re.findall(rf"`{name}=([^`]+)`", cli)  # 67108864 or 64M alike
            assert value in [parse_size(text) for text in given], (name, given)
        else:
            assert limits[name] == value, name


@pytest.mark.parametrize(
    ("bomb", "errors", "events"),
    [(bombs.malformed_bomb, 100, 0), (bombs.ack_bomb, 0, 100)],
    ids=["malformed-large-messages", "unanswered-large-acks"],
)
def test_a_resource_bomb_through_the_api_stays_under_the_command_s_bound(
    tmp_path: Path, bomb: object, errors: int, events: int
) -> None:
    path = bomb(tmp_path / "bomb.pcap")  # type: ignore[operator]
    found_errors, found_events, peak = peak_of_decode(path)
    assert found_errors >= errors and found_events == events
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"
