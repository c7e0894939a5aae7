"""Wire text is escaped before it reaches a person."""

from __future__ import annotations

import os

from hypothesis import given
from hypothesis import strategies as st

from ioproto.render import hex_preview, readable, render_value, safe_text


def test_escape_sequences_are_neutralised() -> None:
    assert safe_text("\x1b[2J\x1b]52;c;aGk=\x07") == "\\x1b[2J\\x1b]52;c;aGk=\\x07"
    assert safe_text("a\rb\nc") == "a\\rb\\nc"
    assert safe_text("\u202eevil") == "\\u202eevil"
    assert safe_text("\x9b31m") == "\\x9b31m"


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    shown = safe_text(text)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    shown.encode("utf-8")


def test_hex_preview() -> None:
    assert hex_preview(b"\x01\x02") == "<01 02 2 B>"
    assert hex_preview(bytes(2000)).endswith("… 2.0 kB>")


def test_render_value_handles_bytes_and_hostile_strings() -> None:
    assert render_value(["a\x1b[31m", b"\x00"]) == '["a\\u001b[31m",<00 1 B>]'
    assert "\x1b" not in render_value({"k\x1b": "\u202e"})


def test_readable_shows_a_file_names_undecodable_bytes_as_hex() -> None:
    assert readable(os.fsdecode(b"/tmp/caf\xff.pcap: empty")) == "/tmp/caf\\xff.pcap: empty"
    assert readable("caf\u00e9\nx") == "caf\u00e9\\nx"
    assert readable("x\ud800y") == "x\\ud800y"  # no escaped byte: as safe_text shows it


@given(st.binary())
def test_readable_is_one_line_and_the_same_shown_twice(name: bytes) -> None:
    shown = readable(os.fsdecode(name))
    assert "\n" not in shown and readable(shown) == shown
    shown.encode("utf-8")
