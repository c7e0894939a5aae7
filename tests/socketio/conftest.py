"""Fixtures for the Socket.IO decoder tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from siohelp import NodeOracle


@pytest.fixture
def oracle() -> Iterator[NodeOracle]:
    """A node process running socket.io-parser 4.2.7 / 3.4.5 (one per test)."""
    node = NodeOracle()
    try:
        yield node
    finally:
        node.close()
