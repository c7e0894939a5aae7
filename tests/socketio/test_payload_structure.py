"""The structure of a JSON payload outside its strings (``payload.structure``), which the
depth and size checks read: the same answers as a regular expression that skips strings,
in a few copies of the text's memory whatever its shape (issue 11's budgets: a 16 MiB
payload of tiny strings held 440 MB)."""

from __future__ import annotations

import json
import re
import tracemalloc
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_socketio import payload

#: What the checks read before: every string removed by one substitution.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*+"', re.DOTALL)


def reference_structure(text: str) -> str:
    return "".join(re.findall(r"[\[\]{},:]", _STRING.sub("", text)))


def reference_depth(text: str) -> int:
    depth = deepest = 0
    for bracket in reference_structure(text):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth -= 1
    return deepest


tricky = st.text(alphabet=st.sampled_from(list('"\\[]{},: aé\U0001f600\n')), max_size=20)
json_values: Any = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(tricky, inner, max_size=5),
    max_leaves=40,
)


@settings(max_examples=400)
@given(value=json_values, ascii_only=st.booleans(), padding=st.integers(0, 70_000))
def test_the_structure_is_what_skipping_strings_leaves(
    value: Any, ascii_only: bool, padding: int
) -> None:
    """Strings with quotes, backslashes and brackets inside, beyond ASCII, and long enough
    (``padding``) to cross the 64 KiB pieces the structure comes in."""
    text = json.dumps([value, "x" * padding, value], ensure_ascii=ascii_only)
    structure = b"".join(payload.structure(text)).decode()
    assert structure == reference_structure(text)
    assert payload.json_depth(text) == reference_depth(text)


def test_a_payload_of_tiny_strings_is_checked_in_little_memory() -> None:
    text = "[" + '"",,' * (1 << 20) + '""]'  # 4 MiB, a million strings
    tracemalloc.start()
    try:
        try:
            payload.check_size(text, 1 << 20)
        except payload.PayloadError as exc:
            assert exc.rule == "socketio.payload.too-large"
        else:
            raise AssertionError("not refused")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * len(text), peak  # the substitution took about 18 times
