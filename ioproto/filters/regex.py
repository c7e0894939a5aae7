"""``matches``: regular expressions in linear time, with bounded pattern and subject.

Patterns are compiled with RE2 (the ``google-re2`` package), whose matching time grows
linearly with the subject whatever the pattern: a pattern cannot make ioproto backtrack
for ever on hostile traffic. Backreferences and look-around, which need backtracking, are
therefore not available (RE2 says so when a pattern uses them). Bounds:

* a pattern has at most :data:`MAX_PATTERN` characters and its compiled program at most
  :data:`MAX_PROGRAM_BYTES` of memory;
* only the first :data:`MAX_SUBJECT` characters of a value are searched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import re2

MAX_PATTERN = 1000
MAX_PROGRAM_BYTES = 1 << 20
MAX_SUBJECT = 65536

_SURROGATES = re.compile("[\ud800-\udfff]")


class PatternError(ValueError):
    """A pattern RE2 refuses, or one over the bounds."""


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A function telling whether a string contains a match of ``pattern``."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"a pattern has at most {MAX_PATTERN} characters")
    options = re2.Options()
    options.max_mem = MAX_PROGRAM_BYTES
    options.log_errors = False
    try:
        compiled: Any = re2.compile(pattern, options)
    except UnicodeError:
        raise PatternError("a pattern cannot hold a lone surrogate (\\ud800-\\udfff)") from None
    except re2.error as exc:
        message = exc.args[0] if exc.args else exc
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise PatternError(f"not a regular expression RE2 accepts: {message}") from None
    search = compiled.search

    def matches(subject: str) -> bool:
        if len(subject) > MAX_SUBJECT:
            subject = subject[:MAX_SUBJECT]
        try:
            return search(subject) is not None
        except UnicodeError:
            # Lone surrogates from the wire cannot be handed to RE2 as UTF-8: each becomes
            # U+FFFD, which "." matches like any character.
            return search(_SURROGATES.sub("\ufffd", subject)) is not None

    return matches
