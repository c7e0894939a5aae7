"""One reading of a listening address and one way of saying why it cannot be listened on,
shared by every command that listens (the commands themselves: test_mistakes.py)."""

from __future__ import annotations

import errno
import socket

import pytest

from ioproto.listening import cannot_listen, out_of_resources, parse_listen


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8080", ("127.0.0.1", 8080)),
        (":8080", ("127.0.0.1", 8080)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("[::1]:8080", ("::1", 8080)),
        ("localhost:8080", ("localhost", 8080)),
        ("http://127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("http://127.0.0.1:8080/", ("127.0.0.1", 8080)),
        ("http://[::1]:8080", ("::1", 8080)),
    ],
)
def test_the_forms_of_an_address(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "'nope' is not [HOST:]PORT (e.g. 127.0.0.1:8080)"),
        ("127.0.0.1:", "'127.0.0.1:' is not [HOST:]PORT"),
        ("70000", "'70000': the port must be 0-65535 (0: any free port)"),
        ("[::1]8080", "'[::1]8080': write an IPv6 address as [ADDRESS]:PORT"),
        ("http://h:1/app", "'http://h:1/app': give [HOST:]PORT, without a path"),
        ("ws://h:1", "'ws://h:1': give [HOST:]PORT; a URL is taken only as http://HOST:PORT"),
        ("http://h", "'http://h': give the host and the port, e.g. 127.0.0.1:8080"),
        ("http://h:99999", "the port must be 0-65535"),
    ],
)
def test_what_is_not_an_address_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_listen(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("exc", "port", "message"),
    [
        (
            OSError(errno.EADDRINUSE, "Address already in use"),
            8080,
            "port 8080 on 127.0.0.1 is in use: pick another with --listen HOST:PORT",
        ),
        (
            OSError(errno.EACCES, "Permission denied"),
            80,
            "port 80 on 127.0.0.1 is below 1024, which only root may listen on: pick one "
            "from 1024 up with --listen HOST:PORT",
        ),
        (
            OSError(errno.EACCES, "Permission denied"),
            8080,
            "not permitted to listen on 127.0.0.1:8080: pick another with --listen HOST:PORT",
        ),
        (
            # As asyncio words it, and as the proxy carries it from its child process.
            OSError(errno.EADDRNOTAVAIL, "error while attempting to bind on address"),
            8080,
            "127.0.0.1 is not an address of this machine",
        ),
        (socket.gaierror(-2, "Name or service not known"), 8080, "no such host: 127.0.0.1;"),
        (OSError(-2, "Name or service not known"), 8080, "no such host: 127.0.0.1;"),
        (
            OSError(errno.ENOBUFS, "[Errno 105] noise"),
            8080,
            "cannot listen on 127.0.0.1:8080: No buffer space available; pick another address",
        ),
    ],
)
def test_why_an_address_cannot_be_listened_on(exc: OSError, port: int, message: str) -> None:
    assert message in cannot_listen("127.0.0.1", port, exc)


def test_the_way_to_choose_another_is_the_commands_own() -> None:
    line = cannot_listen("127.0.0.1", 3000, OSError(errno.EADDRINUSE, "x"), "with --port N")
    assert line == "port 3000 on 127.0.0.1 is in use: pick another with --port N"


@pytest.mark.parametrize(
    ("exc", "exhausted"),
    [
        (OSError(errno.EMFILE, "Too many open files"), True),
        (OSError(errno.ENFILE, "Too many open files in system"), True),
        (OSError(errno.ENOMEM, "Cannot allocate memory"), True),
        (OSError(errno.ENOBUFS, "No buffer space available"), True),
        (OSError(errno.EADDRINUSE, "Address already in use"), False),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address"), False),
        (OSError("no errno"), False),
        (ValueError("not an OSError"), False),
    ],
)
def test_a_bind_out_of_resources_is_no_fault_of_the_address(
    exc: BaseException, exhausted: bool
) -> None:
    assert out_of_resources(exc) is exhausted
