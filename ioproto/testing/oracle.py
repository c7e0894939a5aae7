"""A reference implementation in another process, asked one JSON line at a time.

Differential tests compare a decoder with the library it reimplements (the npm parsers, for
ours). :class:`OracleProcess` runs such a program, for instance a small Node script that
reads a JSON request per line on stdin and writes one JSON answer per line on stdout::

    oracle = OracleProcess(["node", "oracle.js"], cwd=here)
    answer = oracle.ask({"op": "decode", "hex": data.hex()})
    oracle.close()

An answer holding a ``"fatal"`` key (the program's own failure, not the input's) fails the
test at once.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


class OracleProcess:
    """The program ``argv`` (run in ``cwd``), one JSON request and answer per line.

    Text is UTF-8 with lone surrogates passed through, so strings a JavaScript program may
    produce survive the round trip.
    """

    def __init__(self, argv: list[str], cwd: str | Path | None = None) -> None:
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="surrogatepass",
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send ``request`` and return the program's answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer: dict[str, Any] = json.loads(self.process.stdout.readline())
        assert "fatal" not in answer, answer["fatal"]
        return answer

    def close(self) -> None:
        """End the program (its stdin closes) and wait for it."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=10)
