"""Printing a syntax tree back as expression text that parses to the same tree.

The printed form is canonical: keywords in lower case, strings in double quotes with
escapes, numbers as written (with their unit), every ``and`` inside an ``or`` and every
``not`` operand that is not a single test in parentheses.
"""

from __future__ import annotations

import re

from .nodes import (
    And,
    Compare,
    Contains,
    Exists,
    FieldRef,
    InSet,
    Literal,
    Matches,
    Node,
    Not,
    Or,
    Range,
)

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*")
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]')


def quote(text: str) -> str:
    """``text`` as a double-quoted string token that :func:`~.syntax.unquote` reads back."""

    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        if char in '"\\':
            return "\\" + char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def format_literal(literal: Literal) -> str:
    value = literal.value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return quote(value)
    if literal.text is not None:
        return literal.text + (literal.unit or "")
    return repr(value)


def format_field(ref: FieldRef) -> str:
    """``sio.args[0].room``. A key right after the name is written ``["key"]``: written
    ``.key`` it would read back as part of the name (which means the same, but is another
    tree)."""
    out = [ref.name]
    for position, step in enumerate(ref.path):
        if isinstance(step, int):
            out.append(f"[{step}]")
        elif position and _PLAIN_KEY.fullmatch(step) and step.lower() not in _KEYWORDS:
            out.append("." + step)
        else:
            out.append(f"[{quote(step)}]")
    return "".join(out)


_KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "matches", "true", "false"})


def format_node(node: Node) -> str:
    """The canonical text of ``node``."""
    if isinstance(node, Or):
        return " or ".join(_operand(item, Or) for item in node.operands)
    if isinstance(node, And):
        return " and ".join(_operand(item, And) for item in node.operands)
    if isinstance(node, Not):
        return "not " + _operand(node.operand, Not)
    if isinstance(node, Exists):
        return format_field(node.field)
    if isinstance(node, Compare):
        return f"{format_field(node.field)} {node.op} {format_literal(node.value)}"
    if isinstance(node, InSet):
        items = ", ".join(
            f"{format_literal(item.low)}..{format_literal(item.high)}"
            if isinstance(item, Range)
            else format_literal(item)
            for item in node.items
        )
        return f"{format_field(node.field)} in {{{items}}}"
    if isinstance(node, Contains):
        return f"{format_field(node.field)} contains {format_literal(node.value)}"
    assert isinstance(node, Matches)
    return f"{format_field(node.field)} matches {format_literal(node.pattern)}"


def _operand(node: Node, parent: type) -> str:
    text = format_node(node)
    if isinstance(node, And | Or) and not (parent is Or and isinstance(node, And)):
        return f"({text})"
    return text
