"""Fixtures of the dashboard tests; the helpers live in dashhelp.py (importable by name)."""

from dashhelp import browser, dashboard

__all__ = ["browser", "dashboard"]
