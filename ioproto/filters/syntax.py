"""Parsing a filter expression into the syntax tree of :mod:`ioproto.filters.nodes`.

The grammar is declared once, for lark (LALR, so a mistake is found at the first token that
cannot continue the expression and lark says which tokens could have). Field names are not
checked here: :mod:`ioproto.filters.compiler` resolves them against the field registry.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import lark

from .errors import FilterError
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
from .units import known_units, scale, unit_kind

#: The longest expression accepted (a filter is typed by a person, not generated).
MAX_EXPRESSION = 4096

GRAMMAR = r"""
start: or_expr

?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND not_expr)*
?not_expr: _NOT not_expr -> negation
         | atom
?atom: test
     | _LPAR or_expr _RPAR

test: field COMPARE value               -> compare
    | field _IN _LBRACE items _RBRACE    -> in_set
    | field _CONTAINS value              -> contains
    | field _MATCHES STRING              -> matches
    | field                              -> exists

items: item (_COMMA item)* _COMMA?
item: value
    | value _DOTDOT value                -> range

field: NAME step*
step: _LBRACKET INDEX _RBRACKET          -> index
    | _LBRACKET STRING _RBRACKET         -> key
    | DOTNAME                            -> dotkey

value: STRING                            -> string
     | NUMBER                            -> number
     | TRUE                              -> true
     | FALSE                             -> false
     | NAME                              -> word

_OR.2: /or\b/i | "||"
_AND.2: /and\b/i | "&&"
_NOT.2: /not\b/i | "!"
_IN.2: /in\b/i
_CONTAINS.2: /contains\b/i
_MATCHES.2: /matches\b/i
TRUE.2: /true\b/i
FALSE.2: /false\b/i
COMPARE: "==" | "!=" | "<=" | ">=" | "<" | ">"
_LPAR: "("
_RPAR: ")"
_LBRACE: "{"
_RBRACE: "}"
_LBRACKET: "["
_RBRACKET: "]"
_COMMA: ","
_DOTDOT: ".."
NAME: /[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*(\.[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*)*/
DOTNAME: /\.[A-Za-z_][A-Za-z0-9_]*(-[A-Za-z0-9_]+)*/
INDEX: /-?[0-9]+/
NUMBER: /-?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?[A-Za-zµ]*/
STRING: /"([^"\\]|\\.)*"/ | /'([^'\\]|\\.)*'/

%ignore /[ \t\r\n]+/
"""

#: What each terminal is, for "expected ..." messages.
_DESCRIBE = {
    "NAME": "a field name",
    "DOTNAME": "'.name'",
    "INDEX": "an index",
    "NUMBER": "a number",
    "STRING": "a string",
    "TRUE": "true",
    "FALSE": "false",
    "COMPARE": "a comparison (== != < <= > >=)",
    "_OR": "or",
    "_AND": "and",
    "_NOT": "not",
    "_IN": "in",
    "_CONTAINS": "contains",
    "_MATCHES": "matches",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "_LBRACE": "'{'",
    "_RBRACE": "'}'",
    "_LBRACKET": "'['",
    "_RBRACKET": "']'",
    "_COMMA": "','",
    "_DOTDOT": "'..'",
    "$END": "the end",
}
#: The order in which expected things are listed (most helpful first).
_ORDER = list(_DESCRIBE)

_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_SIMPLE_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def unquote(token: str) -> str:
    """The text of a quoted string token: ``\\"``, ``\\\\``, ``\\n``, ``\\t``, ``\\r``,
    ``\\0``, ``\\xHH``, ``\\uHHHH``, ``\\UHHHHHHHH`` are escapes; any other backslash stays as
    it is, so regular expressions need no doubled backslashes (``"\\d+"``)."""

    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[escape]
        if len(escape) > 1 and escape[0] in "xuU":
            code = int(escape[1:], 16)
            return chr(code) if code <= 0x10FFFF else match.group(0)
        return match.group(0)

    return _ESCAPE.sub(replace, token[1:-1])


def _col(token: lark.Token) -> int:
    return token.column or 0


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(GRAMMAR, parser="lalr", lexer="contextual", maybe_placeholders=False)


class _Builder(lark.Transformer[lark.Token, Node]):
    """lark's tree → :mod:`ioproto.filters.nodes`."""

    def __init__(self, expression: str) -> None:
        super().__init__()
        self.expression = expression

    def fail(self, column: int, message: str) -> FilterError:
        return FilterError(self.expression, column, message)

    # -- structure ---------------------------------------------------------------------------

    def start(self, children: list[Node]) -> Node:
        return children[0]

    def or_expr(self, children: list[Node]) -> Node:
        return Or(tuple(children))

    def and_expr(self, children: list[Node]) -> Node:
        return And(tuple(children))

    def negation(self, children: list[Node]) -> Node:
        return Not(children[0])

    # -- tests -------------------------------------------------------------------------------

    def compare(self, children: list[Any]) -> Node:
        field, op, value = children
        return Compare(field, str(op), value)

    def in_set(self, children: list[Any]) -> Node:
        field, items = children
        return InSet(field, tuple(items))

    def contains(self, children: list[Any]) -> Node:
        return Contains(children[0], children[1])

    def matches(self, children: list[Any]) -> Node:
        field, token = children
        return Matches(field, Literal(unquote(token), column=_col(token)))

    def exists(self, children: list[Any]) -> Node:
        return Exists(children[0])

    def items(self, children: list[Any]) -> list[Any]:
        return children

    def item(self, children: list[Any]) -> Any:
        return children[0]

    def range(self, children: list[Literal]) -> Range:
        low, high = children
        for end in (low, high):
            if not end.is_number:
                raise self.fail(end.column, "a range needs numbers at both ends")
        if float(low.value) > float(high.value):
            raise self.fail(low.column, "a range goes from the lower number to the higher")
        return Range(low, high, column=low.column)

    # -- fields ------------------------------------------------------------------------------

    def field(self, children: list[Any]) -> FieldRef:
        name, *steps = children
        return FieldRef(str(name), tuple(steps), column=_col(name))

    def index(self, children: list[lark.Token]) -> int:
        return int(children[0])

    def key(self, children: list[lark.Token]) -> str:
        return unquote(children[0])

    def dotkey(self, children: list[lark.Token]) -> str:
        return str(children[0])[1:]

    # -- values ------------------------------------------------------------------------------

    def string(self, children: list[lark.Token]) -> Literal:
        token = children[0]
        return Literal(unquote(token), column=_col(token))

    def word(self, children: list[lark.Token]) -> Literal:
        token = children[0]
        return Literal(str(token), column=_col(token))

    def true(self, children: list[lark.Token]) -> Literal:
        return Literal(True, column=_col(children[0]))

    def false(self, children: list[lark.Token]) -> Literal:
        return Literal(False, column=_col(children[0]))

    def number(self, children: list[lark.Token]) -> Literal:
        token = children[0]
        text = str(token)
        match = re.fullmatch(r"(-?[0-9.]+(?:[eE][+-]?[0-9]+)?)(.*)", text)
        assert match is not None  # the NUMBER terminal guarantees it
        digits, unit = match.groups()
        number: int | float = float(digits) if any(c in digits for c in ".eE") else int(digits)
        if (isinstance(number, float) and number != number) or number in (
            float("inf"),
            float("-inf"),
        ):
            raise self.fail(_col(token), f"{digits} is too large a number")
        if not unit:
            return Literal(number, text=digits, column=_col(token))
        if unit_kind(unit) is None:
            raise self.fail(
                _col(token) + len(digits),
                f"unknown unit {unit!r}; units: {known_units()}",
            )
        return Literal(scale(number, unit), unit=unit, text=digits, column=_col(token))


