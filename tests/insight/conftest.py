"""Fixtures of the insight tests; the helpers live in insighthelp.py (importable by name)."""

from insighthelp import pm

__all__ = ["pm"]
