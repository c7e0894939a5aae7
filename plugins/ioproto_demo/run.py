"""Running the demo: the server, the clients, Ctrl-C and ``--duration``.

:func:`run_demo` is the whole demo as one coroutine. The first SIGINT or SIGTERM stops it
cleanly (clients leave, the server closes, a summary is printed); a second one interrupts at
once (``KeyboardInterrupt``). Imports python-socketio and aiohttp through :mod:`.app` and
:mod:`.clients`: load it only when the demo runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections.abc import Callable

import attrs

from ioproto import listening

from .app import ServerTally, start_server
from .clients import PROFILES, ClientTally, Waiting, run_client

#: How long the clients get to leave when the demo stops.
LEAVE_SECONDS = 5.0


class DemoError(Exception):
    """A mistake of the user's (e.g. a port in use); its message says what to do."""


@attrs.frozen
class Plan:
    """What to run: a server on ``port`` when ``serve`` (reporting to ``ioproto collect``
    at ``collector`` when ``tap``); ``clients`` clients talking to ``connect`` (the server
    itself when ``None``)."""

    serve: bool
    port: int
    clients: int
    rate: float
    connect: str | None
    duration: float | None
    host: str = "127.0.0.1"
    tap: bool = False
    #: where the tap sends (``ioproto_tap.api.collector_address``), when ``tap``
    collector: str = "127.0.0.1:7788"


async def run_demo(
    plan: Plan, say: Callable[[str], None], banner: Callable[[int | None], str]
) -> None:
    """Run ``plan`` until Ctrl-C, SIGTERM or its duration; ``banner(port)`` is printed once
    the server listens (``port`` is ``None`` without a server). Raises :class:`DemoError`
    when the server cannot listen."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        stop.set()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)  # a second one interrupts at once

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    server_tally = ServerTally()
    served = None
    port: int | None = None
    if plan.serve:
        try:
            served = await start_server(plan.host, plan.port, server_tally, tap=plan.tap)
            port = served.port
        except OSError as exc:
            how = "with --port N (0 picks a free one)"
            raise DemoError(listening.cannot_listen(plan.host, plan.port, exc, how)) from None
    say(banner(port))
    url = plan.connect or f"http://{plan.host}:{port}"
    client_tally = ClientTally()
    waiting = Waiting(url, say)
    rng = random.Random()
    clients = [
        asyncio.create_task(
            run_client(
                PROFILES[number % len(PROFILES)],
                url,
                plan.rate,
                stop,
                client_tally,
                waiting,
                random.Random(rng.random()),
            )
        )
        for number in range(plan.clients)
    ]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), plan.duration)
    finally:
        stop.set()
        if clients:
            _, late = await asyncio.wait(clients, timeout=LEAVE_SECONDS)
            for task in late:
                task.cancel()
        if served is not None:
            await served.close()
    say(_summary(plan, server_tally, client_tally))


def _summary(plan: Plan, server: ServerTally, clients: ClientTally) -> str:
    parts = []
    if plan.serve:
        parts.append(f"the server saw {_count(server.sessions, 'session')}")
    if plan.clients:
        parts.append(
            f"the clients sent {_count(clients.events, 'event')} and got "
            f"{_count(clients.acks, 'ack')} in {_count(clients.sessions, 'session')}"
        )
    return "demo stopped: " + "; ".join(parts) if parts else "demo stopped"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
