"""HTTP/1.x message parsing for a passive observer.

A small parser rather than ``h11``: h11 is an endpoint state machine, so following both sides
of a connection needs two Connection objects fed fake events for the side we only observe
(≈40 µs per request measured), and it refuses bytes after ``Connection: close``, cannot resume
after lost segments or mid-stream, and cannot parse a response whose request was not seen.
Here heads are parsed from a buffer, bodies are framed by :class:`BodyReader`, and
:func:`find_message_start` re-synchronises after a gap.
"""

from __future__ import annotations

import re
import zlib
from urllib.parse import parse_qsl, urlsplit

import brotli

MAX_HEAD = 64 * 1024
MAX_LINE = 8 * 1024

_METHODS = b"GET|POST|PUT|HEAD|OPTIONS|DELETE|PATCH|CONNECT|TRACE"
REQUEST_LINE = re.compile(rb"(?:" + _METHODS + rb") [\x21-\x7e]+ HTTP/1\.[01]\r?\n")
STATUS_LINE = re.compile(rb"HTTP/1\.[01] [1-5][0-9][0-9][ \r\n]")
_PARTIAL_REQUEST_LINE = re.compile(rb"[A-Z]{0,10}(?: [\x21-\x7e]*(?: [\x21-\x7e]*)?)?\r?")
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
#: ASCII digits: str.isdigit() also takes "²", which int() then refuses.
_DIGITS = re.compile(r"[0-9]+")

Headers = tuple[tuple[str, str], ...]


class Head:
    """A parsed request or response head.

    ``headers`` keep order, names in lower case, values decoded as latin-1 and stripped.
    """

    __slots__ = ("headers", "method", "reason", "status", "target", "version")

    def __init__(self) -> None:
        self.method: str | None = None
        self.target: str | None = None
        self.status: int | None = None
        self.reason: str | None = None
        self.version = "HTTP/1.1"
        self.headers: Headers = ()

    def get(self, name: str) -> str | None:
        """The last value of header ``name`` (lower case)."""
        value = None
        for key, item in self.headers:
            if key == name:
                value = item
        return value

    def all(self, name: str) -> list[str]:
        """Every value of header ``name`` (lower case), comma lists split."""
        return [
            part.strip()
            for key, item in self.headers
            if key == name
            for part in item.split(",")
            if part.strip()
        ]


def head_end(buf: bytearray | bytes, start: int = 0) -> tuple[int, int]:
    """(end of the head's last line, start of the body) or (-1, -1) while incomplete."""
    crlf = buf.find(b"\r\n\r\n", start)
    lf = buf.find(b"\n\n", start)
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, lf + 2
    if crlf >= 0:
        return crlf, crlf + 4
    return -1, -1


def parse_head(data: bytes, *, request: bool) -> Head | str:
    """The :class:`Head` of ``data`` (the bytes before the blank line), or why it is invalid."""
    lines = data.split(b"\n")
    start = lines[0].rstrip(b"\r")
    head = Head()
    if request:
        parts = start.split(b" ")
        if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[2].startswith(b"HTTP/"):
            return f"bad request line {start[:80]!r}"
        head.method = parts[0].decode("ascii")
        head.target = parts[1].decode("latin-1")
        head.version = parts[2].decode("latin-1")
    else:
        parts = start.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            return f"bad status line {start[:80]!r}"
        if len(parts[1]) != 3:
            return f"bad status code {parts[1][:10]!r}"
        head.version = parts[0].decode("latin-1")
        head.status = int(parts[1])
        head.reason = parts[2].decode("latin-1").strip() if len(parts) > 2 else ""
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        line = raw.rstrip(b"\r")
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and headers:  # obsolete line folding
            last_name, last_value = headers[-1]
            headers[-1] = (last_name, last_value + " " + line.strip().decode("latin-1"))
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            return f"bad header line {line[:80]!r}"
        headers.append((name.decode("ascii").lower(), value.strip().decode("latin-1")))
    head.headers = tuple(headers)
    return head


def looks_like_request_start(buf: bytearray | bytes) -> bool | None:
    """Whether ``buf`` starts like an HTTP request; ``None`` while too short to tell."""
    if REQUEST_LINE.match(buf):
        return True
    if buf.find(b"\n") >= 0 or len(buf) >= MAX_LINE:
        return False
    return None if _PARTIAL_REQUEST_LINE.fullmatch(buf) else False


def find_message_start(buf: bytearray | bytes, *, request: bool, start: int = 0) -> int:
    """The offset of the next request (or status) line in ``buf``, or -1."""
    pattern = REQUEST_LINE if request else STATUS_LINE
    match = pattern.search(buf, start)
    return match.start() if match is not None else -1


