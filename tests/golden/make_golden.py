"""Write the golden records of every bundled capture (``tests/golden/*.jsonl``).

The golden files pin what each capture decodes to, so that a change in how ioproto is built
(its layering, its fast paths) is shown not to change a single record. Run it only when a
change of the records is intended, and say why in the commit:

    python tests/golden/make_golden.py

Each capture is decoded twice, with every classifier on: to Socket.IO (the default) and to
Engine.IO. ``game.pcap`` is decoded with its protocol's plugin (the example game of
docs/examples/ioproto-game) registered, as a user with it installed would, and also to the
``app`` layer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

#: (capture, layer) pairs; the golden file is ``<capture stem>.<layer>.jsonl``.
CAPTURES = [
    *sorted((ROOT / "tests" / "data").glob("*.pcap")),
    *sorted((ROOT / "tests" / "data" / "har").glob("*.har")),
    ROOT / "examples" / "chat.pcap",
]
LAYERS = ("socketio", "engineio")
APP_CAPTURES = ("game.pcap",)


def cases() -> Iterator[tuple[Path, str]]:
    for capture in CAPTURES:
        for layer in LAYERS:
            yield capture, layer
        if capture.name in APP_CAPTURES:
            yield capture, "app"


def golden_path(capture: Path, layer: str) -> Path:
    return HERE / f"{capture.stem}.{layer}.jsonl"


def decoded_lines(capture: Path, layer: str) -> list[str]:
    """The JSON lines of ``capture`` decoded up to ``layer``, every classifier on."""
    import ioproto
    from ioproto.jsonform import dumps
    from ioproto.plugins import make_plugin_manager

    plugins: list[object] = []
    if capture.name in APP_CAPTURES:
        game = str(ROOT / "docs" / "examples" / "ioproto-game")  # an example, not installed
        if game not in sys.path:
            sys.path.insert(0, game)
        import ioproto_example_game

        plugins.append(ioproto_example_game)
    pm = make_plugin_manager()
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    return [
        dumps(record)
        for record in ioproto.decode(str(capture), proto=layer, classifiers=None, plugin_manager=pm)
    ]


def main() -> None:
    for capture, layer in cases():
        lines = decoded_lines(capture, layer)
        golden_path(capture, layer).write_text("".join(line + "\n" for line in lines), "utf-8")
        print(f"{golden_path(capture, layer).name}: {len(lines)} records", file=sys.stderr)


if __name__ == "__main__":
    main()
