"""Unmasking WebSocket payloads (RFC 6455 §5.3): in C where the ``websockets`` package's
speedups are installed, else in Python.

Every frame a client sends is masked, so this runs once per client message: websockets'
``apply_mask`` takes 0.1 µs for a 700-byte message where the Python XOR takes 1.7 µs
(benchmarks/README.md, "ninth session"). ``websockets`` is a dependency already (the cdp
source). Its extension module is loaded by itself, without the package: importing
``websockets`` imports ``importlib.metadata`` (12 ms), which a decode never needs otherwise.
Both implementations give the same bytes (tests/pcap/test_masking.py).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Callable

Unmask = Callable[[bytes | bytearray | memoryview, bytes | bytearray], bytes]


def python_unmask(data: bytes | bytearray | memoryview, mask: bytes | bytearray) -> bytes:
    """``data`` XOR the repeating 4-byte ``mask``, as ``bytes``."""
    size = len(data)
    if not size:
        return bytes(data)
    key = (bytes(mask) * ((size >> 2) + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")


def speedups_unmask() -> Unmask | None:
    """websockets' C ``apply_mask``, or ``None`` where it is not installed (a pure-Python
    wheel, another platform, a layout this does not know)."""
    name = "websockets.speedups"
    loaded = sys.modules.get(name)
    if loaded is not None:  # the package is imported already
        return getattr(loaded, "apply_mask", None)
    try:
        spec = importlib.util.find_spec("websockets")
        if spec is None or not spec.submodule_search_locations:
            return None
        for folder in spec.submodule_search_locations:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(folder, "speedups" + suffix)
                if os.path.isfile(path):
                    loader = importlib.machinery.ExtensionFileLoader(name, path)
                    found = importlib.util.spec_from_loader(name, loader)
                    if found is None:
                        return None
                    module = importlib.util.module_from_spec(found)
                    loader.exec_module(module)
                    # Not registered without its package: a later `import websockets`
                    # loads it again, in its place.
                    sys.modules.pop(name, None)
                    apply_mask: Unmask = module.apply_mask
                    if apply_mask(b"\x00\x01\x02\x03\x04", b"\x01\x01\x01\x01") != (
                        b"\x01\x00\x03\x02\x05"
                    ):
                        return None
                    return apply_mask
    except Exception:  # whatever goes wrong, the Python version does the same job
        return None
    return None


#: ``unmask(data, mask)``: ``data`` XOR the repeating 4-byte ``mask``, as ``bytes``.
unmask: Unmask = speedups_unmask() or python_unmask
