"""docs/dashboard.md says what the code does: its endpoints, options, budgets and colours."""

from __future__ import annotations

import re

from dashhelp import ROOT
from ioproto_dashboard.budgets import Budgets, MiB
from ioproto_dashboard.sink import __doc__ as sink_doc

DOC = (ROOT / "docs" / "dashboard.md").read_text()
SERVER = (ROOT / "plugins" / "ioproto_dashboard" / "server.py").read_text()
CSS = (ROOT / "plugins" / "ioproto_dashboard" / "static" / "dashboard.css").read_text()


def test_every_endpoint_is_documented_and_served() -> None:
    documented = set(re.findall(r"`GET (/api/[a-z]+)", DOC))
    served = {path.split("/{")[0] for path in re.findall(r'add_get\("(/api/[^"]+)"', SERVER)}
    assert documented == served


def test_every_sink_option_is_documented() -> None:
    assert sink_doc is not None
    options = set(re.findall(r"\* ``([a-z_]+)``", sink_doc))
    table = DOC.split("## Sink options", 1)[1]
    for option in options | {"sessions", "packets", "timelines", "events", "errors"}:
        assert f"`{option}`" in table, option


def test_the_documented_budgets_are_the_defaults() -> None:
    budgets = Budgets()
    for name in ("sessions", "packets", "timelines", "events", "errors"):
        size = getattr(budgets, name) // MiB
        assert re.search(rf"\| `{name}` \| {size} MiB", DOC), name
    assert f"`rows_per_second` = {budgets.rows_per_second}" in DOC


def test_every_meaning_has_one_colour_in_both_themes() -> None:
    dark, light = CSS.split(':root[data-theme="light"]', 1)
    for meaning in ("websocket", "polling-xhr", "polling-jsonp", "webtransport", "c2s", "s2c",
                    "connect", "disconnect", "error", "heartbeat", "ack"):  # fmt: skip
        assert f"--{meaning}:" in dark and f"--{meaning}:" in light, meaning
