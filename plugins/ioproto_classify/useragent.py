"""Naming the client behind a User-Agent string.

Non-browser clients (Engine.IO/Socket.IO libraries, HTTP tools, bots) are recognised by
patterns first, because ua-parser calls most of them "Other"; browsers go through
``ua_parser.parse``, which is slow (regular expressions over a large list), so results are
cached per User-Agent string in a bounded cache.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import attrs

from .uacache import KnownClients

#: (pattern, kind, name); the first group of the pattern, if any, is the version.
_KNOWN: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind, name)
    for pattern, kind, name in (
        (r"^node-XMLHttpRequest", "library", "Node.js engine.io-client"),
        (r"socket\.io-client(?:[/ ]v?([\d.]+))?", "library", "socket.io-client"),
        (r"python-socketio(?:/([\d.]+))?", "library", "python-socketio"),
        (r"python-engineio(?:/([\d.]+))?", "library", "python-engineio"),
        (r"^python-requests/([\d.]+)", "library", "python-requests"),
        (r"aiohttp/([\d.]+)", "library", "aiohttp"),
        (r"^Python-urllib/([\d.]+)", "library", "Python urllib"),
        (r"^python-httpx/([\d.]+)", "library", "httpx"),
        (r"^websocket-client", "library", "websocket-client"),
        (r"^(?:node|undici)(?:$|/([\d.]+))", "library", "Node.js"),
        (r"^Go-http-client/([\d.]+)", "library", "Go net/http"),
        (r"^okhttp/([\d.]+)", "library", "OkHttp"),
        (r"^Dart/([\d.]+)", "library", "Dart"),
        (r"^Java/([\d.]+)", "library", "Java"),
        (r"^Dalvik/([\d.]+)", "library", "Android Dalvik"),
        (r"CFNetwork/([\d.]+)", "library", "Apple CFNetwork"),
        (r"^curl/([\d.]+)", "tool", "curl"),
        (r"^Wget/([\d.]+)", "tool", "Wget"),
        (r"^PostmanRuntime/([\d.]+)", "tool", "Postman"),
        (r"^insomnia/([\d.]+)", "tool", "Insomnia"),
        (r"^k6/([\d.]+)", "tool", "k6"),
        (r"artillery", "tool", "Artillery"),
        (r"(?:bot|crawler|spider|slurp)\b", "bot", "bot"),
    )
)

_DESKTOP_OS = frozenset(
    {"Windows", "Mac OS X", "Linux", "Ubuntu", "Fedora", "Debian", "Chrome OS", "FreeBSD"}
)

#: The longest User-Agent looked at; longer ones are cut (untrusted input, slow regexes).
MAX_UA_LENGTH = 512


@attrs.frozen(slots=True)
class ClientInfo:
    """Who a session's client is.

    ``kind``: ``browser``, ``library`` (a Socket.IO/Engine.IO or HTTP client library),
    ``tool`` (curl, load testers), ``bot``, or ``unknown``. ``name`` is the browser family
    (``Chrome``, ``Mobile Safari``) or the library/tool name; ``version`` its major(.minor)
    version; ``os`` and ``device`` the operating system and device family, if known.
    """

    kind: str
    name: str
    version: str | None = None
    os: str | None = None
    device: str | None = None


NO_USER_AGENT = ClientInfo(kind="unknown", name="no User-Agent")


#: What earlier runs identified (a file; see :mod:`.uacache`), saved by :func:`save_known`.
KNOWN = KnownClients()


@lru_cache(maxsize=4096)
def identify(user_agent: str | None) -> ClientInfo:
    """The client behind ``user_agent`` (``None``/empty: :data:`NO_USER_AGENT`)."""
    if not user_agent or not user_agent.strip():
        return NO_USER_AGENT
    ua = user_agent.strip()[:MAX_UA_LENGTH]
    known = KNOWN.get(ua)
    if known is not None:
        return ClientInfo(*known)
    info = _identify(ua)
    KNOWN.add(ua, attrs.astuple(info))
    return info


def save_known() -> None:
    """Write the User-Agents identified in this run to the cache file (never raises)."""
    KNOWN.save()


def _identify(ua: str) -> ClientInfo:
    """:func:`identify` of a stripped, cut User-Agent, by the rules and ua-parser."""
    parsed = _parse(ua)
    device = _family(parsed, "device")
    if device == "Spider":
        family = _family(parsed, "user_agent")
        return ClientInfo(kind="bot", name=family or "bot", version=_version(parsed))
    for pattern, kind, name in _KNOWN:
        match = pattern.search(ua)
        if match is not None:
            version = match.group(1) if match.groups() else None
            if kind == "bot":
                return ClientInfo(kind="bot", name=_family(parsed, "user_agent") or "bot")
            return ClientInfo(kind=kind, name=name, version=version or None, os=_os(parsed))
    family = _family(parsed, "user_agent")
    if family is None or not ua.startswith("Mozilla/"):
        return ClientInfo(kind="unknown", name=family or "other", version=_version(parsed))
    os_family = _family(parsed, "os")
    os_name = _os(parsed)
    if device is None or device == "Other":
        device = "Desktop" if os_family in _DESKTOP_OS else None
    return ClientInfo(
        kind="browser", name=family, version=_version(parsed), os=os_name, device=device
    )


def _parse(ua: str) -> Any:
    from ua_parser import parse  # slow import (loads the regex list): only when needed

    try:
        return parse(ua)
    except Exception:  # a parser bug must not take a classifier down
        return None


def _family(parsed: Any, part: str) -> str | None:
    value = getattr(getattr(parsed, part, None), "family", None)
    return value if isinstance(value, str) and value != "Other" else None


def _os(parsed: Any) -> str | None:
    family = _family(parsed, "os")
    major = getattr(getattr(parsed, "os", None), "major", None)
    return f"{family} {major}" if family and major else family


def _version(parsed: Any) -> str | None:
    agent = getattr(parsed, "user_agent", None)
    major = getattr(agent, "major", None)
    if not major:
        return None
    minor = getattr(agent, "minor", None)
    return f"{major}.{minor}" if minor and minor != "0" else str(major)
