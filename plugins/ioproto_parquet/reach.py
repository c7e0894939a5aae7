"""Whether a ``--scheduler`` address can be reached at all, found out at once.

Dask's ``Client`` retries a connection that fails until its timeout (20 s), also for a host
name that does not resolve and a port nothing listens on, where the answer is known at
once: the user then waits for a line that could have come first.
"""

from __future__ import annotations

import errno
import socket

#: Connect errors the kernel gives at once and for good: retrying brings nothing.
_FINAL = {
    errno.ECONNREFUSED: "nothing listens on {where} (connection refused)",
    errno.EHOSTUNREACH: "no route to {where}",
    errno.ENETUNREACH: "the network of {where} is unreachable",
}

#: Seconds a probe's connect may take; one slower is left to Dask's own timeout.
PROBE_SECONDS = 3.0


def unreachable(address: str) -> str | None:
    """Why the scheduler at ``address`` (``tcp://HOST:PORT``, ``tls://``, ``HOST:PORT``)
    cannot be reached, with what to do, or ``None`` when it may be: its host name does not
    resolve, or a TCP connect to it is refused (or has no route). An address Dask does not
    read, or of another transport, is ``None``: ``Client`` says what is wrong with it.

    The probe's connection is closed at once; the scheduler may log that it closed before
    its handshake."""
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
            return None
    if errors and errors <= _FINAL.keys():
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        why = _FINAL[errors.pop()] if len(errors) == 1 else "no address of {where} answers"
        return (
            f"{why.format(where=where)}; start the scheduler there (dask scheduler --port "
            f"{port}) or give the address it listens on"
        )
    return None
