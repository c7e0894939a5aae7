"""Resource bombs (issue 11): small inputs that once took gigabytes stay under 200 MB.

Each test decodes a bomb from tests/fuzz/bombs.py in a fresh interpreter
(tests/fuzz/peak.py) and bounds its peak resident set size.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

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


def test_unanswered_acks_keep_no_payload(tmp_path: Path) -> None:
    """Item 7: 100 acked EVENTs of 15 MiB never answered (1.5 MB capture; was 6.1 GB)."""
    bomb = bombs.ack_bomb(tmp_path / "acks.pcap")
    # the text sink: one short line per record (jsonl would be 3 GB of 15 MiB arguments)
    peak, result = peak_rss(["decode", str(bomb), "--sink", "text"])
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.decode().splitlines()
    assert sum(" socketio EVENT " in line for line in lines) == 100
    assert sum(" socketio UNANSWERED_ACK " in line for line in lines) == 100
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"


@pytest.mark.slow
def test_a_million_pending_acks_stay_within_the_state_budget(tmp_path: Path) -> None:
    """Item 7: 1M pending acks over 100k sessions (was 1.55 GB).

    Without classifiers: their own per-session tables (100k sessions) are not the Socket.IO
    layer's and add about 90 MB (docs/robustness.md).
    """
    bomb = bombs.pending_acks_lines(tmp_path / "acks.lines")
    out = tmp_path / "out.jsonl"
    peak, result = peak_rss(["decode", str(bomb), "--no-classify", "all", "--sink", f"jsonl:{out}"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"
    with out.open() as lines:
        over = sum('"socketio.state.over-budget"' in line for line in lines)
    assert over > 0


def test_a_200_mb_line_is_not_read_whole(tmp_path: Path) -> None:
    """Item 13: the lines source read a whole line before checking its length (439 MB)."""
    bomb = bombs.long_line(tmp_path / "long.lines")
    peak, result = peak_rss(["decode", "--source", "lines", "--sink", "jsonl", str(bomb)])
    assert result.returncode == 0, result.stderr[-2000:]
    records = [r for r in _records(result.stdout) if r["layer"] != "session"]
    assert [r.get("rule") or r.get("event") for r in records] == [
        "before",
        "capture.lines.too-long",
        "after",
    ]
    assert "209715200 bytes" in str(records[1]["reason"])
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"


def test_deep_and_wide_json_stay_bounded(tmp_path: Path) -> None:
    """Item 12: 5000-deep JSON decodes (no RecursionError in any sink); 15 MiB of
    ``[[],[],...]`` (540 MB once parsed) is refused by its estimated size."""
    deep = bombs.deep_json_lines(tmp_path / "deep.lines", 5000)
    wide = bombs.wide_json_lines(tmp_path / "wide.lines")
    for sink in ("jsonl", "text", "monitor"):
        peak, result = peak_rss(["decode", "--sink", sink, str(deep), str(wide)])
        assert result.returncode == 0, result.stderr[-2000:]
        assert b"too-large" in result.stdout
        assert b"RecursionError" not in result.stdout + result.stderr
        assert peak < BOUND, f"{sink}: peak {peak / MIB:.0f} MiB"


def test_wide_msgpack_is_refused_by_its_size(tmp_path: Path) -> None:
    """15 MiB of empty msgpack arrays (1 GB of lists once unpacked): msgpack's unpacker
    bounds nesting, not width; ``max_json_bytes`` bounds the estimated decoded size."""
    bomb = bombs.wide_msgpack_lines(tmp_path / "wide.lines")
    peak, result = peak_rss(["decode", "--sink", "jsonl", str(bomb)])
    assert result.returncode == 0, result.stderr[-2000:]
    assert b'"rule":"socketio.msgpack.too-large"' in result.stdout
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"


def test_deflate_bombs_keep_the_compression_context(tmp_path: Path) -> None:
    """Four messages inflating to 250 MiB each (under 16 x the 16 MiB limit) are dropped but
    inflated in pieces, so the events after them decode; one of 1 GiB lets the context go."""
    bomb = bombs.inflate_bomb(tmp_path / "inflate.pcap")
    peak, result = peak_rss(["decode", str(bomb), "--sink", "jsonl", "--no-classify", "all"])
    assert result.returncode == 0, result.stderr[-2000:]
    records = _records(result.stdout)
    events = [r["args"] for r in records if r.get("event") == "tick"]
    assert events == [[0], [1], [2], [3], [4]]
    rules = [r["rule"] for r in records if r["type"] == "error"]
    assert rules == ["capture.websocket.invalid"] * 5 + ["capture.websocket.inflate"]
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"


def test_a_large_har_is_read_an_entry_at_a_time(tmp_path: Path) -> None:
    """A 300 MB HAR took 2.0 GB parsed whole (this 50 MB one, 346 MB); read an entry at a
    time, its records sorted through runs on disk, memory stays flat: 85 MB for 300 MB."""
    har = bombs.big_har(tmp_path / "big.har", size=50 * MIB)
    peak, result = peak_rss(["decode", "--sink", "jsonl", str(har)])
    assert result.returncode == 0, result.stderr[-2000:]
    events = [r for r in _records(result.stdout) if r.get("type") == "EVENT"]
    copies = len({r["sid"] for r in events})
    assert copies > 2000 and len(events) == copies * 6  # every copy's six EVENTs, none lost
    assert peak < BOUND, f"peak {peak / MIB:.0f} MiB"


def test_a_har_body_over_the_limit_is_read_past(tmp_path: Path) -> None:
    """One entry's 100 MB body (its escapes all along) was held whole, then dropped for
    max_payload: 332 MB. Read past once over the limit: 71 MB, and the body is said to be
    over it, with its size."""
    har = bombs.har_long_body(tmp_path / "body.har", size=100_200_000)
    peak, result = peak_rss(["decode", "--proto", "socketio", "--sink", "jsonl", str(har)])
    assert result.returncode == 0, result.stderr[-2000:]
    errors = [r for r in _records(result.stdout) if r["type"] == "error"]
    assert [(r["rule"], r["reason"]) for r in errors] == [
        (
            "har.body.too-large",
            "response body of 100200001 bytes exceeds the limit of 16777216 bytes: dropped",
        )
    ]
    assert peak < BOUND // 2, f"peak {peak / MIB:.0f} MiB"


def test_a_long_websocket_session_in_one_har_entry_is_read_a_message_at_a_time(
    tmp_path: Path,
) -> None:
    """Chrome puts a connection's every message in one entry, before its URL: 50,000
    messages (100 MB) took 362 MB parsed whole; read one at a time and held in a spool
    that writes to disk past 16 MiB: 79 MB, and every message is decoded."""
    har = bombs.har_long_websocket(tmp_path / "ws.har", messages=50_000, pad=2000)
    peak, result = peak_rss(["decode", "--proto", "socketio", "--sink", "jsonl", str(har)])
    assert result.returncode == 0, result.stderr[-2000:]
    ticks = [r["args"][0]["n"] for r in _records(result.stdout) if r.get("event") == "tick"]
    assert ticks == list(range(50_000))
    assert peak < BOUND // 2, f"peak {peak / MIB:.0f} MiB"


@pytest.mark.parametrize("where", ["time", "_initiator"])
def test_a_har_number_of_millions_of_digits_is_read_past(tmp_path: Path, where: str) -> None:
    """A number of 100 million digits in an entry was parsed whole (200 million: 507 MB):
    it is read past, 28 MB. In ``time``, which the source reads, its entry is one
    har.entry.invalid; in ``_initiator``, which no decoder reads, it is moved past; the
    entries around it give their EVENTs."""
    har = bombs.har_long_number(tmp_path / "number.har", digits=100 * MIB, where=where)
    peak, result = peak_rss(["decode", "--sink", "jsonl", str(har)])
    assert result.returncode == 0, result.stderr[-2000:]
    records = _records(result.stdout)
    events = [r["event"] for r in records if r.get("type") == "EVENT"]
    errors = [(r["rule"], r["reason"]) for r in records if r["type"] == "error"]
    if where == "time":
        assert events == ["n1", "n3"]
        assert errors == [
            (
                "har.entry.invalid",
                f"entry 1 could not be read: time holds a number of {100 * MIB} characters, "
                "longer than any the source reads (65536)",
            )
        ]
    else:
        assert events == ["n1", "n2", "n3"] and not errors
    assert peak < BOUND // 4, f"peak {peak / MIB:.0f} MiB"


@pytest.mark.parametrize("kind", ["list", "string"])
def test_a_har_log_that_is_no_object_is_not_built(tmp_path: Path, kind: str) -> None:
    """A ``log`` that is a 200 MB list (of entries) took 2.0 GB, a 200 MB string 639 MB,
    parsed whole to say what it is: moved past, 32 MB and 29 MB, said as before."""
    har = bombs.har_log_not_an_object(tmp_path / "log.har", size=50 * MIB, kind=kind)
    peak, result = peak_rss(["decode", "--sink", "jsonl", str(har)])
    assert result.returncode == 1, result.stderr[-2000:]
    [error] = [(r["rule"], r["reason"]) for r in _records(result.stdout)]
    assert error == (
        "har.file.invalid",
        f'{har} is not a readable HAR: its "log" is a {kind}, not an object',
    )
    assert peak < BOUND // 4, f"peak {peak / MIB:.0f} MiB"
