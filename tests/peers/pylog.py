"""Application-level JSON-lines log for the Python peers (same schema as lib/common.js).

Records are appended one by one (the file is reopened per record), so a peer stopped by a
signal keeps its log.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any


def jsonable(value: Any) -> Any:
    """Convert Socket.IO arguments to JSON values; bytes become {"$bytes": base64}."""
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


class JsonLog:
    """Append-only log file; `add` writes one record per call."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)

    def add(
        self,
        side: str,
        client: str,
        action: str,
        *,
        nsp: str = "/",
        event: str | None = None,
        args: list[Any] | tuple[Any, ...] = (),
        ack_id: int | None = None,
        transport: str | None = None,
    ) -> None:
        """Write one record (see tests/peers/README.md for the fields)."""
        rec = {
            "t": time.time(),
            "side": side,
            "client": client,
            "action": action,
            "nsp": nsp,
            "event": event,
            "args": jsonable(list(args)),
            "ack_id": ack_id,
            "transport": transport,
        }
        with self._path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
