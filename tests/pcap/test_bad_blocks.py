"""A pcapng block that is framed right but bad inside is skipped, not the end of the file.

Its length is intact, so the reader can step over it: it becomes a ``capture.block.invalid``
record and every packet before and after it is still decoded. Broken framing (a length
under 12, not a multiple of 4, past the end) still ends the file (``capture.file.invalid``).
"""

from __future__ import annotations

import struct

import pcapbuild
import pytest
import scenarios
from hypothesis import given, settings
from hypothesis import strategies as st
from ioproto_pcap.files import MAX_BAD_BLOCKS
from pcaphelp import chunks, decode_file, errors, project

#: name → a block that is bad inside (little-endian, as pcapbuild writes)
BAD_BLOCKS = {
    "interface 7": pcapbuild._block("<", 6, struct.pack("<IIIII", 7, 0, 0, 4, 4) + b"abcd"),
    "interface 0xFFFFFFFF": pcapbuild._block(
        "<", 6, struct.pack("<IIIII", 0xFFFFFFFF, 0, 0, 4, 4) + b"abcd"
    ),
    "captured length past the block": pcapbuild._block(
        "<", 6, struct.pack("<IIIII", 0, 0, 0, 0xFFFFFF00, 4) + b"abcd"
    ),
    "packet block too short": pcapbuild._block("<", 6, struct.pack("<II", 0, 0)),
    "obsolete packet block, interface 3": pcapbuild._block(
        "<", 2, struct.pack("<HHIIII", 3, 0, 0, 0, 4, 4) + b"abcd"
    ),
    "simple packet block too short": pcapbuild._block("<", 3, b""),
}


def _blocks(data: bytes) -> list[bytes]:
    """The blocks of a little-endian pcapng, in order."""
    out, pos = [], 0
    while pos < len(data):
        (length,) = struct.unpack_from("<I", data, pos + 4)
        out.append(data[pos : pos + length])
        pos += length
    return out


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> tuple[list[bytes], list]:
    """The blocks of a pcapng of mixed traffic and the records it decodes to."""
    folder = tmp_path_factory.mktemp("blocks")
    frames = pcapbuild.render(scenarios.mixed_packets())
    blocks = _blocks(pcapbuild.write_pcapng(folder / "good.pcapng", frames))
    records = decode_file(folder / "good.pcapng")
    assert not errors(records)
    return blocks, records


def _decode(blocks: list[bytes], tmp_path_factory) -> list:
    path = tmp_path_factory.mktemp("bad") / "bad.pcapng"
    path.write_bytes(b"".join(blocks))
    return decode_file(path)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(BAD_BLOCKS)), where=st.floats(0, 1))
def test_a_bad_block_is_skipped_and_reported(capture, tmp_path_factory, name, where) -> None:
    blocks, reference = capture
    at = 2 + round(where * (len(blocks) - 2))  # after the section and interface blocks
    records = _decode([*blocks[:at], BAD_BLOCKS[name], *blocks[at:]], tmp_path_factory)
    bad = errors(records)
    assert [e.rule for e in bad] == ["capture.block.invalid"]
    assert bad[0].offset == sum(map(len, blocks[:at]))
    assert project(chunks(records)) == project(chunks(reference))


def test_the_reason_names_what_is_wrong(capture, tmp_path_factory) -> None:
    blocks, _ = capture
    middle = len(blocks) // 2
    bad = [BAD_BLOCKS["interface 7"], BAD_BLOCKS["captured length past the block"]]
    records = _decode([*blocks[:middle], *bad, *blocks[middle:]], tmp_path_factory)
    reasons = [e.reason.split(": ", 1)[1] for e in errors(records)]
    assert reasons == [
        "packet block names interface 7, which no interface block before it describes "
        "(1 did): skipped",
        "packet block's captured length 4294967040 overruns its block (4 bytes): skipped",
    ]


def test_a_simple_packet_block_before_any_interface_is_skipped(capture, tmp_path_factory) -> None:
    blocks, reference = capture
    spb = pcapbuild._block("<", 3, struct.pack("<I", 4) + b"abcd")
    records = _decode([blocks[0], spb, *blocks[1:]], tmp_path_factory)
    assert [e.rule for e in errors(records)] == ["capture.block.invalid"]
    assert project(chunks(records)) == project(chunks(reference))


def test_many_bad_blocks_are_counted_past_the_first_hundred(capture, tmp_path_factory) -> None:
    blocks, reference = capture
    flood = [BAD_BLOCKS["interface 7"]] * (MAX_BAD_BLOCKS + 50)
    records = _decode([*blocks[:3], *flood, *blocks[3:]], tmp_path_factory)
    bad = errors(records)
    assert [e.rule for e in bad] == ["capture.block.invalid"] * (MAX_BAD_BLOCKS + 1)
    assert f"{MAX_BAD_BLOCKS + 50} blocks in all were skipped" in bad[-1].reason
    assert project(chunks(records)) == project(chunks(reference))


@pytest.mark.parametrize("length", [8, 30, 1 << 30])
def test_broken_framing_still_ends_the_file(capture, tmp_path_factory, length) -> None:
    blocks, _ = capture
    broken = struct.pack("<II", 6, length) + b"\0" * 24
    records = _decode([*blocks[:3], broken, *blocks[3:]], tmp_path_factory)
    assert "capture.file.invalid" in [e.rule for e in errors(records)]
