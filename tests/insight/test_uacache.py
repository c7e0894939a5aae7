"""The file of identified User-Agents (ioproto_classify.uacache): same answers with it as
without, bounded, never failing a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_classify import uacache, useragent
from ioproto_classify.uacache import MAX_FILE_BYTES, KnownClients
from ioproto_classify.useragent import ClientInfo

ROOT = Path(__file__).resolve().parents[2]

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)",
    "node-XMLHttpRequest",
    "python-requests/2.31.0",
    "curl/8.5.0",
    "\x1b[2J weird thing",
    "Mozilla/5.0 ünïcödé",
]


@pytest.fixture
def known(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnownClients:
    """A fresh cache in ``tmp_path`` as ``identify``'s, the in-memory answers cleared."""
    clients = KnownClients(tmp_path, "d1")
    monkeypatch.setattr(useragent, "KNOWN", clients)
    useragent.identify.cache_clear()
    yield clients
    useragent.identify.cache_clear()


def test_fields_are_client_info_fields() -> None:
    assert tuple(field.name for field in attrs.fields(ClientInfo)) == uacache.FIELDS


def test_cached_answers_equal_parsed_ones(known: KnownClients, tmp_path: Path) -> None:
    parsed = [useragent.identify(agent) for agent in AGENTS]
    known.save()
    again = KnownClients(tmp_path, "d1")
    for agent, info in zip(AGENTS, parsed, strict=True):
        cut = agent.strip()
        assert again.get(cut) == attrs.astuple(info)
    # Answered from the file, as a later run would.
    useragent.identify.cache_clear()
    useragent.KNOWN = again
    assert [useragent.identify(agent) for agent in AGENTS] == parsed


def test_no_file_when_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("off", "", " "):
        monkeypatch.setenv("IOPROTO_CACHE_DIR", value)
        assert uacache.cache_directory() is None
        assert KnownClients().path is None
    monkeypatch.delenv("IOPROTO_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert uacache.cache_directory() == Path("/somewhere/ioproto")


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        b'{"format": 99, "clients": {}}',
        b'{"format": 1, "clients": []}',
        b'{"format": 1, "clients": {"a": ["browser", "X", 3, null, null]}}',
        b'{"format": 1, "clients": {"a": ["browser"]}}',
        b"\xff\xfe",
    ],
)
def test_a_foreign_file_is_ignored_and_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "useragents-d1.json"
    path.write_bytes(content)
    clients = KnownClients(tmp_path, "d1")
    assert clients.get("a") is None
    clients.add("b", ("tool", "curl", "8.5", None, None))
    clients.save()
    assert KnownClients(tmp_path, "d1").get("b") == ("tool", "curl", "8.5", None, None)


def test_a_file_too_large_is_ignored(tmp_path: Path) -> None:
    entries = {f"agent {n}": ["tool", "x", None, None, None] for n in range(20_000)}
    (tmp_path / "useragents-d1.json").write_text(json.dumps({"format": 1, "clients": entries}))
    assert KnownClients(tmp_path, "d1").get("agent 1") is None


def test_the_file_stays_within_its_budget(tmp_path: Path) -> None:
    clients = KnownClients(tmp_path, "d1")
    for n in range(2_000):
        clients.add(f"{n:05d}" + "x" * 500, ("browser", "Chrome", "120", "Windows 10", "Desktop"))
    clients.save()
    path = tmp_path / "useragents-d1.json"
    assert 0.9 * MAX_FILE_BYTES < path.stat().st_size <= MAX_FILE_BYTES
    kept = KnownClients(tmp_path, "d1")
    assert kept.get("00000" + "x" * 500) is not None  # the first ones are kept
    assert kept.get("01999" + "x" * 500) is None


def test_a_run_holds_no_more_additions_than_a_file_takes(tmp_path: Path) -> None:
    """Memory in bytes: endless new agents (a long live run) stop being remembered."""
    clients = KnownClients(tmp_path, "d1")
    for n in range(5_000):
        clients.add(f"agent {n:05d} " + "y" * 300, ("tool", "T", None, None, None))
    assert len(clients._added) <= MAX_FILE_BYTES // 300  # each agent above is 312+ bytes
    assert clients.get("agent 00000 " + "y" * 300) is not None
    assert clients.get("agent 04999 " + "y" * 300) is None


