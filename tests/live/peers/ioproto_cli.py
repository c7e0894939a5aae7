"""Run the ``ioproto`` command with the live-capture plugins loaded even when their entry
points are not installed yet: ``python ioproto_cli.py proxy --upstream ...``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "plugins"))

import ioproto_demo  # noqa: E402
import ioproto_har  # noqa: E402
import ioproto_live  # noqa: E402
import ioproto_proxy  # noqa: E402
import ioproto_tap  # noqa: E402

from ioproto.cli import build_cli  # noqa: E402
from ioproto.cli.state import CliState  # noqa: E402
from ioproto.plugins import make_plugin_manager  # noqa: E402


def main() -> None:
    pm = make_plugin_manager()
    for plugin in (ioproto_proxy, ioproto_live, ioproto_har, ioproto_demo, ioproto_tap):
        if not pm.is_registered(plugin) and pm.get_plugin(plugin.__name__.split("_", 1)[1]) is None:
            pm.register(plugin)
    cli = build_cli()
    pm.hook.register_commands(cli=cli)
    cli.main(args=sys.argv[1:], prog_name="ioproto", obj=CliState(plugin_manager=pm))


if __name__ == "__main__":
    main()
