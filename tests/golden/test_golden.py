"""Every bundled capture still decodes to its golden records (tests/golden/make_golden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .make_golden import cases, decoded_lines, golden_path


@pytest.mark.parametrize(
    ("capture", "layer"),
    list(cases()),
    ids=[f"{capture.name}-{layer}" for capture, layer in cases()],
)
def test_records_equal_the_golden_file(capture: Path, layer: str) -> None:
    expected = golden_path(capture, layer).read_text("utf-8").splitlines()
    actual = decoded_lines(capture, layer)
    for number, (want, got) in enumerate(zip(expected, actual, strict=False), 1):
        assert json.loads(got) == json.loads(want), f"record {number} of {capture.name}"
    assert len(actual) == len(expected)
