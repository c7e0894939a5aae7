"""Why a filter matched nothing: the values its equality tests' fields took instead.

``ioproto monitor --event chat capture.pcap`` that shows nothing should say that the events
were called ``message`` and ``typing``. A :class:`Tally` watches the records a filter
rejected, for each test ``field == value`` or ``field in {values}`` (of a whole field, not a
step into one, outside any ``not``), and counts the values the field had. Its memory is
bounded: at most ``max_values`` distinct values per test and ``max_bytes`` in all (values
past either are counted, not kept).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ioproto.suggest import closest

from .fields import MISSING, resolver
from .nodes import And, Compare, InSet, Node, Or, literal_values
from .printer import quote

if TYPE_CHECKING:
    from ioproto.model import Record

    from .compiler import Filter
    from .fields import Field

#: Distinct values kept per test, and bytes kept in all (a value's text, plus overhead).
DEFAULT_MAX_VALUES = 256
DEFAULT_MAX_BYTES = 256 * 1024
#: Characters of a value kept (a longer one is cut).
_MAX_TEXT = 120
_VALUE_OVERHEAD = 100
#: Values a hint shows.
_SHOWN = 6


class _Test:
    """One equality test and the values its field had on the rejected records."""

    def __init__(self, field: Field, wanted: frozenset[Any]) -> None:
        self.name = field.name
        self.wanted = wanted
        #: the field as the filter reads it: also through a record's lineage, so that a
        #: value's count is what a filter on it would match
        self.read: Callable[[Any], Any] = resolver(field)
        self.many = field.many
        #: the pipeline may test the field before decoding (push-down), dropping records
        #: this tally then never sees
        self.pushed = field.pushdown
        self.seen: Counter[Any] = Counter()
        self.others = 0  # values not kept (past the bounds)
        self.records = 0  # records that had the field


class Tally:
    """Counts, for each equality test of ``match``, the values its field had on the
    records given to :meth:`add`; :meth:`hints` says what they were."""

    def __init__(
        self,
        match: Filter,
        *,
        max_values: int = DEFAULT_MAX_VALUES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        fields = {field.name: field for field in match.fields}
        self.tests: list[_Test] = []
        for name, wanted in _equality_tests(match.tree):
            field = fields.get(name)
            if field is not None and field.type in ("string", "integer"):
                self.tests.append(_Test(field, wanted))
        self.max_values = max_values
        self.bytes_left = max_bytes

    def __bool__(self) -> bool:
        return bool(self.tests)

    def add(self, record: Record) -> None:
        """Count the values ``record`` has for the tests' fields."""
        for test in self.tests:
            value = test.read(record)
            if value is MISSING or (test.many and not value):
                continue
            test.records += 1
            for item in value if test.many else (value,):
                self._count(test, item)

    def _count(self, test: _Test, value: Any, times: int = 1) -> None:
        if isinstance(value, str) and len(value) > _MAX_TEXT:
            value = value[:_MAX_TEXT] + "…"
        if value in test.seen:
            test.seen[value] += times
            return
        cost = len(str(value)) + _VALUE_OVERHEAD
        if len(test.seen) >= self.max_values or cost > self.bytes_left:
            test.others += times
            return
        self.bytes_left -= cost
        test.seen[value] = times

    def counts(self) -> list[tuple[dict[Any, int], int, int]]:
        """What was counted, per test (picklable): for :meth:`merge` in another process."""
        return [(dict(test.seen), test.others, test.records) for test in self.tests]

    def merge(self, counts: list[tuple[dict[Any, int], int, int]]) -> None:
        """Add the :meth:`counts` of a tally of the same filter (a worker process's), within
        this tally's bounds."""
        for test, (seen, others, records) in zip(self.tests, counts, strict=True):
            test.records += records
            test.others += others
            for value, times in seen.items():
                self._count(test, value, times)

    def hints(self, *, dropped: bool = False) -> list[str]:
        """One line per test whose values never included what it wanted. ``dropped``: the
        push-down dropped records before decoding, which this tally did not see, so the
        tests of fields that may be pushed down say nothing (their values were elsewhere)."""
        return [
            hint
            for test in self.tests
            if not (dropped and test.pushed) and (hint := _hint(test)) is not None
        ]


def _hint(test: _Test) -> str | None:
    if any(value in test.seen for value in test.wanted):
        return None  # the test held somewhere: another part of the filter failed
    wanted = " or ".join(sorted(_shown(value) for value in test.wanted))
    if not test.records:
        return f"no record had {test.name} (so none was {wanted})"
    texts = [value for value in test.wanted if isinstance(value, str)]
    names = [value for value in test.seen if isinstance(value, str)]
    suggestions = {found for text in texts if (found := closest(text, names)) is not None}
    meant = ""
    if suggestions:
        meant = f" (did you mean {', '.join(map(_shown, sorted(suggestions)))}?)"
    # Ties by the value's text: the same lines whatever order the records came in (the
    # workers of a sharded run each count their share).
    common = sorted(test.seen.items(), key=lambda item: (-item[1], _shown(item[0])))[:_SHOWN]
    listed = ", ".join(f"{_shown(value)} ({count})" for value, count in common)
    more = len(test.seen) - len(common)
    if more or test.others:
        listed += f", … ({more}{'+' if test.others else ''} more)"
    return f"{test.name} was never {wanted}{meant}; its values were {listed}"


def _shown(value: Any) -> str:
    return quote(value) if isinstance(value, str) else str(value)


def _equality_tests(node: Node) -> Iterator[tuple[str, frozenset[Any]]]:
    """``(field name, values)`` of every ``field == value`` and ``field in {values}`` test
    of a whole field in ``node``, outside any ``not``."""
    if isinstance(node, And | Or):
        for operand in node.operands:
            yield from _equality_tests(operand)
        return
    values = literal_values(node)
    if values is not None and isinstance(node, Compare | InSet) and not node.field.path:
        yield node.field.name, values