def test_runs_merge_their_additions(tmp_path: Path) -> None:
    first, second = KnownClients(tmp_path, "d1"), KnownClients(tmp_path, "d1")
    assert first.get("a") is None and second.get("b") is None  # both read the empty file
    first.add("a", ("tool", "A", None, None, None))
    second.add("b", ("tool", "B", None, None, None))
    first.save()
    second.save()
    merged = KnownClients(tmp_path, "d1")
    assert merged.get("a") == ("tool", "A", None, None, None)
    assert merged.get("b") == ("tool", "B", None, None, None)


def test_another_digest_replaces_old_files(tmp_path: Path) -> None:
    old = KnownClients(tmp_path, "old")
    old.add("a", ("tool", "A", None, None, None))
    old.save()
    new = KnownClients(tmp_path, "new")
    assert new.get("a") is None
    new.add("a", ("tool", "A2", None, None, None))
    new.save()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["useragents-new.json"]


def test_digest_follows_the_rules_and_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    before = uacache.rules_digest()
    assert before == uacache.rules_digest()
    monkeypatch.setattr(uacache, "FORMAT", 2)
    assert uacache.rules_digest() != before


def test_an_unwritable_directory_does_not_fail(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory should be")
    clients = KnownClients(blocker / "cache", "d1")
    assert clients.get("a") is None
    clients.add("a", ("tool", "A", None, None, None))
    clients.save()  # no exception
    assert blocker.read_text().startswith("a file")


def test_undecodable_agents_are_answered_not_kept(known: KnownClients, tmp_path: Path) -> None:
    agent = "Mozilla/5.0 \udcff broken"
    info = useragent.identify(agent)
    useragent.identify("curl/8.5.0")
    known.save()
    again = KnownClients(tmp_path, "d1")
    assert again.get(agent) is None
    assert again.get("curl/8.5.0") is not None
    assert useragent.identify(agent) == info


@settings(max_examples=60, deadline=None)
@given(
    agents=st.lists(st.text(min_size=1, max_size=600), max_size=20),
    fields=st.tuples(
        st.text(max_size=20),
        st.text(max_size=40),
        st.none() | st.text(max_size=10),
        st.none() | st.text(max_size=10),
        st.none() | st.text(max_size=10),
    ),
)
def test_any_agent_round_trips_or_is_skipped(
    tmp_path_factory: pytest.TempPathFactory, agents: list[str], fields: tuple
) -> None:
    folder = tmp_path_factory.mktemp("cache")
    clients = KnownClients(folder, "d1")
    for agent in agents:
        clients.add(agent, fields)
    clients.save()
    again = KnownClients(folder, "d1")
    for agent in agents:
        assert again.get(agent) in (fields, None)
        if agent.encode("utf-8", "surrogatepass") == agent.encode("utf-8", "ignore"):
            assert again.get(agent) == fields
    written = folder / "useragents-d1.json"
    assert not written.exists() or written.stat().st_size <= MAX_FILE_BYTES


def _decode(capture: str, cache: Path) -> subprocess.CompletedProcess[str]:
    script = (
        "import sys; from ioproto.cli import main\n"
        "try:\n    main(['decode', '--proto', 'socketio', '--sink', 'jsonl', sys.argv[1]])\n"
        "except SystemExit:\n    pass\n"
        "print('ua_parser loaded' if 'ua_parser' in sys.modules else 'ua_parser not loaded',"
        " file=sys.stderr)\n"
    )
    env = {**os.environ, "IOPROTO_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-c", script, capture],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
    )


def test_a_second_run_skips_ua_parser_and_says_the_same(tmp_path: Path) -> None:
    capture = str(ROOT / "tests" / "data" / "upgrade.pcap")
    first = _decode(capture, tmp_path)
    second = _decode(capture, tmp_path)
    assert "ua_parser loaded" in first.stderr
    assert "ua_parser not loaded" in second.stderr
    assert first.stdout == second.stdout
    assert '"client.kind"' in first.stdout
    assert [path.name.startswith("useragents-") for path in tmp_path.iterdir()] == [True]
