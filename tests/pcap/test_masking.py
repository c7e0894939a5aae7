"""WebSocket unmasking: websockets' C function and the Python fallback give the same bytes."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ioproto_http import masking


def reference(data: bytes, mask: bytes) -> bytes:
    return bytes(byte ^ mask[index % 4] for index, byte in enumerate(data))


IMPLEMENTATIONS = [masking.python_unmask, masking.unmask]


@pytest.mark.parametrize("unmask", IMPLEMENTATIONS)
@given(data=st.binary(max_size=3000), mask=st.binary(min_size=4, max_size=4))
def test_unmasking_is_the_xor_with_the_repeated_mask(unmask, data, mask):
    expected = reference(data, mask)
    assert unmask(data, mask) == expected
    # the decoder hands it slices of its stream buffer
    buffer = bytearray(b"head" + data + b"tail")
    result = unmask(buffer[4 : 4 + len(data)], bytearray(mask))
    assert type(result) is bytes
    assert result == expected
    assert unmask(memoryview(buffer)[4 : 4 + len(data)], mask) == expected


def test_the_c_version_is_used_where_websockets_has_it():
    if importlib.util.find_spec("websockets.speedups") is None:
        pytest.skip("websockets without its C speedups here")
    assert masking.speedups_unmask() is not None
    assert masking.unmask is not masking.python_unmask


def test_loading_it_leaves_the_package_alone():
    """Loaded without importing ``websockets`` (nor ``importlib.metadata``), and a later
    ``import websockets`` is whole."""
    if importlib.util.find_spec("websockets.speedups") is None:
        pytest.skip("websockets without its C speedups here")
    script = (
        "import sys\n"
        "from ioproto_http import masking\n"
        "assert masking.unmask is not masking.python_unmask\n"
        "assert 'websockets' not in sys.modules and 'importlib.metadata' not in sys.modules\n"
        "assert 'websockets.speedups' not in sys.modules\n"
        "import websockets.speedups\n"
        "assert websockets.speedups.apply_mask(b'ab', b'abcd') == b'\\x00\\x00'\n"
        "from websockets.utils import apply_mask\n"
        "assert apply_mask(b'ab', b'abcd') == b'\\x00\\x00'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)


def test_without_the_package_python_does_the_job(monkeypatch):
    # (another test may have imported websockets already)
    monkeypatch.delitem(sys.modules, "websockets.speedups", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert masking.speedups_unmask() is None
