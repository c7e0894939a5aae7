"""The stats figures as one self-contained HTML page of inline SVG bar charts (no JS).

Every label is HTML-escaped after :func:`ioproto.render.safe_text`, so wire text can neither
inject markup nor control characters into the page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ioproto.render import safe_text

from .report import heading, ms

_BAR_HEIGHT = 18
_LABEL_WIDTH = 220
_BAR_WIDTH = 360
_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948")


def _escape(text: Any) -> str:
    return html.escape(safe_text(str(text)), quote=True)


def bar_chart(title: str, bars: Sequence[tuple[str, float, str]]) -> str:
    """One SVG: ``bars`` are ``(label, value, value text)``; empty charts say so."""
    if not bars:
        return f"<h2>{_escape(title)}</h2><p class='empty'>no data</p>"
    biggest = max(value for _, value, _ in bars) or 1.0
    height = _BAR_HEIGHT * len(bars) + 10
    width = _LABEL_WIDTH + _BAR_WIDTH + 120
    parts = [
        f"<h2>{_escape(title)}</h2>",
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{_escape(title)}">',
    ]
    for index, (label, value, shown) in enumerate(bars):
        y = index * _BAR_HEIGHT + 5
        length = max(1.0, _BAR_WIDTH * value / biggest) if value > 0 else 0.0
        colour = _COLOURS[index % len(_COLOURS)]
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">'
            f"{_escape(label)[:60]}</text>"
            f'<rect x="{_LABEL_WIDTH}" y="{y + 2}" width="{length:.1f}" '
            f'height="{_BAR_HEIGHT - 4}" fill="{colour}"/>'
            f'<text x="{_LABEL_WIDTH + length + 6:.1f}" y="{y + 13}">{_escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _share_bars(items: Sequence[dict[str, Any]], top: int) -> list[tuple[str, float, str]]:
    return [
        (str(item["name"]), float(item["pct"]), f"{item['count']} ({item['pct']:.1f}%)")
        for item in items[:top]
    ]


def _end_bars(ends: dict[str, Any], top: int) -> list[tuple[str, float, str]]:
    """Sessions by why they ended; how transports closed, and how many evicted sessions
    were seen again (under a session limit), each under its reason's name."""
    bars = _share_bars(ends["by_reason"], top)
    bars += [
        ("transport closed: " + label, value, shown)
        for label, value, shown in _share_bars(ends["transport_closed_by"], top)
    ]
    again = ends.get("evicted_seen_again")
    if again is not None:
        name = {"name": "evicted: seen again later", **again}
        bars += _share_bars([name], 1)
    return bars


def render_html(figures: dict[str, Any], *, top: int = 10) -> str:
    """The whole page."""
    latency = figures["latency"]
    latency_bars: list[tuple[str, float, str]] = []
    for name in ("handshake", "heartbeat", "ack"):
        summary = latency[name]
        for point in ("p50", "p90", "p99"):
            value = summary[point]
            if value is not None:
                latency_bars.append((f"{name} {point}", float(value), ms(value)))
    events = figures["events"]

    def event_label(item: dict[str, Any]) -> str:
        nsp = item["nsp"]
        return item["event"] if nsp in ("/", "") else f"{nsp} {item['event']}"

    upgrade = figures["upgrade"]
    charts = [
        bar_chart(
            "Sessions by transport (at the end)",
            _share_bars(figures["transport"]["sessions_final"], top),
        ),
        bar_chart("Packets by transport", _share_bars(figures["transport"]["packets"], top)),
        bar_chart(
            "Upgrades",
            [
                (label, float(upgrade[key]), str(upgrade[key]))
                for key, label in (
                    ("upgraded", "upgraded"),
                    ("failed", "failed"),
                    ("stayed_on_polling", "stayed on polling"),
                    ("websocket_only", "websocket only"),
                )
            ],
        ),
        bar_chart("Session ends", _end_bars(figures["ends"], top)),
        bar_chart("Clients", _share_bars(figures["clients"]["browser_version"], top)),
        bar_chart("Operating systems", _share_bars(figures["clients"]["os"], top)),
        bar_chart("Devices", _share_bars(figures["clients"]["device"], top)),
        bar_chart("Latency percentiles", latency_bars),
        bar_chart(
            "Ack round-trip p50 by event",
            [
                (event_label(item), float(item["p50"]), ms(item["p50"]))
                for item in latency["ack_by_event"][:top]
                if item["p50"] is not None
            ],
        ),
        bar_chart(
            "Top events by count",
            [
                (event_label(i), float(i["count"]), str(i["count"]))
                for i in events["by_count"][:top]
            ],
        ),
        bar_chart(
            "Top events by bytes",
            [
                (event_label(i), float(i["bytes"]), f"{i['bytes']} B")
                for i in events["by_bytes"][:top]
            ],
        ),
        bar_chart("Errors by kind", _share_bars(figures["errors"]["by_kind"], top)),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>ioproto stats</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
        "h2{font-size:1.05em;margin:1.6em 0 .3em}svg text{font-size:12px;fill:#222}"
        ".empty{color:#888}</style></head><body>"
        f"<h1>ioproto stats</h1><p>{_escape(heading(figures))}</p>"
        + "\n".join(charts)
        + "</body></html>\n"
    )
