"""A python-socketio 5.x AsyncClient over polling only, for the `polling_gone` scenario.

`python tests/peers/python_polling_client.py --port P --label L --log FILE`: connects
(``transports=["polling"]``), calls ``hello`` and, once its ack came, prints ``READY`` and waits,
its next long poll pending, until it is killed. Its log (:mod:`pylog`) is written as it goes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pylog import JsonLog


async def run(port: int, label: str, log: JsonLog) -> None:
    """Connect, call ``hello``, say ``READY`` and wait to be killed."""
    sio = socketio.AsyncClient(reconnection=False)
    await sio.connect(f"http://127.0.0.1:{port}?client={label}", transports=["polling"])
    log.add("client", label, "connect", transport="polling")
    log.add("client", label, "emit", event="hello", args=["from " + label], transport="polling")
    answer = await sio.call("hello", "from " + label, timeout=5)
    answer_args = list(answer) if isinstance(answer, tuple) else [answer]
    log.add("client", label, "ack-recv", event="hello", args=answer_args, transport="polling")
    print("READY", flush=True)
    await asyncio.sleep(3600)


def main() -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    asyncio.run(run(args.port, args.label, JsonLog(args.log)))


if __name__ == "__main__":
    main()
