"""Regenerate examples/chat.pcap and examples/chat.log.jsonl: `python examples/make_chat.py`.

Runs the `chat` scenario of tests/peers/capture.py (real socket.io 4.8.1 server and three
socket.io-client 4.8.1 users on 127.0.0.1, captured with tcpdump on lo) into examples/.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "peers"))
from capture import EXTRA_SCENARIOS, run_scenario  # noqa: E402


def main() -> int:
    """Capture the chat session into examples/; exit status 0 on success."""
    return 0 if run_scenario("chat", EXTRA_SCENARIOS["chat"], HERE) else 1


if __name__ == "__main__":
    sys.exit(main())
