"""The error a wrong filter expression gives: where it went wrong and what was expected."""

from __future__ import annotations

from ioproto.errors import IoprotoError


class FilterError(IoprotoError, ValueError):
    """A filter expression that cannot be parsed or compiled.

    ``column`` is 1-based (0 when the error is about the whole expression). :meth:`display`
    gives the expression with a caret under ``column`` and the message, for people.
    """

    def __init__(self, expression: str, column: int, message: str) -> None:
        self.expression = expression
        self.column = column
        self.message = message
        super().__init__(f"{message} (column {column})" if column else message)

    def display(self, prefix: str = "") -> str:
        """``prefix + expression``, then a caret under the column and the message."""
        if not self.column:
            return f"{prefix}{self.expression}\n{' ' * len(prefix)}^ {self.message}"
        pad = " " * (len(prefix) + self.column - 1)
        return f"{prefix}{self.expression}\n{pad}^ {self.message}"
