"""Source ``har``: HTTP Archive (HAR 1.2) files that browsers export.

The source delivers what a HAR file has: HTTP messages and WebSocket messages, as chunks
of the ``chunk`` layer (:mod:`ioproto_http.records`); it knows nothing of Engine.IO. What is
read, per entry that some decoder riding on chunks wants (``SourceContext.wanted``: the
Engine.IO layer wants the requests of Engine.IO; source option ``all=true`` takes every
entry):

* the request body (``request.postData.text``) → ``http-request`` chunk (``c2s``, also
  when empty), at ``startedDateTime``;
* the response body (``response.content.text``, base64 when ``content.encoding`` is
  ``base64``) → ``http-response`` chunk (``s2c``) at ``startedDateTime`` plus the entry's
  timings (``blocked``/``dns``/``connect``/``send``/``wait``/``receive``, -1 = not
  applicable). An entry without a response (status 0: still pending when exported) gives
  no response chunk;
* Chrome's ``_webSocketMessages`` on the upgrade entry (``type`` send/receive, ``time`` in
  epoch seconds, ``opcode`` 1 text / 2 binary with base64 ``data`` / 8, 9, 10 control) →
  ``ws-text``/``ws-binary``/``ws-control`` chunks carrying the upgrade request's HttpInfo
  with its answer (status 101, response headers), as the http layer gives them (the upgrade
  request itself gives no chunk, as with the pcap source).

Firefox (checked against its exporter's behaviour as far as known, a documented best guess):
it writes the polling requests as ordinary entries and the WebSocket upgrade as an entry with
status 101, but no frames. Such an entry yields an ``ErrorRecord`` with rule
``har.websocket.no-messages`` so the gap is visible. A Firefox-style file that does carry
``_webSocketMessages`` (some extensions add them) is read like Chrome's.

Absurd values (any field may hold any JSON): a number that is not finite or does not fit
(``"status": 1e400``, ``"opcode": 1e400``, an integer of thousands of digits), a time
outside years 1-9999, a field of the wrong type cost only what they spoil, with an error
record: a bad ``opcode`` or ``status`` drops that frame or that response
(``har.websocket.bad-frame``, ``har.entry.bad-status``); a frame or response time that is
not usable becomes the entry's start time (``har.time.out-of-range``); anything else wrong
with an entry drops that entry (``har.entry.invalid``). A WebSocket message or a request or
response body larger than ``limits.max_payload`` is dropped, not cut, with an error record
saying it exceeds the limit (``har.websocket.too-large``, ``har.body.too-large``), as the
``http`` layer drops one in a capture; the other frames and the entry's other message are
kept. An entry whose other members (the URL, the headers, the times…) weigh more than
``max_payload`` bytes (at least 1 MiB: :func:`head_limit`) is dropped with one error record
naming the member where it went over (``har.entry.too-large``), a message whose members
besides its ``data`` do is that frame's ``har.websocket.too-large``; the members no decoder
reads (``_initiator``, ``cookies``…) are not kept at all. A number of more than 65,536
characters (``"time": 1111…`` of millions of digits) is read past, not parsed
(:mod:`.number`): in a member the source reads, its entry is one ``har.entry.invalid`` naming
the member (in a message's members, that frame is a ``har.websocket.bad-frame``); in one no
decoder reads, it is moved past with the rest of that member. A file that is no HAR at all
(empty, not JSON, JSON of another shape) gives one ``har.file.invalid`` record and an
unreadable :class:`~ioproto.model.InputSummary` whose reason says in words what is wrong
(``it has no "log" object``, ``its "log.entries" is null, not a list``). JSON that goes
wrong after some entries (a cut file) costs only what follows: the entries before give their
records, then a ``har.file.invalid`` record naming the last entry read and where the JSON
fails. The source never raises on file content.

The file is read one entry at a time (:mod:`.stream`), a long entry one WebSocket message at
a time with its texts over ``max_payload`` read past (:mod:`.entry`: such a text is counted,
not decoded, so one that is not valid base64 is said too large too), an entry's records held
in a :class:`~.spool.Spool` until it is read through, and the records are put in time order
within a memory budget (:mod:`.ordering`), so memory stays flat whatever the file's size and
whatever one entry's.

The connection is ``har:<connection id or entry number>-<server ip>:<port>``; request
headers (User-Agent included) are kept in the HttpInfo. Chunks come out sorted by time.
Sessions, revisions and transports are for the Engine.IO layer to work out from the URLs and
the handshakes, as for a capture."""

