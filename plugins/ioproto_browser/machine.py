"""One DevTools connection to a browser, sans-IO: messages in, records and commands out.

:class:`CdpMachine` does everything but the I/O: it attaches to every page, frame and worker
(``Target.setAutoAttach`` with ``flatten``, browser-wide and then inside each target, with
``waitForDebuggerOnStart`` so that a new tab's first requests are not missed), enables the
``Network`` domain in each (and ``Page``, with lifecycle events, in pages and frames), lets
it run, follows tabs as they open, reload, close or crash, and hands the ``Network`` events
to the :class:`~.network.NetworkTranslator`. When a page is closed, or its main frame loads
another document (``Page.frameNavigated``), it has the translator end what the old document
had open (:meth:`~.network.NetworkTranslator.end_document`), which the browser does not
report (the network module says what it does report). The caller
sends :meth:`CdpMachine.outgoing` messages, feeds every message it receives to
:meth:`CdpMachine.receive` and calls :meth:`CdpMachine.tick` while it waits; each returns
the records now ready, in the browser's order.

Never raises: a message that is not a JSON object, or an event whose fields make no sense,
costs at most its own record (``cdp.message.invalid``); a bug becomes ``cdp.internal``.

Records it makes itself (layer ``cdp``, connection ``cdp:<target>`` for a target's):

* ``cdp.target.closed`` / ``cdp.target.crashed`` / ``cdp.target.detached``: a page (frame,
  worker) that had Engine.IO traffic went away, saying what it cut off (a closed or crashed
  one's WebSockets and waiting requests end with their own records, so they are not
  counted);
* ``cdp.command.failed``: the browser refused to enable the Network (or Page) domain
  somewhere;
* ``cdp.navigate.failed``: the page given to open did not load;
* the connection's end (:meth:`CdpMachine.close`) with the rule the caller gives.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ioproto.model import ErrorRecord, Record

from .exchanges import Exchange
from .network import LAYER, NetworkTranslator, gone
from .outbox import DEFAULT_WINDOW, Outbox
from .values import integer, mapping, number, text

#: Targets whose network traffic is followed; others (the browser's own UI) are let go.
NETWORK_TARGETS = frozenset({"page", "iframe", "worker", "shared_worker", "service_worker"})
#: Targets with a document of their own, whose loading another one is followed (``Page``).
DOCUMENT_TARGETS = frozenset({"page", "iframe"})
#: Default byte budget of what waits in memory: half for tracked requests and WebSockets
#: (the oldest are forgotten beyond it), half for records waiting to leave (beyond it the
#: oldest body being fetched is given up, and records leave without waiting for late ones).
DEFAULT_PENDING_BYTES = 64 * 1024 * 1024
#: Commands whose replies never came are forgotten after this long.
_CALL_MEMORY = 120.0


@attrs.define(slots=True, eq=False)
class _Target:
    target_id: str
    type: str
    url: str
    parent: str | None
    ended: bool = False
    detach_reason: str = ""
    #: ``(frame id, loader id, browser timestamp)`` of the last ``Page.lifecycleEvent``
    #: ``init`` (a document beginning in a frame): the time of the same load's
    #: ``frameNavigated``, which has none
    commit: tuple[str, str, float | None] | None = None


@attrs.define(slots=True, eq=False)
class _Call:
    method: str
    session: str | None
    sent: float
    on_reply: Callable[[Mapping[str, Any] | None, str | None], None] | None = None


class CdpMachine:
    """The sans-IO state of one DevTools connection; see the module docstring.

    ``open_url``: navigate the first page that attaches there (once its Network domain is on;
    a new tab is made when the browser has none). ``pending_bytes``: the memory budget
    (:data:`DEFAULT_PENDING_BYTES`). ``network_buffer``: the bytes of response bodies the
    browser keeps for us (``Network.enable``'s ``maxTotalBufferSize``); ``max_body``:
    longest body asked for (its ``maxResourceBufferSize``). Others as for
    :class:`~.network.NetworkTranslator`.
    """

    def __init__(
        self,
        *,
        wanted: Callable[[Record], bool] | None = None,
        take_all: bool = False,
        observer: Callable[[Exchange], None] | None = None,
        open_url: str | None = None,
        pending_bytes: int = DEFAULT_PENDING_BYTES,
        reply_timeout: float = 10.0,
        network_buffer: int = 64 * 1024 * 1024,
        max_body: int = 16 * 1024 * 1024,
        window: float = DEFAULT_WINDOW,
    ) -> None:
        self.outbox = Outbox(window)
        self.network = NetworkTranslator(
            calls=self,
            outbox=self.outbox,
            prefix=self.prefix,
            wanted=wanted,
            take_all=take_all,
            observer=observer,
            reply_timeout=reply_timeout,
        )
        self.budget = pending_bytes
        self._open_url = open_url
        #: why the page given to open did not load (``None``: it loaded, or not yet)
        self.open_failure: str | None = None
        #: whether the page given to open has loaded (true at once when none was given)
        self.opened = open_url is None
        self._enable = {
            "maxTotalBufferSize": network_buffer,
            "maxResourceBufferSize": max_body,
            "maxPostDataSize": max_body,
        }
        self._targets: dict[str, _Target] = {}
        self._calls: dict[int, _Call] = {}
        self._next_id = 0
        self._outgoing: list[dict[str, Any]] = []
        self._now = 0.0
        self._started = False
        self._attach_answered = False
        self._enabling: set[int] = set()

    # -- the caller's interface ---------------------------------------------------------------

    def start(self, now: float) -> None:
        """Queue the first commands: attach to every target, existing and future."""
        if self._started:
            return
        self._started = True
        self._now = now
        self.call("Target.setAutoAttach", None, _AUTO_ATTACH, self._attached_all)

    def outgoing(self) -> list[dict[str, Any]]:
        """Take the messages to send (JSON objects), in order."""
        out, self._outgoing = self._outgoing, []
        return out

    def receive(self, message: object, now: float) -> list[Record]:
        """Handle one message from the browser; the records now ready."""
        self._now = now
        try:
            self._receive(message, now)
        except Exception as exc:  # a bug must not end the capture: report it as a record
            self.outbox.put(self._now, _internal(now, exc))
        return self._ready(now)

    def invalid(self, reason: str, now: float) -> list[Record]:
        """A message that could not be parsed (``reason``): a record says so."""
        self._now = now
        self.outbox.put(now, _invalid(now, reason))
        return self._ready(now)

    def tick(self, now: float) -> list[Record]:
        """Call while waiting: finishes holds past their deadline; the records now ready."""
        self._now = now
        try:
            self.outbox.expire(now)
            for ident, call in list(self._calls.items()):
                if now - call.sent > _CALL_MEMORY:
                    del self._calls[ident]
                    self._enabling.discard(ident)
        except Exception as exc:
            self.outbox.put(self._now, _internal(now, exc))
        return self._ready(now)

    @property
    def ready(self) -> bool:
        """Whether the capture is on: the browser has answered the attachment, and every
        target attached so far has its Network domain enabled."""
        return self._attach_answered and not self._enabling

    def holding(self) -> bool:
        """Whether some record waits for a reply (a body being fetched)."""
        return self.outbox.has_holds()

    def close(self, now: float, rule: str | None = None, reason: str = "") -> list[Record]:
        """The connection ended: everything still held or open is finished. With ``rule``,
        a record says why (``reason``) and what was cut off."""
        self._now = now
        out: list[Record] = []
        try:
            self.outbox.abandon(reason or "the capture stopped before the browser answered")
            cut = self.network.end_session(None)
            out = self.outbox.ready(now, flush=True)
            if rule is not None:
                lost = cut.describe()
                text_ = reason + (f"; {lost} cut off" if lost else "")
                out.append(ErrorRecord(ts=round(now, 6), layer=LAYER, rule=rule, reason=text_))
        except Exception as exc:
            out.append(_internal(now, exc))
        return out

    def call(
        self,
        method: str,
        session: str | None,
        params: Mapping[str, Any],
        on_reply: Callable[[Mapping[str, Any] | None, str | None], None] | None = None,
    ) -> int:
        """Queue command ``method`` (to target ``session``, or the browser); returns its id.
        ``on_reply(result, error)`` is called with its reply."""
        self._next_id += 1
        ident = self._next_id
        message: dict[str, Any] = {"id": ident, "method": method, "params": dict(params)}
        if session:
            message["sessionId"] = session
        self._outgoing.append(message)
        self._calls[ident] = _Call(method, session, self._now, on_reply)
        return ident

    def prefix(self, session: str) -> str:
        """``cdp:<first 8 characters of the target id>`` of a session's target."""
        target = self._targets.get(session)
        name = target.target_id if target is not None and target.target_id else session
        return f"cdp:{name[:8]}"

    # -- messages -----------------------------------------------------------------------------

    def _receive(self, message: object, now: float) -> None:
        if not isinstance(message, Mapping):
            kind = type(message).__name__
            self.outbox.put(now, _invalid(now, f"a message that is not a JSON object ({kind})"))
            return
        ident = integer(message.get("id"))
        if ident is not None:
            self._reply(ident, message)
            return
        method = text(message.get("method"))
        if method is None:
            self.outbox.put(self._now, _invalid(now, "a message with neither id nor method"))
            return
        session = text(message.get("sessionId")) or ""
        params = mapping(message.get("params"))
        if method.startswith("Network."):
            if session in self._targets:
                self.network.handle(method, session, params, now)
        elif method == "Page.frameNavigated":
            self._frame_navigated(session, params, now)
        elif method == "Page.lifecycleEvent" and session in self._targets:
            if params.get("name") == "init":
                frame, loader = text(params.get("frameId")), text(params.get("loaderId"))
                stamp = number(params.get("timestamp"))
                self._targets[session].commit = (frame or "", loader or "", stamp)
        elif method == "Target.attachedToTarget":
            self._attached(session, params)
        elif method == "Target.detachedFromTarget":
            ended = text(params.get("sessionId"))
            if ended is not None:
                self._end(ended, now, crashed=False)
        elif method == "Inspector.detached" and session in self._targets:
            self._targets[session].detach_reason = text(params.get("reason")) or ""
        elif method == "Inspector.targetCrashed" and session in self._targets:
            self._end(session, now, crashed=True)
        elif method == "Inspector.targetReloadedAfterCrash" and session in self._targets:
            self._targets[session].ended = False

    def _reply(self, ident: int, message: Mapping[str, Any]) -> None:
        self._enabling.discard(ident)
        error = message.get("error")
        failure = None
        if error is not None:
            details = mapping(error)
            failure = text(details.get("message")) or str(error)[:200]
        result = mapping(message.get("result")) if failure is None else None
        if self.outbox.holds(ident):
            self._calls.pop(ident, None)
            self.outbox.answer(ident, result, failure)
            return
        call = self._calls.pop(ident, None)
        if call is not None and call.on_reply is not None:
            call.on_reply(result, failure)

    # -- targets --------------------------------------------------------------------------------

    def _attached(self, parent: str, params: Mapping[str, Any]) -> None:
        session = text(params.get("sessionId"))
        info = mapping(params.get("targetInfo"))
        if session is None or session in self._targets:
            return
        kind = text(info.get("type")) or ""
        target = _Target(
            target_id=text(info.get("targetId")) or session,
            type=kind,
            url=text(info.get("url")) or "",
            parent=parent or None,
        )
        self._targets[session] = target
        if kind not in NETWORK_TARGETS:
            # The browser's own UI and the like: let it run and let it go.
            self.call("Runtime.runIfWaitingForDebugger", session, {})
            self.call("Target.detachFromTarget", None, {"sessionId": session})
            target.ended = True
            return
        enabling = self.call(
            "Network.enable", session, self._enable, self._refused(session, "Network.enable")
        )
        self._enabling.add(enabling)
        if kind in DOCUMENT_TARGETS:
            # Page: its frameNavigated tells that the document, and its WebSockets and
            # requests, went; lifecycle events give the browser's time of that.
            refused = self._refused(session, "Page.enable")
            self._enabling.add(self.call("Page.enable", session, {}, refused))
            self.call("Page.setLifecycleEventsEnabled", session, {"enabled": True})
        self.call("Target.setAutoAttach", session, _AUTO_ATTACH)
        self.call("Runtime.runIfWaitingForDebugger", session, {})
        if kind == "page" and self._open_url is not None:
            url, self._open_url = self._open_url, None
            self.call("Page.navigate", session, {"url": url}, self._navigated(session, url))

    def _attached_all(self, result: Mapping[str, Any] | None, error: str | None) -> None:
        self._attach_answered = True
        if error is not None:
            self.outbox.put(
                self._now,
                ErrorRecord(
                    ts=round(self._now, 6),
                    layer=LAYER,
                    rule="cdp.command.failed",
                    reason=f"the browser refused to attach to its tabs: {error}",
                ),
            )
        elif self._open_url is not None:
            # No tab to open the page in: make one (it attaches, then navigates).
            self.call("Target.createTarget", None, {"url": "about:blank"})

    def _refused(
        self, session: str, method: str
    ) -> Callable[[Mapping[str, Any] | None, str | None], None]:
        def on_reply(result: Mapping[str, Any] | None, error: str | None) -> None:
            target = self._targets.get(session)
            if error is None or target is None or target.ended:
                return
            reason = f"{method} failed in {target.type} {target.url}: {error}"
            self.outbox.put(self._now, self._target_record(session, "cdp.command.failed", reason))

        return on_reply

    def _navigated(
        self, session: str, url: str
    ) -> Callable[[Mapping[str, Any] | None, str | None], None]:
        def on_reply(result: Mapping[str, Any] | None, error: str | None) -> None:
            problem = error or text(mapping(result).get("errorText"))
            self.opened = not problem
            if problem:
                reason = f"could not open {url}: {problem}"
                self.open_failure = reason
                failed = self._target_record(session, "cdp.navigate.failed", reason)
                self.outbox.put(self._now, failed)

        return on_reply

    def _frame_navigated(self, session: str, params: Mapping[str, Any], now: float) -> None:
        """A frame of ``session`` committed a new document. When it is the target's own
        frame (a page's main frame), the old document is gone, and with it every WebSocket
        and request of the target but the new document's: see the network module."""
        target = self._targets.get(session)
        if target is None or target.ended:
            return
        frame = mapping(params.get("frame"))
        frame_id = text(frame.get("id")) or ""
        if frame_id != target.target_id and text(frame.get("parentId")):
            return  # a frame inside the page: its WebSockets cannot be told from the page's
        loader = text(frame.get("loaderId")) or ""
        target.url = text(frame.get("url")) or target.url
        commit = target.commit
        stamp = commit[2] if commit is not None and commit[:2] == (frame_id, loader) else None
        ts = self.network.clock.epoch(stamp, now)
        reason = gone(target.type, "navigated")
        self.network.end_document(session, reason, ts, now, keep_loader=loader)

    def _end(self, session: str, now: float, *, crashed: bool) -> None:
        target = self._targets.get(session)
        if target is None:
            return
        if target.ended:
            self._targets.pop(session, None)
            return
        target.ended = True
        if not crashed:
            self._targets.pop(session, None)
        self.outbox.abandon(f"the {target.type or 'target'} went away first", owner=session)
        closed = not crashed and target.detach_reason in ("", "target_closed")
        if closed or crashed:
            # Closed or crashed, its documents are gone, and their WebSockets and requests
            # with them (a target detached by someone else lives on: those are only cut off).
            ts = self.network.clock.epoch(None, now)
            reason = gone(target.type, "crashed" if crashed else "closed")
            self.network.end_document(session, reason, ts, now)
        cut = self.network.end_session(session)
        if not cut.traffic:
            return
        lost = cut.describe()
        if crashed:
            rule, what = "cdp.target.crashed", "crashed"
        elif closed:
            rule, what = "cdp.target.closed", "closed"
        else:
            rule, what = "cdp.target.detached", f"detached ({target.detach_reason})"
        reason = f"{target.type} {target.url or target.target_id} {what}"
        reason += f"; {lost} cut off" if lost else ""
        self.outbox.put(self._now, self._target_record(session, rule, reason, now=now))

    def _target_record(
        self, session: str, rule: str, reason: str, now: float | None = None
    ) -> ErrorRecord:
        return ErrorRecord(
            ts=round(self._now if now is None else now, 6),
            connection=self.prefix(session),
            layer=LAYER,
            rule=rule,
            reason=reason,
        )

    # -- output ---------------------------------------------------------------------------------

    def _ready(self, now: float) -> list[Record]:
        half = self.budget // 2
        try:
            reason = f"more than {half} bytes were waiting behind it (source option pending_bytes)"
            while self.outbox.size > half and self.outbox.give_up_oldest(reason):
                pass
            while self.network.size > half and self.network.evict_oldest(now, self.budget):
                pass
        except Exception as exc:
            self.outbox.put(now, _internal(now, exc))
        # Past its half of the budget, the outbox lets records go without waiting for the
        # ones that may still come late.
        return self.outbox.ready(now, flush=self.outbox.size > half)


def translate(
    messages: Iterable[object],
    *,
    wanted: Callable[[Record], bool] | None = None,
    start: float = 0.0,
    step: float = 0.001,
    **options: Any,
) -> list[Record]:
    """The records a :class:`CdpMachine` makes of ``messages`` (events and replies, as the
    browser sent them), as a pure function: message *i* arrives at ``start + i * step``,
    nothing is held back for time (``window`` 0), and the end closes the machine.

    Replies are matched by id, and the machine numbers its commands from 1 in the order it
    sends them, so a recorded conversation replays to the same records.
    """
    machine = CdpMachine(wanted=wanted, window=0.0, **options)
    now = start
    machine.start(now)
    out: list[Record] = []
    for message in messages:
        out.extend(machine.receive(message, now))
        machine.outgoing()
        now += step
    out.extend(machine.close(now))
    return out


_AUTO_ATTACH = {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True}


def _invalid(now: float, reason: str) -> ErrorRecord:
    return ErrorRecord(ts=round(now, 6), layer=LAYER, rule="cdp.message.invalid", reason=reason)


def _internal(now: float, exc: Exception) -> ErrorRecord:
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    location = f" at {where.filename}:{where.lineno}" if where else ""
    return ErrorRecord(
        ts=round(now, 6),
        layer=LAYER,
        rule="cdp.internal",
        reason=f"the DevTools translator failed: {type(exc).__name__}: {exc}{location}",
        plugin="ioproto_browser",
    )
