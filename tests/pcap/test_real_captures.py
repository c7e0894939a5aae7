"""Smoke test over the real captures in tests/data (made by tcpdump on lo), if present."""

from __future__ import annotations

from pathlib import Path

import pytest
from pcaphelp import chunks, decode_file, errors

DATA = Path(__file__).resolve().parents[1] / "data"
CAPTURES = sorted(DATA.glob("*.pcap")) + sorted(DATA.glob("*.pcapng"))


@pytest.mark.skipif(not CAPTURES, reason="no captures in tests/data")
@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_real_capture(path: Path) -> None:
    records = decode_file(str(path))
    problems = [(e.rule, e.reason) for e in errors(records)]
    assert not problems
    kinds = {str(c.kind) for c in chunks(records)}
    assert kinds & {"ws-text", "ws-binary", "http-request", "http-response"}


@pytest.mark.skipif(not CAPTURES, reason="no captures in tests/data")
def test_real_captures_through_engineio() -> None:
    """The chunks decode as Engine.IO without errors through the real pipeline."""
    ioproto_engineio = pytest.importorskip("ioproto_engineio")
    import ioproto_http
    import ioproto_pcap

    import ioproto
    from ioproto.plugins import make_plugin_manager

    plugins = [ioproto_engineio, ioproto_http, ioproto_pcap]
    pm = make_plugin_manager(load_entrypoints=False, plugins=plugins)
    for name in ("deflate", "upgrade", "binary", "v2_polling"):
        path = DATA / f"{name}.pcap"
        if not path.exists():
            continue
        records = list(ioproto.decode([str(path)], proto="engineio", plugin_manager=pm))
        assert not [r for r in records if r.type == "error"], name
        assert any(r.layer == "engineio" and r.type == "open" for r in records), name


def test_deflate_capture_content() -> None:
    path = DATA / "deflate.pcap"
    if not path.exists():
        pytest.skip("no deflate capture")
    found = chunks(decode_file(str(path)))
    gzipped = [c for c in found if c.http and c.http.header("content-encoding") == "gzip"]
    assert gzipped and all(not c.data.startswith(b"\x1f\x8b") for c in gzipped)
    assert any(c.kind == "ws-text" and b'"post"' in c.data for c in found)
