"""The demo's simulated clients: real python-socketio clients that behave like people.

Each client takes a :class:`Profile` (a browser's User-Agent, the transports it uses, whether
it joins ``/admin``) and, until told to stop, runs sessions of 20-60 s: it connects (with
retries: the proxy it goes through may not be up yet), then every so often (exponentially
spread, ``rate`` a second on average) chats (acked), types, uploads a few kilobytes of binary
(acked, a thumbnail comes back), asks who it is, is asked a question that it acks, or asks
``/admin`` for stats; then it leaves and comes back as a new session a moment later.

Imports python-socketio and aiohttp: load this module only when the demo runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from typing import Any

import aiohttp
import attrs
import socketio

from .app import ADMIN_TOKEN


@attrs.frozen
class Profile:
    """One kind of simulated client."""

    name: str
    user_agent: str
    transports: tuple[str, ...]
    admin: bool = False

    @property
    def way(self) -> str:
        """How it connects, in words."""
        if self.transports == ("websocket",):
            return "WebSocket"
        if self.transports == ("polling",):
            return "long-polling"
        return "polling, then WebSocket"


PROFILES = (
    Profile(
        "Chrome on Windows",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        ("polling", "websocket"),
    ),
    Profile(
        "Firefox on Linux",
        "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
        ("websocket",),
    ),
    Profile(
        "Safari on iPhone",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        ("polling",),
    ),
    Profile(
        "Edge on Windows, admin",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
        ("polling", "websocket"),
        admin=True,
    ),
    Profile(
        "Chrome on Android",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.6478.122 Mobile Safari/537.36",
        ("websocket",),
    ),
)

LINES = (
    "hi all",
    "anyone here?",
    "héllo from the other side",
    "👋",
    "brb",
    "that upload took a while",
    "see you tomorrow",
    'quotes "inside" and a \\ backslash',
)
SESSION_SECONDS = (20.0, 60.0)
ACK_TIMEOUT = 5.0


@attrs.define
class ClientTally:
    """What the clients did, for the demo's summary."""

    sessions: int = 0
    connected: int = 0
    events: int = 0
    acks: int = 0


Say = Callable[[str], None]


class Waiting:
    """Says once that the clients wait for ``url``, and once that they got through."""

    def __init__(self, url: str, say: Say) -> None:
        self.url = url
        self.say = say
        self.told = False

    def failed(self, reason: str) -> None:
        if not self.told:
            self.told = True
            self.say(f"clients: waiting for {self.url} to answer ({reason}); retrying")

    def connected(self) -> None:
        if self.told:
            self.told = False
            self.say(f"clients: connected to {self.url}")


async def run_client(
    profile: Profile,
    url: str,
    rate: float,
    stop: asyncio.Event,
    tally: ClientTally,
    waiting: Waiting,
    rng: random.Random,
) -> None:
    """Sessions of ``profile`` against ``url`` until ``stop`` is set."""
    while not stop.is_set():
        client = await _connect(profile, url, stop, waiting, rng)
        if client is None:
            return
        tally.sessions += 1
        tally.connected += 1
        try:
            lifetime = rng.uniform(*SESSION_SECONDS)
            await _talk(client, profile, rate, stop, tally, rng, lifetime)
        finally:
            tally.connected -= 1
            await _leave(client)
        await _pause(stop, rng.uniform(1.0, 3.0))


async def _connect(
    profile: Profile, url: str, stop: asyncio.Event, waiting: Waiting, rng: random.Random
) -> socketio.AsyncClient | None:
    """A connected client, or ``None`` once ``stop`` is set."""
    while not stop.is_set():
        client = _new_client(profile, rng)
        try:
            await client.connect(
                url,
                headers={"User-Agent": profile.user_agent},
                transports=list(profile.transports),
                namespaces=["/", "/admin"] if profile.admin else ["/"],
                auth={"token": ADMIN_TOKEN} if profile.admin else None,
                wait_timeout=5,
            )
        except (socketio.exceptions.ConnectionError, OSError, aiohttp.ClientError) as exc:
            waiting.failed(str(exc) or type(exc).__name__)
            await _leave(client)
            await _pause(stop, 1.0)
            continue
        waiting.connected()
        return client
    return None


def _new_client(profile: Profile, rng: random.Random) -> socketio.AsyncClient:
    client = socketio.AsyncClient(
        reconnection=False,  # a new session is the client loop's business
        handle_sigint=False,  # Ctrl-C is the demo's to handle
        # Every request, not only the handshake, carries the browser's User-Agent.
        http_session=lambda: aiohttp.ClientSession(headers={"User-Agent": profile.user_agent}),
    )

    async def question(data: Any) -> int:
        return rng.randint(3, 5)

    client.on("question", question)

    return client


async def _talk(
    client: socketio.AsyncClient,
    profile: Profile,
    rate: float,
    stop: asyncio.Event,
    tally: ClientTally,
    rng: random.Random,
    lifetime: float,
) -> None:
    loop = asyncio.get_running_loop()
    ends = loop.time() + lifetime
    uploads = 0
    while not stop.is_set() and client.connected:
        pause = min(rng.expovariate(rate), ends - loop.time())
        if pause <= 0 or await _pause(stop, pause):
            return
        action = rng.choices(
            ("chat", "typing", "upload", "whoami", "ask", "stats"),
            weights=(5, 3, 1, 1, 1, 1 if profile.admin else 0),
        )[0]
        try:
            if action == "chat":
                await client.call("chat message", {"text": rng.choice(LINES)}, timeout=ACK_TIMEOUT)
                tally.acks += 1
            elif action == "typing":
                await client.emit("typing", rng.random() < 0.7)
            elif action == "upload":
                uploads += 1
                meta = {"name": f"photo-{uploads}.png", "type": "image/png"}
                blob = rng.randbytes(rng.randint(200, 4000))
                await client.call("upload", (meta, blob), timeout=ACK_TIMEOUT)
                tally.acks += 1
            elif action == "whoami":
                await client.call("whoami", timeout=ACK_TIMEOUT)
                tally.acks += 1
            elif action == "ask":
                await client.emit("ask")
            else:
                await client.call("stats", namespace="/admin", timeout=ACK_TIMEOUT)
                tally.acks += 1
        except (socketio.exceptions.SocketIOError, OSError, aiohttp.ClientError):
            return  # the connection went away: a new session
        tally.events += 1


async def _leave(client: socketio.AsyncClient) -> None:
    """Disconnect; python-engineio's polling client would wait for the pending long-poll
    (up to a ping interval), so give it a moment, then drop the connection."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.disconnect(), 1.0)
    with contextlib.suppress(Exception):
        await client.eio.disconnect(abort=True)


async def _pause(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``stop``; whether ``stop`` was set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