def parse(expression: str) -> Node:
    """The syntax tree of ``expression``; :class:`FilterError` for a mistake."""
    if len(expression) > MAX_EXPRESSION:
        raise FilterError(
            expression[:80] + "…", 0, f"a filter has at most {MAX_EXPRESSION} characters"
        )
    if not expression.strip():
        raise FilterError(expression, 1, 'expected a filter, e.g. sio.event == "chat"')
    try:
        tree = _parser().parse(expression)
    except lark.exceptions.UnexpectedInput as exc:
        raise _syntax_error(expression, exc) from None
    try:
        return _Builder(expression).transform(tree)
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, FilterError):
            raise exc.orig_exc from None
        raise


def _syntax_error(expression: str, exc: lark.exceptions.UnexpectedInput) -> FilterError:
    column = getattr(exc, "column", None)
    if not isinstance(column, int) or column < 1:
        column = len(expression) + 1
    char = ""
    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        expected = set(exc.allowed or ())
        position = exc.pos_in_stream or 0
        char = expression[position] if position < len(expression) else ""
        if char in "\"'":
            return FilterError(expression, column, f"this string has no closing {char}")
        what = f"unexpected {char!r}" if char else "unexpected character"
    elif isinstance(exc, lark.exceptions.UnexpectedToken):
        expected = set(exc.expected or ())
        token = exc.token
        if token.type == "$END":
            what = "unexpected end"
            column = len(expression.rstrip()) + 1
        else:
            what = f"unexpected {str(token)!r}"
            char = str(token)[:1]
    else:
        expected = set(getattr(exc, "expected", ()) or ())
        what = "unexpected end"
        column = len(expression.rstrip()) + 1
    meant = _MEANT.get(char)
    if meant is not None:
        what += f" ({meant})"
    return FilterError(expression, column, f"{what}: expected {_describe(expected)}")


#: What a character that cannot stand where it was found most likely meant (an operator
#: of another language).
_MEANT = {"=": "compare with ==", "&": "write && or and", "|": "write || or or"}


def _describe(expected: set[str]) -> str:
    names = [name for name in _ORDER if name in expected]
    if "NAME" in expected and "NUMBER" in expected:
        # In a value position a bare word is also accepted, but people think of values.
        names = [name for name in names if name != "NAME"] + ["NAME"]
        described = [_DESCRIBE[name] for name in names]
        described[-1] = "a word"
    else:
        described = [_DESCRIBE[name] for name in names]
    if not described:
        return "something else"
    if len(described) == 1:
        return described[0]
    return ", ".join(described[:-1]) + " or " + described[-1]
