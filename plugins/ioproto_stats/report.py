"""Turning the collector's figures into text: plain tables, rich tables, Markdown or JSON.

The human formats share one layout (:func:`sections`): a heading line, then tables. Every
name that came off the wire (event names, namespaces, User-Agent families, error reasons)
goes through :func:`ioproto.render.safe_text`; the Markdown form also escapes Markdown
punctuation, the rich form puts cells in ``rich.text.Text`` (never parsed as markup), and
the JSON form is ASCII-only so that no control character can reach a terminal.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from typing import Any

import attrs

from ioproto.render import format_duration, format_size, plural, safe_text


@attrs.frozen
class Table:
    """A titled table; ``align`` holds ``"l"`` or ``"r"`` per column."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    align: tuple[str, ...]


def ms(value: float | None) -> str:
    """Seconds → ``0.39 ms`` / ``12.3 ms`` / ``1.25 s`` (:func:`~ioproto.render.format_duration`);
    ``-`` for none."""
    if value is None:
        return "-"
    return format_duration(value)


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _wire(text: Any) -> str:
    return safe_text(str(text))


def _event(nsp: str, name: str) -> str:
    return _wire(name if nsp in ("/", "") else f"{nsp} {name}")


def heading(figures: dict[str, Any]) -> str:
    """``3 sessions, 120 packets (130 records) over 2.50 s, 48.0 packets/s``."""
    totals = figures["totals"]
    text = (
        f"{plural(figures['sessions']['total'], 'session')}, "
        f"{plural(totals['packets'], 'packet')} ({plural(totals['records'], 'record')}) "
        f"over {ms(totals['duration'])}"
    )
    if totals["packets_per_second"]:
        text += f", {totals['packets_per_second']:.1f} packets/s"
    return text


def _latency_row(label: str, summary: dict[str, Any]) -> tuple[str, ...]:
    return (
        label,
        str(summary["count"]),
        ms(summary["p50"]),
        ms(summary["p90"]),
        ms(summary["p99"]),
        ms(summary["max"]),
    )


def sections(figures: dict[str, Any], *, top: int = 10) -> list[Table]:
    """The human layout of ``figures`` as tables (empty tables are left out)."""
    tables: list[Table] = []
    transport = figures["transport"]
    kinds: list[str] = []
    for group in ("sessions_first", "sessions_final", "packets"):
        for item in transport[group]:
            if item["name"] not in kinds:
                kinds.append(item["name"])

    def lookup(group: str, name: str) -> tuple[str, str]:
        for item in transport[group]:
            if item["name"] == name:
                return str(item["count"]), _pct(item["pct"])
        return "0", _pct(0.0)

    rows = tuple(
        (
            _wire(kind),
            *lookup("sessions_first", kind),
            *lookup("sessions_final", kind),
            *lookup("packets", kind),
        )
        for kind in kinds
    )
    tables.append(
        Table(
            "Transports",
            ("transport", "sessions (start)", "%", "sessions (end)", "%", "packets", "%"),
            rows,
            ("l", "r", "r", "r", "r", "r", "r"),
        )
    )
    upgrade = figures["upgrade"]
    time = upgrade["time"]
    tables.append(
        Table(
            "Upgrades",
            ("", "sessions"),
            (
                ("started on polling", str(upgrade["started_on_polling"])),
                ("upgraded", f"{upgrade['upgraded']} ({_pct(upgrade['upgraded_pct'])})"),
                ("failed (probe, no upgrade)", str(upgrade["failed"])),
                ("stayed on polling", str(upgrade["stayed_on_polling"])),
                ("websocket only", str(upgrade["websocket_only"])),
                (
                    "time to upgrade p50/p90/max",
                    f"{ms(time['p50'])} / {ms(time['p90'])} / {ms(time['max'])}",
                ),
            ),
            ("l", "r"),
        )
    )
    ends = figures["ends"]
    end_rows: list[tuple[str, ...]] = []
    for item in ends["by_reason"]:
        end_rows.append((_wire(item["name"]), str(item["count"]), _pct(item["pct"])))
        if item["name"] == "transport closed":
            end_rows.extend(
                ("  " + _wire(how["name"]), str(how["count"]), _pct(how["pct"]))
                for how in ends["transport_closed_by"]
            )
        if item["name"] == "evicted" and "evicted_seen_again" in ends:
            again = ends["evicted_seen_again"]
            end_rows.append(("  seen again later", str(again["count"]), _pct(again["pct"])))
    if end_rows:
        headers = ("", "sessions", "%")
        tables.append(Table("Session ends", headers, tuple(end_rows), ("l", "r", "r")))
    clients = figures["clients"]
    client_rows: list[tuple[str, ...]] = []
    for group, label in (
        ("kind", "kind"),
        ("browser_version", "client"),
        ("os", "os"),
        ("device", "device"),
    ):
        for item in clients[group][:top]:
            client_rows.append((label, _wire(item["name"]), str(item["count"]), _pct(item["pct"])))
    if client_rows:
        tables.append(
            Table(
                "Clients", ("", "name", "sessions", "%"), tuple(client_rows), ("l", "l", "r", "r")
            )
        )
    latency = figures["latency"]
    latency_rows = [
        _latency_row("handshake", latency["handshake"]),
        _latency_row("heartbeat", latency["heartbeat"]),
        _latency_row("ack (all)", latency["ack"]),
    ]
    for item in latency["ack_by_event"][:top]:
        latency_rows.append(_latency_row("ack " + _event(item["nsp"], item["event"]), item))
    latency_rows.append(("unanswered acks", str(latency["unanswered_acks"]), "", "", "", ""))
    for item in latency["unanswered_acks_by_event"][:top]:
        label = "  unanswered " + _event(item["nsp"], item["event"])
        latency_rows.append((label, str(item["count"]), "", "", "", ""))
    latency_rows.append(("heartbeat timeouts", str(latency["heartbeat_timeouts"]), "", "", "", ""))
    if latency["heartbeat_pending_at_end"]:
        pending = str(latency["heartbeat_pending_at_end"])
        latency_rows.append(("pings pending at end", pending, "", "", "", ""))
    tables.append(
        Table(
            "Latency",
            ("", "count", "p50", "p90", "p99", "max"),
            tuple(latency_rows),
            ("l", "r", "r", "r", "r", "r"),
        )
    )
    events = figures["events"]
    for key, title in (("by_count", "Top events by count"), ("by_bytes", "Top events by bytes")):
        event_rows = tuple(
            (
                _wire(item["nsp"]),
                _wire(item["event"]),
                str(item["count"]),
                str(item["count_c2s"]),
                str(item["count_s2c"]),
                format_size(item["bytes"]),
                str(item["attachments"]),
                str(item["acks"]),
            )
            for item in events[key][:top]
        )
        if event_rows:
            tables.append(
                Table(
                    title,
                    ("nsp", "event", "count", "c2s", "s2c", "bytes", "binary", "acks"),
                    event_rows,
                    ("l", "l", "r", "r", "r", "r", "r", "r"),
                )
            )
    errors = figures["errors"]
    unknown = errors.get("http_unknown_sessions", 0)
    if errors["total"] or unknown:
        error_rows = [(_wire(item["name"]), "", str(item["count"])) for item in errors["by_kind"]]
        if unknown:
            reason = f"not seen by an in-process tap ({unknown} sessions)"
            error_rows.append(("http", reason, "n/a"))
        error_rows.extend(
            ("  " + _wire(item["kind"]), _wire(item["reason"])[:100], str(item["count"]))
            for item in errors["top_reasons"][:top]
        )
        tables.append(
            Table("Errors", ("kind", "reason", "count"), tuple(error_rows), ("l", "l", "r"))
        )
    return tables


