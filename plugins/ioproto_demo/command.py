"""``ioproto demo``: a Socket.IO app and simulated clients on loopback, to try the live ways.

Only click here: python-socketio and aiohttp are imported when the command runs, so
``ioproto --version`` and every other command start without them.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from ioproto.cli.mistakes import Mistake
from ioproto.cli.options import duration_option
from ioproto.render import plural

if TYPE_CHECKING:
    from .run import Plan

DEFAULT_PORT = 3000
PROXY_PORT = 8080


@click.command("demo")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="The server's port on 127.0.0.1 (0: any free port).",
)
@click.option(
    "--clients",
    type=click.IntRange(0, 500),
    default=5,
    show_default=True,
    help="How many simulated clients (browsers on polling, WebSocket, or both).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0.01, max=1000),
    default=0.5,
    show_default=True,
    metavar="PER_SECOND",
    help="Events each client sends a second, on average (0.5: one every 2 s, a human pace).",
)
@duration_option
@click.option(
    "--via-proxy",
    type=click.IntRange(1, 65535),
    metavar="PORT",
    help="The clients go through 127.0.0.1:PORT, where you run `ioproto proxy`; they "
    "wait for it to be up.",
)
@click.option(
    "--tap",
    is_flag=True,
    help="Tap the server in-process (ioproto_tap): it reports every packet to "
    "`ioproto collect` ($IOPROTO_COLLECTOR, else 127.0.0.1:7788).",
)
@click.option("--server-only", is_flag=True, help="Run the server, no clients.")
@click.option(
    "--clients-only",
    metavar="URL",
    help="Run only the clients, talking to the server (or proxy) at URL.",
)
@click.pass_context
def demo_command(
    ctx: click.Context,
    /,
    port: int,
    clients: int,
    rate: float,
    duration: float | None,
    via_proxy: int | None,
    tap: bool,
    server_only: bool,
    clients_only: str | None,
) -> None:
    """Run a small Socket.IO app with simulated clients on 127.0.0.1, to watch.

    A python-socketio server (namespaces / and /admin, acks, binary attachments) and
    clients that connect over long-polling, WebSocket or both (with the upgrade), with a
    few browsers' User-Agents, and chat at a human pace. It prints the commands that
    watch it: a live capture, the proxy (--via-proxy), the collector (--tap). Ctrl-C
    stops it.

    \b
    Examples:
      ioproto demo                       then: ioproto monitor live:lo --port 3000
      ioproto demo --via-proxy 8080      then: ioproto proxy --upstream http://127.0.0.1:3000
      ioproto demo --tap                 then: ioproto collect --sink monitor
      ioproto demo --server-only --port 3001
      ioproto demo --clients-only http://127.0.0.1:8080 --clients 20 --rate 5
    """
    if server_only and (clients_only or via_proxy):
        raise click.UsageError("--server-only runs no clients: drop --clients-only/--via-proxy")
    if clients_only and tap:
        raise click.UsageError("--tap taps the demo's server: drop --clients-only")
    if clients_only and via_proxy:
        raise click.UsageError("give the clients one place to go: --clients-only or --via-proxy")
    if clients_only:
        _check_url(clients_only)
    connect = clients_only or (f"http://127.0.0.1:{via_proxy}" if via_proxy else None)
    from .run import DemoError, Plan, run_demo

    collector = _collector() if tap else ""
    plan = Plan(
        serve=not clients_only,
        port=port,
        clients=0 if server_only else clients,
        rate=rate,
        connect=connect,
        duration=duration,
        tap=tap,
        collector=collector,
    )
    commands = _commands(ctx)
    try:
        _run(run_demo(plan, _say, lambda bound: banner(plan, bound, commands)))
    except DemoError as exc:
        raise Mistake(str(exc)) from None
    except KeyboardInterrupt:
        ctx.exit(130)


def _run(main: Coroutine[Any, Any, None]) -> None:
    import asyncio

    asyncio.run(main)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(
            f"{url!r} is not an http:// or https:// URL, e.g. http://127.0.0.1:8080",
            param_hint="--clients-only",
        )


def _collector() -> str:
    """Where the tapped server will send (a bad ``$IOPROTO_COLLECTOR`` is a mistake)."""
    from ioproto_tap import collector_address

    try:
        return collector_address()
    except ValueError as exc:
        raise Mistake(str(exc)) from None


def _commands(ctx: click.Context) -> set[str]:
    group = ctx.parent.command if ctx.parent is not None else None
    return set(group.commands) if isinstance(group, click.Group) else set()


def _say(text: str) -> None:
    print(text, flush=True)


def banner(plan: Plan, port: int | None, commands: set[str]) -> str:
    """What the demo runs and which commands watch it (``port``: the server's, ``None``
    without a server; ``commands``: the installed commands, to mention the dashboard)."""
    from .clients import PROFILES

    lines: list[str] = []
    server = f"http://127.0.0.1:{port}" if port is not None else ""
    if port is not None:
        lines.append(f"ioproto demo: a Socket.IO app (python-socketio {_version()}) on {server}")
    if plan.clients:
        where = plan.connect or server
        lines.append(
            f"{plural(plan.clients, 'simulated client')} talking to {where}, "
            f"{_pace(plan.rate)} each:"
        )
        for profile in PROFILES[: plan.clients]:
            lines.append(f"  {profile.name} ({profile.way})")
        if plan.clients > len(PROFILES):
            lines.append(f"  and {plan.clients - len(PROFILES)} more of the same kinds")
    else:
        lines.append("no clients (--server-only)")
    stops = "Ctrl-C stops it." if plan.duration is None else f"It stops after {plan.duration:g} s."
    lines.append(stops)
    lines.append("")
    if plan.tap and port is not None:
        # collect listens on 127.0.0.1:7788 by default: elsewhere it is told where.
        listen = "" if plan.collector == "127.0.0.1:7788" else f" --listen {plan.collector}"
        lines += [
            f"Its server is tapped: it reports every packet to `ioproto collect` on "
            f"{plan.collector} (it buffers up to 8 MiB and retries every few seconds until "
            "one listens there). In another terminal:",
            f"  ioproto collect{listen} --sink monitor",
            f"  ioproto collect{listen} --sink stats --every 10s",
        ]
    upstream = server or "http://127.0.0.1:3000"
    live_port = port
    if plan.connect and port is not None:
        proxy_port = urlsplit(plan.connect).port
        lines += [
            "The clients wait for a proxy there. Start it in another terminal:",
            f"  ioproto proxy --listen 127.0.0.1:{proxy_port} --upstream {upstream}",
        ]
        if proxy_port == PROXY_PORT:
            lines.append(f"  ioproto proxy --upstream {upstream} --sink stats --every 10s")
    elif plan.clients and port is not None:
        lines += [
            "Watch it from another terminal (capturing needs root or tcpdump capture rights):",
            f"  ioproto monitor live:lo --port {live_port}",
            f"  ioproto stats --every 10s live:lo --port {live_port}",
            f"  ioproto decode --sink jsonl live:lo --port {live_port}",
        ]
        if "dashboard" in commands:
            lines.append(f"  ioproto dashboard live:lo --port {live_port}")
        lines += [
            "Or send the clients through the monitoring proxy (no capture rights needed):",
            f"  ioproto demo --via-proxy {PROXY_PORT}{_port_option(port)}   (instead of this one)",
            f"  ioproto proxy --listen 127.0.0.1:{PROXY_PORT} --upstream {upstream}",
        ]
    elif port is not None:
        lines += [
            "Point clients at it, for example through the monitoring proxy:",
            f"  ioproto proxy --listen 127.0.0.1:{PROXY_PORT} --upstream {upstream}",
            f"  ioproto demo --clients-only http://127.0.0.1:{PROXY_PORT}",
        ]
    return "\n".join(lines)


def _port_option(port: int) -> str:
    return "" if port == DEFAULT_PORT else f" --port {port}"


def _pace(rate: float) -> str:
    if rate >= 1:
        return f"about {rate:g} events a second"
    return f"about one event every {1 / rate:.3g} s"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("python-socketio")
    except PackageNotFoundError:
        return "?"