from __future__ import annotations

import base64
import binascii
import itertools
import math
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ioproto_http.framing import MAX_HEAD
from ioproto_http.records import CHUNK_TYPES, Chunk, ChunkKind, HttpInfo, control_type

from ioproto.components import SourceContext, flag_option
from ioproto.errors import UsageError
from ioproto.model import Direction, ErrorRecord, InputSummary, Record
from ioproto.timestamps import usable

from .entry import NumberTooLong, TooLarge
from .longtext import Oversized
from .number import LONGEST
from .ordering import TimeOrder
from .spool import Spool
from .stream import NotAHar, json_kind, read_entries

_TIMINGS = ("blocked", "dns", "connect", "send", "wait", "receive")
_WS_KINDS = {1: ChunkKind.WS_TEXT, 2: ChunkKind.WS_BINARY}


#: Integers longer than this are read as infinities (Python refuses to convert integers of
#: more than 4300 digits to and from text; no HAR field needs more than a few).
_MAX_INT_DIGITS = 100


def head_limit(max_payload: int) -> int:
    """The bytes an entry's head may weigh (what it keeps besides its bodies and WebSocket
    messages: ``ioproto_har.entry``): ``max_payload``, but never under 16 times the HTTP
    layer's request head (1 MiB), so that a small ``max_payload`` does not drop the entries."""
    return max(max_payload, 16 * MAX_HEAD)


def _parse_int(text: str) -> int | float:
    if len(text) > _MAX_INT_DIGITS:
        return float("-inf") if text.startswith("-") else float("inf")
    return int(text)