# -- renderers ----------------------------------------------------------------------------------


def render(figures: dict[str, Any], fmt: str, *, color: bool = False, top: int = 10) -> str:
    """``figures`` in format ``fmt`` (``text``, ``json``, ``md``); ``text`` is rich tables
    when ``color`` is on, plain aligned text otherwise."""
    if fmt == "json":
        return render_json(figures)
    if fmt == "md":
        return render_markdown(figures, top=top)
    if color:
        return render_rich(figures, top=top)
    return render_text(figures, top=top)


def render_text(figures: dict[str, Any], *, top: int = 10) -> str:
    """Plain aligned tables."""
    lines = [heading(figures)]
    for table in sections(figures, top=top):
        lines.append("")
        lines.append(table.title)
        lines.extend(_aligned(table))
    return "\n".join(lines) + "\n"


def _aligned(table: Table) -> list[str]:
    widths = [len(header) for header in table.headers]
    for row in table.rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if table.align[i] == "r" else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return ("  " + "  ".join(parts)).rstrip()

    out = [line(table.headers)] if any(table.headers) else []
    out.extend(line(row) for row in table.rows)
    return out


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _md(cell: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", cell)


def _md_cell(cell: str) -> str:
    """A table cell in Markdown: a row indented under the one above (how a transport
    closed, under ``transport closed``) is marked ``↳``, as Markdown drops the spaces."""
    stripped = cell.strip()
    return ("↳ " if cell.startswith("  ") else "") + _md(stripped)


def render_markdown(figures: dict[str, Any], *, top: int = 10) -> str:
    """GitHub-flavoured Markdown: a heading line and one table per section."""
    lines = ["### ioproto stats", "", _md(heading(figures))]
    for table in sections(figures, top=top):
        lines.extend(["", f"#### {table.title}", ""])
        lines.append("| " + " | ".join(_md(h) or " " for h in table.headers) + " |")
        lines.append("|" + "|".join("---:" if a == "r" else "---" for a in table.align) + "|")
        for row in table.rows:
            lines.append("| " + " | ".join(_md_cell(cell) for cell in row) + " |")
    return "\n".join(lines) + "\n"


def render_json(figures: dict[str, Any]) -> str:
    """Indented, ASCII-only JSON (non-ASCII and control characters as ``\\uXXXX``)."""
    return json.dumps(figures, indent=2, ensure_ascii=True, allow_nan=False, default=str) + "\n"


def render_rich(figures: dict[str, Any], *, top: int = 10, width: int = 120) -> str:
    """Rich tables with ANSI colours, as a string."""
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=True,
        width=width,
        highlight=False,
        markup=False,
        emoji=False,
    )
    console.print(Text(heading(figures), style="bold"))
    for table in sections(figures, top=top):
        rich_table = RichTable(title=Text(table.title, style="bold cyan"), title_justify="left")
        for header, align in zip(table.headers, table.align, strict=True):
            rich_table.add_column(Text(header), justify="right" if align == "r" else "left")
        for row in table.rows:
            rich_table.add_row(*(Text(cell) for cell in row))
        console.print(rich_table)
    return buffer.getvalue()
