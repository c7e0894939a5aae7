"""Whether a ``--scheduler`` address has a Dask scheduler behind it, found out before Dask tries.

Dask's ``Client`` retries a connection that fails until its timeout (20 s), also for a host
name that does not resolve and a port nothing listens on, where the answer is known at
once: the user then waits for a line that could have come first. And it trusts what
answers: a server that accepts and says nothing (an HTTP server waiting for its request)
holds it for ever, one that sends other bytes makes it read their first eight as a length
(a MemoryError traceback).
"""

from __future__ import annotations

import errno
import socket
import struct

#: Connect errors the kernel gives at once and for good: retrying brings nothing.
_FINAL = {
    errno.ECONNREFUSED: "nothing listens on {where} (connection refused)",
    errno.EHOSTUNREACH: "no route to {where}",
    errno.ENETUNREACH: "the network of {where} is unreachable",
}

#: Seconds a probe's connect may take; one slower is left to Dask's own timeout.
PROBE_SECONDS = 3.0

#: Seconds a scheduler has to send its handshake, which it does as it accepts.
HANDSHAKE_SECONDS = 10.0

#: Bytes a scheduler's handshake may say it has: it is a few hundred.
MAX_HANDSHAKE = 1 << 20


def unreachable(address: str) -> str | None:
    """Why the scheduler at ``address`` (``tcp://HOST:PORT``, ``tls://``, ``HOST:PORT``)
    cannot be reached, with what to do, or ``None`` when it may be: its host name does not
    resolve, a TCP connect to it is refused (or has no route), or (``tcp://``) what accepts
    it does not send a Dask handshake. An address Dask does not read, or of another
    transport, is ``None``: ``Client`` says what is wrong with it.

    The probe's connection is closed once the scheduler's handshake has come; the scheduler
    may log that it closed before the handshake was complete."""
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location)
    except (ValueError, TypeError):
        return None
    if scheme not in ("tcp", "tls"):
        return None
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return f"no such host: {host}; check the host name in --scheduler"
    errors: set[int] = set()
    for family, kind, proto, _name, sockaddr in found:
        with socket.socket(family, kind, proto) as probe:
            probe.settimeout(PROBE_SECONDS)
            try:
                probe.connect(sockaddr)
            except OSError as exc:
                errors.add(exc.errno or 0)
                continue
            return _not_a_scheduler(probe, _where(host, port)) if scheme == "tcp" else None
    if errors and errors <= _FINAL.keys():
        where = _where(host, port)
        why = _FINAL[errors.pop()] if len(errors) == 1 else "no address of {where} answers"
        return (
            f"{why.format(where=where)}; start the scheduler there (dask scheduler --port "
            f"{port}) or give the address it listens on"
        )
    return None


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _not_a_scheduler(probe: socket.socket, where: str) -> str | None:
    """Why what accepted ``probe`` is no Dask scheduler, or ``None`` when it sends what
    starts a Dask message (an eight-byte length, of a handshake's size)."""
    probe.settimeout(HANDSHAKE_SECONDS)
    head = b""
    try:
        while len(head) < 8:
            got = probe.recv(8 - len(head))
            if not got:
                break
            head += got
    except TimeoutError:
        return (
            f"what listens on {where} said nothing in {HANDSHAKE_SECONDS:g} s, where a Dask "
            "scheduler says hello at once; give the scheduler's address (its port is 8786 "
            "by default)"
        )
    except OSError:
        return None  # a reset or the like: Dask's own connect says what it finds
    (length,) = struct.unpack("<Q", head) if len(head) == 8 else (0,)
    if 0 < length <= MAX_HANDSHAKE:
        return None
    return (
        f"what listens on {where} is not a Dask scheduler (it does not answer as one); give "
        "the scheduler's address (its port is 8786 by default)"
    )
