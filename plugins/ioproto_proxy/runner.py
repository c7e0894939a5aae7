"""Running the proxy's event loop: :func:`serve` (shared with the proxy's child process,
see :mod:`.process`) and :class:`RunningProxy`, the proxy on a background thread of this
process.

In-process, the pipeline runs in the thread that reads the :class:`~.tap.Tap` and the proxy
in its own thread with its own event loop; both share one interpreter (and its GIL), so this
is for tests and embedding. The ``proxy`` source runs the proxy in a child process instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable

from .server import ProxyApp
from .tap import Tap


class RunningProxy:
    """A :class:`ProxyApp` on its own thread.

    ``start()`` returns once the listener is bound (raising the bind error, e.g.
    :class:`OSError` for a port in use); ``address`` is then the bound ``(host, port)``
    (useful with port 0). ``stop()`` closes everything and joins the thread. Usable as a
    context manager.
    """

    def __init__(
        self,
        listen_host: str,
        listen_port: int,
        upstream: str,
        tap: Tap | None = None,
        *,
        max_body: int = 16 * 1024 * 1024,
        max_message: int = 64 * 1024 * 1024,
    ) -> None:
        self.tap = tap if tap is not None else Tap()
        self.app = ProxyApp(upstream, self.tap, max_body=max_body, max_message=max_message)
        self.listen = (listen_host, listen_port)
        self.address: tuple[str, int] = self.listen
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> tuple[str, int]:
        self._thread = threading.Thread(target=self._run, name="ioproto-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the proxy did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error
        return self.address

    def stop(self, timeout: float = 10.0) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> RunningProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()

        def ready(address: tuple[str, int] | BaseException) -> None:
            if isinstance(address, BaseException):
                self._error = address
            else:
                self.address = address
            self._ready.set()

        await serve(self.app, self.listen, ready, self._stopped.wait)


async def serve(
    app: ProxyApp,
    listen: tuple[str, int],
    ready: Callable[[tuple[str, int] | BaseException], None],
    until: Callable[[], Awaitable[object]],
) -> None:
    """Run ``app`` on ``listen`` until ``until()`` returns, then close everything.

    ``ready`` gets the bound ``(host, port)``, or the exception that prevented binding (then
    ``serve`` returns at once).
    """
    try:
        address = await app.start(*listen)
    except BaseException as exc:
        ready(exc)
        return
    ready(address)
    try:
        await until()
    finally:
        await app.stop()
        # Requests still waiting on the upstream (long-polls) end here, not with the loop.
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