def _number(value: Any) -> float | None:
    """``value`` as a finite float (from a JSON number or numeric text), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if len(value) > _MAX_INT_DIGITS:
            return None
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int):
        value = float(value)  # _parse_int keeps integers small enough for this
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def _integer(value: Any) -> int | None:
    """``value`` as an int when it is a whole number that fits 32 bits, else ``None``."""
    number = _number(value)
    if number is None or not number.is_integer() or abs(number) >= 2**31:
        return None
    return int(number)


class HarSource:
    """Source ``har``: see the module docstring."""

    name = "har"
    description = "HAR files exported by browsers (Chrome incl. WebSocket messages, Firefox)"
    options = {"all": "true: also the entries that are not Engine.IO"}
    types = CHUNK_TYPES

    def probe(self, input: str) -> float:
        path = Path(input)
        if input == "-" or not path.is_file():
            return -1.0
        if path.suffix.lower() == ".har":
            return 5.0
        try:
            with path.open("rb") as handle:
                head = handle.read(2048)
        except OSError:
            return -1.0
        if head.lstrip().startswith(b"{") and b'"log"' in head:
            return 0.5
        return -1.0

    def check_options(self, options: Mapping[str, Any]) -> None:
        """Raise :class:`~ioproto.errors.UsageError` for an option value not taken."""
        flag_option(options, "all")

    def open(self, input: str, context: SourceContext) -> Iterator[Chunk | Record]:
        take_all = flag_option(context.options, "all")
        now = time.time()
        items = TimeOrder()
        with items:
            count = 0
            last: float | None = None  # the latest time of a record
            try:
                limit = context.limits.max_payload
                entries = read_entries(input, _parse_int, limit, head_limit(limit))
                for index, entry in enumerate(entries):
                    count = index + 1
                    for ts, record in _records_of(entry, index, input, now, take_all, context):
                        items.add(ts, record)
                        last = ts if last is None else max(last, ts)
            except FileNotFoundError:
                raise UsageError(f"no such file: {input}") from None
            except Exception as exc:  # any content: whatever was not foreseen is still said
                why = str(exc) if isinstance(exc, NotAHar) else f"{type(exc).__name__}: {exc}"
                if not count:
                    yield from _unreadable(now, input, why)
                    return
                # The entries before the fault are given; the error comes after their records.
                reason = (
                    f"{input} is not a readable HAR after its entry {count - 1}: {why}; "
                    f"the {count} entries before are read"
                )
                ts = now if last is None else last
                items.add(ts, _error(ts, input, "har.file.invalid", reason[:1000]))
            if not items:
                yield _nothing(input, count, take_all)
                return
            seq = 0
            for record in items:
                if isinstance(record, Chunk):
                    seq += 1
                    record = _with_seq(record, seq)
                yield record
            # the input's end, for the layers that judge what it leaves open (a session
            # silent past its server's wait: docs/formats.md) before the next input's records
            end = now if last is None else last
            yield InputSummary(ts=end, input=input, counts={"entries": count})


def _records_of(
    entry: Any, index: int, input: str, now: float, take_all: bool, context: SourceContext
) -> Iterator[tuple[float, Chunk | Record]]:
    """The records of entry number ``index`` with their times; an entry that is no object,
    or that cannot be read, gives one ``har.entry.invalid`` record instead."""
    if isinstance(entry, TooLarge):
        ts = _started({"startedDateTime": entry.started}) or 0.0
        reason = (
            f"entry {index} is dropped: what it holds besides its bodies and WebSocket "
            f"messages (the URL, the headers, …) goes over the limit of {entry.limit} bytes "
            f"at {entry.where or 'its start'}"
        )
        yield ts, _error(ts, input, "har.entry.too-large", reason[:1000])
        return
    if isinstance(entry, NumberTooLong):
        ts = _started({"startedDateTime": entry.started}) or 0.0
        reason = f"entry {index} could not be read: {_too_long(entry)}"
        yield ts, _error(ts, input, "har.entry.invalid", reason[:1000])
        return
    if not isinstance(entry, Mapping):
        yield 0.0, _error(now, input, "har.entry.invalid", f"entry {index} is not an object")
        return
    # Held until the entry is read through (a long WebSocket session's records spooled):
    # an entry that fails gives its error instead of them.
    with Spool() as records:
        try:
            for ts, record in _entry_records(entry, index, take_all, context):
                records.append((ts, record), _weight(record))
        except Exception as exc:  # one bad entry costs only itself
            records.close()
            ts = _started(entry) or 0.0
            reason = f"entry {index} could not be read: {type(exc).__name__}: {exc}"
            records.append((ts, _error(ts, input, "har.entry.invalid", reason[:1000])), 0)
        yield from records


def _too_long(dropped: NumberTooLong) -> str:
    """Where the number too long to read is, and its length, for an error's reason."""
    where = dropped.where or "it"
    return (
        f"{where} holds a number of {dropped.size} characters, longer than any the source reads "
        f"({LONGEST})"
    )


def _weight(record: Chunk | Record) -> int:
    """About what ``record`` holds in memory: its bytes and its objects."""
    return 512 + len(getattr(record, "data", b"") or b"") + len(getattr(record, "raw", b"") or b"")


def _unreadable(ts: float, input: str, why: str) -> Iterator[Record]:
    """The error record of a file that is no HAR, and the summary that says so."""
    reason = f"{input} is not a readable HAR: {why}"[:1000]
    yield _error(ts, input, "har.file.invalid", reason)
    said = f"not a readable HAR: {why}"[:1000]
    yield InputSummary(ts=ts, input=input, empty_reason=said, unreadable=said)


def _nothing(input: str, entries: int, take_all: bool) -> InputSummary:
    """The summary of a HAR that gave no records: why."""
    if not entries:
        reason = "the HAR holds no entries"
    elif take_all:
        reason = f"none of the HAR's {entries} entries could be read"
    else:
        reason = (
            f"no Engine.IO traffic among the HAR's {entries} entries: none has EIO= in its "
            "query or /socket.io/ or /engine.io/ in its path (--source-option all=true reads "
            "every entry)"
        )
    counts = {"entries": entries}
    return InputSummary(ts=time.time(), input=input, counts=counts, empty_reason=reason)


