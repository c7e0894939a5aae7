"""The analytics dependencies load only when used: `ioproto --version` stays fast."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from ioproto.cli import build_cli, register_plugin_commands
from ioproto.plugins import collect_components, make_plugin_manager
pm = make_plugin_manager()
register_plugin_commands(pm, build_cli())
collect_components(pm)
print(",".join(m for m in ("pyarrow", "duckdb", "distributed", "dask") if m in sys.modules))
"""


def test_no_heavy_import_at_start_up() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
