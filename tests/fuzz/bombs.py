"""Resource bombs: small inputs that ask a decoder for a lot of memory or time.

Each builder writes one file and returns its path. They are the inputs of the memory
regression tests (``tests/fuzz/test_bombs.py``), of ``make fuzz``'s bomb report and of the
figures in docs/robustness.md:

* :func:`ack_bomb` - acked EVENTs of 15 MiB each (permessage-deflate: a 1.5 MB capture for
  100 of them) that are never answered (issue 11, item 7);
* :func:`malformed_bomb` - the same size of messages, each one failing to parse (item 11);
* :func:`deep_json_lines` - an EVENT nested thousands deep (item 12);
* :func:`long_line` - one line of hundreds of megabytes for the ``lines`` source (item 13);
* :func:`inflate_bomb` - permessage-deflate messages inflating to hundreds of megabytes
  between good events (their shared compression context must stay in step).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
for _path in (HERE.parent / "pcap", HERE.parents[1] / "plugins"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from pcapbuild import (  # noqa: E402
    Deflater,
    Flow,
    http_request,
    http_response,
    render,
    write_pcap,
    ws_frame,
)

MIB = 1024 * 1024
SID = "bombbombbombbombbomb"
MASK = b"\x11\x22\x33\x44"
OPEN = (
    b'0{"sid":"' + SID.encode() + b'","upgrades":[],"pingInterval":25000,'
    b'"pingTimeout":20000,"maxPayload":100000000}'
)


def _websocket(
    flow: Flow, messages: Iterable[bytes], *, client_port: int = 51000, deflate: bool = True
) -> None:
    """A WebSocket-only Engine.IO session on ``flow`` whose client sends ``messages``."""
    target = f"/socket.io/?EIO=4&transport=websocket&p={client_port}"
    headers = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ]
    reply = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
    ]
    if deflate:
        headers.append(("Sec-WebSocket-Extensions", "permessage-deflate"))
        reply.append(("Sec-WebSocket-Extensions", "permessage-deflate"))
    flow.handshake()
    flow.send(0, http_request("GET", target, headers=headers), 65000)
    flow.send(1, http_response(101, reason="Switching Protocols", length=False, headers=reply))
    flow.send(1, ws_frame(1, OPEN))
    flow.send(0, ws_frame(1, b"40", mask=MASK))
    flow.send(1, ws_frame(1, b'40{"sid":"x"}'))
    deflater = Deflater(takeover=True)
    for message in messages:
        if deflate:
            frame = ws_frame(1, deflater.compress(message), rsv1=True, mask=MASK)
        else:
            frame = ws_frame(1, message, mask=MASK)
        flow.send(0, frame, 65000)


def _write(path: Path, flow: Flow) -> Path:
    write_pcap(path, render(flow.packets), snaplen=262144)
    return path


def ack_bomb(path: Path, count: int = 100, size: int = 15 * MIB) -> Path:
    """``count`` acked EVENTs of about ``size`` bytes each, never answered."""
    filler = "a" * size
    messages = (f'42{index}["upload","{filler}"]'.encode() for index in range(count))
    flow = Flow()
    _websocket(flow, messages)
    flow.close()
    return _write(path, flow)


#: Ways for a large message to fail, each at a different place of the decoders.
MALFORMATIONS = (
    lambda index, filler: f"49{filler}",  # unknown Socket.IO type (the construct path)
    lambda index, filler: f'42{index}["upload","{filler}',  # JSON cut short
    lambda index, filler: f"9{filler}",  # unknown Engine.IO type
    lambda index, filler: f'451-["upload","{filler}"]',  # attachment that never comes
    lambda index, filler: f'45-["upload","{filler}"]',  # binary packet without a count
    lambda index, filler: f'42{index}{{"upload":"{filler}"}}',  # EVENT that is not an array
)


def malformed_bomb(path: Path, count: int = 100, size: int = 15 * MIB) -> Path:
    """``count`` messages of about ``size`` bytes, each failing to decode somewhere."""
    filler = "a" * size
    messages = (
        MALFORMATIONS[index % len(MALFORMATIONS)](index, filler).encode() for index in range(count)
    )
    flow = Flow()
    _websocket(flow, messages)
    flow.close()
    return _write(path, flow)


def deep_event(depth: int) -> str:
    """An Engine.IO message carrying a Socket.IO EVENT nested ``depth`` arrays deep."""
    return '42["deep",' + "[" * depth + "1" + "]" * depth + "]"


def deep_json_lines(path: Path, depth: int) -> Path:
    """A ``lines`` file with one Engine.IO message carrying :func:`deep_event`."""
    path.write_text(deep_event(depth) + "\n")
    return path


def wide_json_lines(path: Path, size: int = 15 * MIB) -> Path:
    """A ``lines`` file with one EVENT whose argument is ``size`` bytes of ``[[],[],...]``."""
    path.write_text('42["wide",[' + ",".join(["[]"] * (size // 3)) + "]]\n")
    return path


def wide_msgpack_lines(path: Path, size: int = 15 * MIB) -> Path:
    """A ``lines`` file with one socket.io-msgpack-parser EVENT (a binary message) whose
    argument is an array of ``size`` empty arrays (``0x90`` each): 1 GB of lists unpacked."""
    count = size.to_bytes(4, "big")
    packet = b"\x83\xa4type\x02\xa3nsp\xa1/\xa4data\x92\xa4wide\xdd" + count + b"\x90" * size
    path.write_text("hex: " + packet.hex() + "\n")
    return path


def long_line(path: Path, size: int = 200 * MIB) -> Path:
    """A ``lines`` file: a short packet, one line of ``size`` bytes, a short packet."""
    block = b"4" + b"x" * (MIB - 1)
    with path.open("wb") as handle:
        handle.write(b'42["before"]\n')
        for _ in range(size // MIB):
            handle.write(block)
        handle.write(b'\n42["after"]\n')
    return path


def pending_acks_lines(path: Path, acks: int = 1_000_000, sessions: int = 100_000) -> Path:
    """A ``lines`` file: ``acks`` acked EVENTs spread over ``sessions`` sessions, no ACK."""
    per_session = max(1, acks // sessions)
    with path.open("w") as handle:
        for session in range(sessions):
            handle.write(f"#! sid=s{session:07d} direction=c2s\n")
            handle.writelines(f'42{index}["tick",{index}]\n' for index in range(per_session))
    return path


def inflate_bomb(path: Path, sizes: Iterable[int] = (250 * MIB,) * 4 + (1024 * MIB,)) -> Path:
    """A WebSocket-only session (permessage-deflate, context takeover) whose client sends
    an EVENT before and after each of messages of zeros inflating to ``sizes`` bytes (a
    megabyte of compressed bytes per GiB), compressed in pieces: never held whole here."""
    flow = Flow()
    deflater = zlib.compressobj(wbits=-15)

    def compressed(message: bytes) -> bytes:
        return deflater.compress(message) + deflater.flush(zlib.Z_SYNC_FLUSH)[:-4]

    def zeros(size: int) -> bytes:
        block = b"\0" * MIB
        data = [deflater.compress(block) for _ in range(size // MIB)]
        data.append(deflater.compress(b"\0" * (size % MIB)))
        return b"".join(data) + deflater.flush(zlib.Z_SYNC_FLUSH)[:-4]

    _websocket(flow, ())
    for index, size in enumerate(sizes):
        event = f'42["tick",{index}]'.encode()
        flow.send(0, ws_frame(1, compressed(event), rsv1=True, mask=MASK), 65000)
        flow.send(0, ws_frame(1, zeros(size), rsv1=True, mask=MASK), 65000)
    flow.send(0, ws_frame(1, compressed(b'42["last"]'), rsv1=True, mask=MASK), 65000)
    flow.close()
    return _write(path, flow)


def big_har(path: Path, size: int = 300 * MIB, filler: int = 0) -> Path:
    """A HAR file of about ``size`` bytes: the entries of tests/data/har/chromium-socketio.har
    again and again, each copy a session of its own (its sid changed) one second after the
    one before, with a ``filler``-byte image entry (no Engine.IO) per copy."""
    import json
    from datetime import datetime, timedelta

    source = HERE.parents[1] / "tests" / "data" / "har" / "chromium-socketio.har"
    document = json.loads(source.read_text())
    entries = document["log"]["entries"]
    sid = "tw3to3TW8pFd2CmIAA"
    template = json.dumps(entries)
    head = json.dumps({key: value for key, value in document["log"].items() if key != "entries"})
    image = {
        "startedDateTime": entries[0]["startedDateTime"],
        "time": 1.0,
        "request": {"method": "GET", "url": "http://127.0.0.1:39927/big.png", "headers": []},
        "response": {
            "status": 200,
            "headers": [],
            "content": {"mimeType": "image/png", "encoding": "base64", "text": "A" * filler},
        },
        "timings": {"send": 0, "wait": 1, "receive": 0},
    }
    written = 0
    with path.open("w") as handle:
        handle.write('{"log": ' + head[:-1] + ', "entries": [\n')
        copy = 0
        while written < size:
            copied = json.loads(template.replace(sid, f"{copy:018d}"))
            if filler:
                copied.append(dict(image))
            for entry in copied:
                started = datetime.fromisoformat(entry["startedDateTime"].replace("Z", "+00:00"))
                started += timedelta(seconds=copy)
                entry["startedDateTime"] = started.isoformat().replace("+00:00", "Z")
                for message in entry.get("_webSocketMessages") or ():
                    message["time"] += copy
                text = ("" if written == 0 else ",\n") + json.dumps(entry)
                handle.write(text)
                written += len(text)
            copy += 1
        handle.write("\n]}}\n")
    return path


def har_long_body(path: Path, size: int = 100 * MIB) -> Path:
    """A HAR of one Engine.IO polling entry whose response body is a text of 1 + ``size``
    bytes rounded down to 1,002,000 (written in pieces, with escapes ``\\"`` and ``\\\\``
    all along it)."""

    def body(handle: IO[str]) -> None:
        piece = ("x" * 1000 + '\\"\\\\') * 1000  # 1,002,000 characters of text each
        handle.write('"4')
        for _ in range(size // 1_002_000):
            handle.write(piece)
        handle.write('"')

    entry = {
        "request": {"method": "GET", "url": f"{_EIO_URL}polling&sid=big", "headers": []},
        "response": {"status": 200, "headers": [], "content": {"text": "@@"}},
        "startedDateTime": "2024-01-01T00:00:00Z",
        "timings": {"wait": 1},
    }
    return _one_entry_har(path, entry, body)


def har_long_websocket(path: Path, messages: int = 50_000, pad: int = 2000) -> Path:
    """A HAR of one WebSocket entry in Chrome's layout (``_webSocketMessages`` before the
    request that says what it is) with ``messages`` EVENTs of about ``pad`` bytes each."""

    def frames(handle: IO[str]) -> None:
        import json

        handle.write("[")
        opened = '0{"sid":"big","upgrades":[],"pingInterval":25000,"pingTimeout":20000}'
        for data in (opened, '40{"sid":"x"}'):
            frame = {"type": "receive", "time": 1704067200.0, "opcode": 1, "data": data}
            handle.write(json.dumps(frame) + ",\n")
        for n in range(messages):
            data = f'42["tick",{{"n":{n},"pad":"{"p" * pad}"}}]'
            frame = {"type": "receive", "time": 1704067200.0 + n / 1000, "opcode": 1, "data": data}
            handle.write(("," if n else "") + json.dumps(frame) + "\n")
        handle.write("]")

    entry = {
        "_resourceType": "websocket",
        "_webSocketMessages": "@@",
        "request": {
            "method": "GET",
            "url": "ws://127.0.0.1:39927/socket.io/?EIO=4&transport=websocket",
            "headers": [],
        },
        "response": {"status": 101, "headers": []},
        "startedDateTime": "2024-01-01T00:00:00Z",
        "timings": {"wait": 1},
    }
    return _one_entry_har(path, entry, frames)


def har_long_number(path: Path, digits: int = 200 * MIB, where: str = "time") -> Path:
    """A HAR of three Engine.IO polling entries, the middle one's member ``where`` (``time``,
    which the source reads, or ``_initiator``, which no decoder reads) a number of
    ``digits`` digits (written in pieces)."""
    import json

    entries = []
    for second in (1, 2, 3):
        entries.append(
            {
                "request": {"method": "POST", "url": f"{_EIO_URL}polling&sid=n", "headers": []},
                "response": {"status": 200, "headers": [], "content": {"text": "ok"}},
                "startedDateTime": f"2024-01-01T00:00:0{second}Z",
                "timings": {"wait": 1},
            }
        )
        entries[-1]["request"]["postData"] = {"text": f'42["n{second}"]'}  # type: ignore[index]
    entries[1][where] = "@@"
    head, tail = json.dumps({"log": {"version": "1.2", "entries": entries}}).split('"@@"')
    piece = "1234567890" * 100_000
    with path.open("w") as handle:
        handle.write(head + "9")
        for _ in range((digits - 1) // len(piece)):
            handle.write(piece)
        handle.write("9" * ((digits - 1) % len(piece)) + tail)
    return path


def har_log_not_an_object(path: Path, size: int = 200 * MIB, kind: str = "list") -> Path:
    """A file of about ``size`` bytes whose ``log`` is no object: a ``list`` of the entries
    of tests/data/har/chromium-socketio.har again and again, or a ``string``."""
    import json

    with path.open("w") as handle:
        if kind == "string":
            handle.write('{"log": "')
            piece = "x" * MIB
            for _ in range(size // MIB):
                handle.write(piece)
            handle.write('"}\n')
            return path
        source = HERE.parents[1] / "tests" / "data" / "har" / "chromium-socketio.har"
        template = json.dumps(json.loads(source.read_text())["log"]["entries"])[1:-1]
        handle.write('{"log": [')
        for copy in range(max(1, size // len(template))):
            handle.write(("," if copy else "") + template)
        handle.write("]}\n")
    return path


_EIO_URL = "http://127.0.0.1:39927/socket.io/?EIO=4&transport="


def _one_entry_har(path: Path, entry: dict[str, object], write: Callable[[IO[str]], None]) -> Path:
    """A HAR file of one ``entry`` whose ``"@@"`` stands for a value too large to build in
    memory, which ``write`` writes out in pieces; the members in the order of their names,
    as Chrome writes them."""
    import json

    head, tail = json.dumps(entry, sort_keys=True).split('"@@"')
    with path.open("w") as handle:
        handle.write('{"log": {"version": "1.2", "entries": [' + head)
        write(handle)
        handle.write(tail + "]}}\n")
    return path