def _entry_records(
    entry: Mapping[str, Any], index: int, take_all: bool, context: SourceContext
) -> Iterator[tuple[float, Chunk | Record]]:
    request = entry["request"]
    response = entry.get("response") or {}
    url = urlsplit(_text(request["url"], "request.url"))
    query = tuple(parse_qsl(url.query, keep_blank_values=True))
    headers = _headers(request.get("headers"))
    target = url.path + (f"?{url.query}" if url.query else "")
    started = _started(entry)
    info = HttpInfo(
        method=_text(request.get("method", "GET"), "request.method"),
        target=target,
        path=url.path,
        query=query,
        headers=headers,
        request_headers=headers,
        request_ts=started,
    )
    messages = entry.get("_webSocketMessages")
    status = _integer(response.get("status") or 0)
    bad_status = status is None or not 0 <= status <= 999
    is_ws = messages is not None or status == 101 or entry.get("_resourceType") == "websocket"
    probe = Chunk(
        ts=0.0, kind=ChunkKind.WS_TEXT if is_ws else ChunkKind.HTTP_REQUEST, data=b"", http=info
    )
    if not take_all and context.wanted is not None and not context.wanted(probe):
        return
    if started is None:
        raise ValueError("startedDateTime is missing or not ISO 8601")
    connection = _connection(entry, index, url.scheme, url.port, url.hostname)
    limit = context.limits.max_payload
    if bad_status:
        reason = f"response status {_shown(response.get('status'))} is not an HTTP status"
        yield started, _entry_error(started, connection, "har.entry.bad-status", reason)
        status = None

    if is_ws:
        frames = (m for m in messages or () if isinstance(m, Mapping | TooLarge | NumberTooLong))
        first = next(frames, None)
        # Messages carry the upgrade request and, when the HAR has it, its answer (as the
        # http layer gives them for a capture).
        ws_info = _answered(info, response, status) if status else info
        # What the entry's errors came from: the upgrade request (its body is empty), so that
        # the layers above can tell the session by its URL.
        upgrade = Chunk(
            ts=started,
            connection=connection,
            direction="c2s",
            kind=ChunkKind.HTTP_REQUEST,
            data=b"",
            http=info,
        )
        if first is None:
            yield (
                started,
                _ws_error(
                    started,
                    upgrade,
                    "har.websocket.no-messages",
                    "this HAR has the WebSocket upgrade but no frames (Firefox does not "
                    "export them; Chrome does, as _webSocketMessages)",
                ),
            )
        taken = () if first is None else (first,)
        for number, frame in enumerate(itertools.chain(taken, frames)):
            if isinstance(frame, TooLarge):
                reason = (
                    f"frame {number} is dropped: its members besides its data go over the "
                    f"limit of {frame.limit} bytes at {frame.where or 'its start'}"
                )
                yield (
                    started,
                    _ws_error(started, upgrade, "har.websocket.too-large", reason, index=number),
                )
                continue
            if isinstance(frame, NumberTooLong):
                reason = f"frame {number} is dropped: {_too_long(frame)}"
                yield (
                    started,
                    _ws_error(started, upgrade, "har.websocket.bad-frame", reason, index=number),
                )
                continue
            direction: Direction = "c2s" if frame.get("type") == "send" else "s2c"
            opcode = _integer(frame.get("opcode", 1))

            def frame_error(
                rule: str, reason: str, direction: Direction = direction, number: int = number
            ) -> tuple[float, ErrorRecord]:
                record = _ws_error(
                    started, upgrade, rule, reason, direction=direction, index=number
                )
                return started, record

            if opcode is None:
                # One bad frame must not cost the entry's other frames.
                reason = f"frame {number} has a bad opcode: {_shown(frame.get('opcode'))}"
                yield frame_error("har.websocket.bad-frame", reason)
                continue
            given = frame.get("time")
            ts = _number(given) if given else started
            if ts is None or not usable(ts):
                reason = (
                    f"frame {number} has the time {_shown(given)}: the entry's start time is "
                    "used instead"
                )
                yield frame_error("har.time.out-of-range", reason)
                ts = started
            kind = _WS_KINDS.get(opcode, ChunkKind.WS_CONTROL)
            given_data = frame.get("data", "")
            data: bytes | Oversized = given_data  # (read past in the file: over the limit)
            if not isinstance(given_data, Oversized):
                raw = _text(given_data, f"frame {number}'s data")
                try:
                    data = base64.b64decode(raw, validate=True) if opcode == 2 else raw.encode()
                except (binascii.Error, ValueError):
                    yield (
                        ts,
                        _ws_error(
                            ts,
                            upgrade,
                            "har.websocket.bad-base64",
                            f"binary frame {number} is not valid base64",
                            direction=direction,
                            index=number,
                            raw=raw.encode()[: context.limits.max_raw_kept],
                        ),
                    )
                    continue
            too_large = _over_limit("message", data, opcode == 2, limit)
            if too_large is not None or isinstance(data, Oversized):
                yield (
                    ts,
                    _ws_error(
                        ts,
                        upgrade,
                        "har.websocket.too-large",
                        f"frame {number}: {too_large}",
                        direction=direction,
                        index=number,
                    ),
                )
                continue
            yield (
                ts,
                _chunk(
                    ts, direction, kind, data, connection=connection, http=ws_info, opcode=opcode
                ),
            )
        return

    body, body_base64 = _request_body(request)
    content = response.get("content") or {}
    answer = None
    if status:
        answer = _response_body(content)
    request_chunk = _chunk(
        started, "c2s", ChunkKind.HTTP_REQUEST, _bytes(body), connection=connection, http=info
    )
    yield started, _within(request_chunk, body, body_base64, limit, "request body")
    if answer is None:
        return
    answer_body, answer_base64 = answer
    finished = started + _elapsed(entry)
    if not usable(finished):
        reason = "the entry's timings put its response outside years 1-9999: start time used"
        yield started, _entry_error(started, connection, "har.time.out-of-range", reason)
        finished = started
    reply = _answered(info, response, status)
    response_chunk = _chunk(
        finished,
        "s2c",
        ChunkKind.HTTP_RESPONSE,
        _bytes(answer_body),
        connection=connection,
        http=reply,
    )
    yield finished, _within(response_chunk, answer_body, answer_base64, limit, "response body")


