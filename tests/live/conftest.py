"""Fixtures and hooks of the live tests; the helpers live in livehelp.py."""

from livehelp import node_server, proxy_command, py_server, pytest_sessionfinish

__all__ = ["node_server", "proxy_command", "py_server", "pytest_sessionfinish"]
