"""Record the DevTools conversations the translator tests replay: `python make_fixtures.py`.

Runs the full test page (peers/page) in headless Chromium against socket.io 4.8.1 and
socket.io 2.5.1 servers with the ``cdp`` source's ``record=`` option, and writes every
message the browser sent to data/<kind>.cdp.jsonl (one JSON object per line). Asset
requests stay in (the translator must skip them); events the translator does not read
(``*ExtraInfo``, ``policyUpdated``, the ``Page`` domain's but ``frameNavigated`` and the
``init`` lifecycle event) and initiator stacks are left out to keep the files small;
neither changes which commands the translator sends, so replies still match by id.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "live"), str(HERE.parent)]

from browserhelp import Capture, chromium, start_server, wait_title  # noqa: E402


def record(kind: str, out: Path) -> str:
    server = start_server(kind)
    try:
        with tempfile.TemporaryDirectory() as tmp, chromium(Path(tmp)) as (context, endpoint):
            capture = Capture(endpoint, record=str(out))
            capture.wait_ready()
            page = context.new_page()
            page.goto(server.url + "/")
            title = wait_title(page)
            page.wait_for_timeout(300)
            page.close()
            context.close()
            capture.finish()
    finally:
        server.stop()
    return title


UNREAD = {
    "Network.requestWillBeSentExtraInfo",
    "Network.responseReceivedExtraInfo",
    "Network.policyUpdated",
}


def unread(message: dict[str, Any]) -> bool:
    method = message.get("method") or ""
    if method == "Page.lifecycleEvent":
        return bool(message.get("params", {}).get("name") != "init")
    return method in UNREAD or (method.startswith("Page.") and method != "Page.frameNavigated")


def trim(path: Path) -> None:
    kept = []
    for line in path.read_text().splitlines():
        message = json.loads(line)
        if unread(message):
            continue
        message.get("params", {}).pop("initiator", None)
        kept.append(json.dumps(message, separators=(",", ":")))
    path.write_text("\n".join(kept) + "\n")


def main() -> int:
    for kind in sys.argv[1:] or ["node4", "node2"]:
        out = HERE / "data" / f"{kind}.cdp.jsonl"
        title = record(kind, out)
        trim(out)
        print(kind, title, out.stat().st_size, "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
