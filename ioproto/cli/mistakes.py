"""A user's mistake ends the command with status 2 and one line on stderr, no traceback.

:class:`Mistake` is what commands raise for it. :class:`OneLineGroup` prints every click
error (a mistake, an unknown option, a missing argument) as that one line, where click
would print the usage text first: ``ioproto: error: <what is wrong and what to do>``. An
error class with a ``show`` of its own (a ``--filter`` mistake: the expression with a caret
under it) is shown its own way. A :class:`~ioproto.errors.UsageError` a component raised
(a bad option value) and no command caught is that one line too, and so is an
:class:`OSError` (a full disk under stdout), with exit status 1.

Either may also be a bug (a plugin's, or ioproto's) rather than the user's doing or the
system's refusal, and its one line says nothing of where it was raised: with the environment
variable ``IOPROTO_DEBUG=1`` (:data:`DEBUG_VARIABLE`) those two handlers print the full
traceback instead, with the same exit status. An :class:`OSError` that is none of the
system's usual refusals (:data:`SYSTEM_ERRNOS`) says so in its line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from ioproto.errors import UsageError


class Mistake(click.UsageError):
    """A mistake of the user: exit status 2, the message on one line (a usage error, so
    that what catches click's usage errors catches it too)."""


def one_line(exc: click.ClickException) -> str:
    """The message of ``exc`` as one line; click's usage errors point at ``--help``."""
    text = " ".join(exc.format_message().split())
    if isinstance(exc, click.UsageError) and not isinstance(exc, Mistake) and exc.ctx:
        text += f" (see '{exc.ctx.command_path} --help')"
    return f"ioproto: error: {text}"


class OneLineGroup(click.Group):
    """A group whose errors are one line each (see the module docstring)."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            if _shows_itself(exc):
                exc.show()  # a display of its own (a --filter mistake: a caret under it)
                sys.exit(exc.exit_code)
            _fail(one_line(exc), exc.exit_code)
        except UsageError as exc:
            # A component's own check (a bad option value) that no command caught first.
            _fail_or_trace(f"ioproto: error: {' '.join(str(exc).split())}", 2)
        except click.Abort:
            _fail("Aborted!", 1)
        except OSError as exc:
            # The system refused (a full disk under stdout, an unreadable device): no bug of
            # ioproto's to show a traceback for.
            discard_stdout()
            _fail_or_trace(f"ioproto: error: {_os_error(exc)}", 1)
        sys.exit(result if isinstance(result, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        """The command; Ctrl-C before a command takes it over (a source waiting for stdin
        to say what it holds) ends quietly with status 130, as once records flow, instead
        of click's "Aborted!". A reader of stdout that went away (``| head -1``) ends any
        command quietly with status 0, as it ends ``decode`` (click would exit with 1)."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            sys.exit(130)
        except BrokenPipeError:
            if not _stdout_reader_gone():
                raise  # another pipe (a child's): not the user closing the output
            discard_stdout()
            sys.exit(0)


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reading end has been closed."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _fd, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no stdout, or not a real file
        return False


def _shows_itself(exc: click.ClickException) -> bool:
    """Whether ``exc``'s class shows itself its own way (rather than click's usage text)."""
    return type(exc).show not in (click.ClickException.show, click.UsageError.show)


def _fail(message: str, code: int) -> NoReturn:
    from ioproto.render import readable  # only on failure: render loads json

    click.echo(readable(message), err=True)  # a file name's undecodable bytes as \xNN
    sys.exit(code)


#: The environment variable that turns the one line of an uncaught error into its traceback.
DEBUG_VARIABLE = "IOPROTO_DEBUG"

#: The system's usual refusals: a full disk, a closed pipe, a missing, forbidden or
#: misnamed file, a failing device, resources exhausted. Any other :class:`OSError` may
#: well be a bug, and its line says how to see where it was raised.
SYSTEM_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EPIPE,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENAMETOOLONG,
        errno.ENXIO,
        errno.EIO,
        errno.EMFILE,
        errno.ENFILE,
        errno.ENOMEM,
    }
)


def debugging() -> bool:
    """Whether ``IOPROTO_DEBUG`` asks for tracebacks (set, and neither empty nor ``0``)."""
    return os.environ.get(DEBUG_VARIABLE, "") not in ("", "0")


def _fail_or_trace(message: str, code: int) -> NoReturn:
    """``message`` as :func:`_fail` shows it, or, with ``IOPROTO_DEBUG``, the traceback of
    the exception being handled; status ``code`` either way."""
    if debugging():
        import traceback

        traceback.print_exc()
        sys.exit(code)
    _fail(message, code)


def _os_error(exc: OSError) -> str:
    """``exc`` in words: ``No space left on device: /dev/full``; one that is no usual
    refusal of the system's adds how to see where it was raised."""
    text = exc.strerror or str(exc)
    if exc.filename:
        text = f"{text}: {exc.filename}"
    if exc.errno not in SYSTEM_ERRNOS:
        text += f" ({DEBUG_VARIABLE}=1 shows where)"
    return text


def discard_stdout() -> None:
    """Send what stdout still holds nowhere: its flush at exit would fail again and print
    "Exception ignored" (what it could take was written already)."""
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        return
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