def _answered(info: HttpInfo, response: Mapping[str, Any], status: int | None) -> HttpInfo:
    """The request's ``info`` with the entry's answer: status, reason, response headers."""
    return HttpInfo(
        method=info.method,
        target=info.target,
        path=info.path,
        query=info.query,
        status=status,
        reason=_text(response.get("statusText") or "", "response.statusText") or None,
        headers=_headers(response.get("headers")),
        request_headers=info.headers,
        request_ts=info.request_ts,
    )


def _chunk(
    ts: float,
    direction: Direction,
    kind: ChunkKind,
    data: bytes,
    *,
    connection: str,
    http: HttpInfo,
    opcode: int | None = None,
) -> Chunk:
    """A chunk; a WebSocket control frame's (``opcode``) says in its type which it is."""
    return Chunk(
        ts=ts,
        connection=connection,
        direction=direction,
        kind=kind,
        data=data,
        http=http,
        type=control_type(opcode)
        if kind is ChunkKind.WS_CONTROL and opcode is not None
        else str(kind),
    )


def _too_large(what: str, size: int, limit: int) -> str:
    """The reason for a ``what`` of ``size`` bytes over the ``limit`` (``max_payload``)."""
    return f"{what} of {size} bytes exceeds the limit of {limit} bytes: dropped"


def _over_limit(what: str, body: bytes | Oversized, base64: bool, limit: int) -> str | None:
    """Why ``body`` (its bytes, or its sizes when it was read past in the file) is dropped
    for the ``limit``; ``None`` when it fits."""
    if not isinstance(body, Oversized):
        return _too_large(what, len(body), limit) if len(body) > limit else None
    size = body.of(base64)
    if size <= limit:  # a base64 text mostly of other characters (see ioproto_har.longtext)
        return (
            f"{what} of {size} bytes in a base64 text of {body.size} bytes, over twice the "
            f"limit of {limit} bytes: dropped"
        )
    return _too_large(what, size, limit)


def _bytes(body: bytes | Oversized) -> bytes:
    return b"" if isinstance(body, Oversized) else body


def _within(
    chunk: Chunk, body: bytes | Oversized, base64: bool, limit: int, what: str
) -> Chunk | ErrorRecord:
    """``chunk`` when its ``body`` fits ``limit``; else a ``har.body.too-large`` error whose
    parent is the chunk without its body (so the layers above can tell its session)."""
    reason = _over_limit(what, body, base64, limit)
    if reason is None:
        return chunk
    import attrs

    return ErrorRecord(
        ts=chunk.ts,
        connection=chunk.connection,
        direction=chunk.direction,
        parent=attrs.evolve(chunk, data=b""),
        layer="har",
        rule="har.body.too-large",
        reason=reason,
    )