def body_framing(
    head: Head, *, request: bool, request_method: str | None = None
) -> tuple[str, int] | str:
    """How the body of ``head`` is delimited: ``("length", n)``, ``("chunked", 0)``,
    ``("close", 0)``; or why the framing is invalid."""
    if not request:
        status = head.status or 0
        if request_method == "HEAD" or status < 200 or status in (204, 304):
            return "length", 0
        if request_method == "CONNECT" and 200 <= status < 300:
            return "close", 0
    codings = head.all("transfer-encoding")
    if codings:
        if codings[-1].lower() == "chunked":
            return "chunked", 0
        return ("close", 0) if not request else "request with a transfer-encoding but no chunked"
    lengths = head.all("content-length")
    if lengths:
        if len(set(lengths)) != 1 or not _DIGITS.fullmatch(lengths[0]):
            return f"bad content-length {', '.join(lengths)[:40]!r}"
        return "length", int(lengths[0])
    return ("length", 0) if request else ("close", 0)


class BodyReader:
    """Extracts one chunked body incrementally from a stream buffer.

    :meth:`step` consumes what it can from ``buf[pos:]`` and returns the new position; it sets
    ``done`` at the end of the trailers, or ``error`` when the framing is broken.
    """

    __slots__ = ("body", "done", "error", "limit", "remaining", "state")

    def __init__(self, limit: int) -> None:
        self.body = bytearray()
        self.state = 0  # 0 size line, 1 data, 2 CRLF after data, 3 trailers
        self.remaining = 0
        self.done = False
        self.error: str | None = None
        self.limit = limit

    def step(self, buf: bytearray, pos: int) -> int:
        size = len(buf)
        while pos < size:
            if self.state == 1:
                take = min(self.remaining, size - pos)
                self.body += buf[pos : pos + take]
                pos += take
                self.remaining -= take
                if self.remaining:
                    return pos
                self.state = 2
            elif self.state == 2:
                if buf[pos] == 0x0A:
                    pos += 1
                elif buf[pos] == 0x0D:
                    if pos + 1 >= size:
                        return pos
                    if buf[pos + 1] != 0x0A:
                        self.error = "chunk data not followed by CRLF"
                        return pos
                    pos += 2
                else:
                    self.error = "chunk data not followed by CRLF"
                    return pos
                self.state = 0
            else:
                newline = buf.find(b"\n", pos)
                if newline < 0:
                    if size - pos > MAX_LINE:
                        self.error = "chunk size line too long"
                    return pos
                line = bytes(buf[pos:newline]).strip()
                pos = newline + 1
                if self.state == 3:
                    if not line:
                        self.done = True
                        return pos
                    continue
                digits = line.split(b";", 1)[0].strip()
                # Hex digits only (RFC 9112 7.1): int() would also take "0x3", "0_3", "+3".
                if not _HEX.fullmatch(digits):
                    self.error = f"bad chunk size {line[:40]!r}"
                    return pos
                length = int(digits, 16)
                if length == 0:
                    self.state = 3
                elif len(self.body) + length > self.limit:
                    self.error = f"chunked body larger than {self.limit} bytes"
                    return pos
                else:
                    self.remaining = length
                    self.state = 1
        return pos


def decode_content(body: bytes, encodings: list[str], limit: int) -> bytes | str:
    """``body`` with its content codings undone (last applied first), or why it cannot be."""
    for coding in reversed(encodings):
        coding = coding.lower()
        try:
            if coding in ("gzip", "x-gzip"):
                body = _inflate(body, 16 + zlib.MAX_WBITS, limit)
            elif coding == "deflate":
                try:
                    body = _inflate(body, zlib.MAX_WBITS, limit)
                except zlib.error:
                    body = _inflate(body, -zlib.MAX_WBITS, limit)  # raw deflate, as some send
            elif coding == "br":
                decompressor = brotli.Decompressor()
                out = decompressor.process(body, output_buffer_limit=limit + 1)
                if len(out) > limit:
                    return f"br body inflates beyond {limit} bytes"
                if not decompressor.is_finished():
                    return "br body is truncated"
                body = out
            elif coding != "identity":
                return f"unknown content-encoding {coding!r}"
        except (zlib.error, brotli.error) as exc:
            return f"cannot undo content-encoding {coding}: {exc}"
        except _TooLarge:
            return f"{coding} body inflates beyond {limit} bytes"
    return body


class _TooLarge(Exception):
    pass


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    out = decompressor.decompress(body, limit + 1)
    if len(out) > limit:
        raise _TooLarge
    if not decompressor.eof:
        raise zlib.error("compressed body is truncated")
    return out


def split_target(target: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(path, query pairs in order) of a request target (origin or absolute form)."""
    try:
        parts = urlsplit(target)
    except ValueError:
        path, _, query = target.partition("?")
        return path, tuple(parse_qsl(query, keep_blank_values=True))
    return parts.path, tuple(parse_qsl(parts.query, keep_blank_values=True, errors="replace"))
