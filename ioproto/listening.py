"""Where a command listens: one reading of ``--listen`` and one way of saying why it cannot.

Every command that listens (``proxy``, ``dashboard``, ``collect``, ``demo``, the
``prometheus`` sink) reads its address with :func:`parse_listen` and turns a failed bind
into one line with :func:`cannot_listen`, so the same mistake reads the same everywhere
(:func:`out_of_resources` tells the failures that are no mistake of the address's):

``port 8080 on 127.0.0.1 is in use: pick another with --listen HOST:PORT``

An address is ``PORT`` (on 127.0.0.1), ``HOST:PORT``, ``:PORT``, ``[V6]:PORT``, or a URL
``http://HOST:PORT`` as the commands print it (a trailing ``/`` is allowed; a path, another
scheme or a URL without a port is refused: what it would mean is not clear).
"""

from __future__ import annotations

import errno
import os
import socket
from urllib.parse import urlsplit

#: What :func:`parse_listen` takes, for its messages.
FORMS = "[HOST:]PORT"


def parse_listen(
    text: str, *, default_host: str = "127.0.0.1", forms: str = FORMS
) -> tuple[str, int]:
    """``(host, port)`` of a listening address (see the module docstring); port 0 is any
    free port. Raises :class:`ValueError` with a one-line message naming ``forms``."""
    text = text.strip()
    if "://" in text:
        return _from_url(text, forms)
    host, port_text = "", text
    if text.startswith("["):
        host, closing, rest = text[1:].partition("]")
        if not closing or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: write an IPv6 address as [ADDRESS]:PORT")
        port_text = rest[1:]
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
    if not (port_text.isascii() and port_text.isdigit()):
        raise ValueError(f"{text!r} is not {forms} (e.g. 127.0.0.1:8080)")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"{text!r}: the port must be 0-65535 (0: any free port)")
    return host or default_host, port


def _from_url(text: str, forms: str) -> tuple[str, int]:
    parts = urlsplit(text)
    if parts.scheme != "http":
        raise ValueError(f"{text!r}: give {forms}; a URL is taken only as http://HOST:PORT")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{text!r}: give {forms}, without a path")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r}: the port must be 0-65535 (0: any free port)") from None
    host = parts.hostname or ""
    if port is None or not host:
        raise ValueError(f"{text!r}: give the host and the port, e.g. 127.0.0.1:8080")
    return host, port


def hostport(host: str, port: int) -> str:
    """``"127.0.0.1:8080"``, or ``"[::1]:8080"`` for an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


#: A failed bind's errnos that say the process or machine ran out of something (file
#: descriptors, memory), not that the address was refused: no other address would do.
_EXHAUSTED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})


def out_of_resources(exc: BaseException) -> bool:
    """Whether a failed bind ran out of a resource rather than being refused its address:
    a failure to report (exit status 1), not a mistake in ``--listen``."""
    return isinstance(exc, OSError) and exc.errno in _EXHAUSTED


def cannot_listen(
    host: str, port: int, exc: BaseException, how: str = "with --listen HOST:PORT"
) -> str:
    """Why ``host:port`` cannot be listened on, and what to do, in one line; ``how`` is
    how to choose another address (``with --port N``)."""
    where = hostport(host, port)
    code = exc.errno if isinstance(exc, OSError) else None
    if code == errno.EADDRINUSE:
        return f"port {port} on {host} is in use: pick another {how}"
    if code == errno.EACCES and 0 < port < 1024:
        return (
            f"port {port} on {host} is below 1024, which only root may listen on: pick one "
            f"from 1024 up {how}"
        )
    if code == errno.EACCES:
        return f"not permitted to listen on {where}: pick another {how}"
    if code == errno.EADDRNOTAVAIL:
        return (
            f"{host} is not an address of this machine: listen on one of its own {how} "
            "(127.0.0.1: this machine only; 0.0.0.0: every interface)"
        )
    if isinstance(exc, socket.gaierror) or (code is not None and code < 0):
        # getaddrinfo's errors (EAI_*) are negative, also once carried across processes.
        return (
            f"no such host: {host}; listen on an address of this machine {how} "
            "(127.0.0.1: this machine only; 0.0.0.0: every interface)"
        )
    # The system's words for the code: asyncio wraps them in a sentence of its own.
    why = os.strerror(code) if code else " ".join(str(exc).split()) or type(exc).__name__
    return f"cannot listen on {where}: {why}; pick another address {how}"