def _with_seq(chunk: Chunk, seq: int) -> Chunk:
    import attrs

    return attrs.evolve(chunk, seq=seq)


def _started(entry: Mapping[str, Any]) -> float | None:
    text = entry.get("startedDateTime")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _elapsed(entry: Mapping[str, Any]) -> float:
    """Milliseconds of the entry's timings (or ``time``) in seconds; may be infinite."""
    timings = entry.get("timings")
    if not isinstance(timings, Mapping):
        timings = {}
    total = 0.0
    for name in _TIMINGS:
        value = timings.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            total += float(value)
    if total <= 0 and isinstance(entry.get("time"), int | float):
        total = float(entry["time"])
    return total / 1000.0


def _text(value: Any, member: str) -> str:
    """The text of ``member``, which holds a string: a number or a literal as it reads; a
    list or an object is a ``ValueError`` (its entry is ``har.entry.invalid``) whatever its
    depth, where ``str()`` of one nested deep failed or not with the recursion limit."""
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        raise ValueError(f"{member} is {json_kind(value)}, not a string")
    return str(value)


def _shown(value: Any) -> str:
    """A short repr of a value from the file, for an error reason (a list or an object
    by its kind: a repr of one nested deep would fail)."""
    if isinstance(value, list | dict):
        return json_kind(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _headers(items: Any) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in items or ():
        if isinstance(item, Mapping) and "name" in item:
            name = _text(item["name"], "a header's name").lower()
            if name.startswith(":"):  # HTTP/2 pseudo-headers (Chrome lists them)
                continue
            pairs.append((name, _text(item.get("value", ""), f"header {name}'s value")))
    return tuple(pairs)


def _request_body(request: Mapping[str, Any]) -> tuple[bytes | Oversized, bool]:
    """The request's body (its sizes, when its text was read past) and whether its text
    is base64."""
    post = request.get("postData") or {}
    return _body(
        post.get("text"), post.get("encoding") == "base64" or post.get("_encoding") == "base64"
    )


def _response_body(content: Mapping[str, Any]) -> tuple[bytes | Oversized, bool]:
    """The response's body, as :func:`_request_body` gives the request's."""
    return _body(content.get("text"), content.get("encoding") == "base64")


def _body(text: Any, base64_text: bool) -> tuple[bytes | Oversized, bool]:
    if isinstance(text, Oversized):
        return text, base64_text
    if not isinstance(text, str):
        return b"", base64_text
    return (base64.b64decode(text) if base64_text else text.encode("utf-8")), base64_text


def _connection(
    entry: Mapping[str, Any], index: int, scheme: str, port: int | None, host: str | None
) -> str:
    client = f"har:{_text(entry.get('connection') or f'entry{index}', 'connection')}"
    server = _text(entry.get("serverIPAddress") or host or "unknown", "serverIPAddress")
    server = server.strip("[]")
    if port is None:
        port = 443 if scheme in ("https", "wss") else 80
    return f"{client}-{server}:{port}"


def _ws_error(
    ts: float,
    upgrade: Chunk,
    rule: str,
    reason: str,
    *,
    direction: Direction | None = None,
    index: int | None = None,
    raw: bytes = b"",
) -> ErrorRecord:
    """An error about a WebSocket entry (or one of its frames), whose ``upgrade`` request
    becomes the error's parent."""
    return ErrorRecord(
        ts=ts,
        connection=upgrade.connection,
        direction=direction,
        parent=upgrade,
        layer="har",
        rule=rule,
        reason=reason,
        index=index,
        raw=raw,
    )


def _error(ts: float, input: str, rule: str, reason: str) -> ErrorRecord:
    return ErrorRecord(ts=ts, connection=input, layer="har", rule=rule, reason=reason)


def _entry_error(ts: float, connection: str, rule: str, reason: str) -> ErrorRecord:
    """An error about one entry of the file."""
    return ErrorRecord(ts=ts, connection=connection, layer="har", rule=rule, reason=reason)
