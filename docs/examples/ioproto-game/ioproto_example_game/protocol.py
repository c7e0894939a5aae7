"""The example game's application protocol: which Socket.IO arguments and Engine.IO
messages carry which format (see :mod:`ioproto_example_game.formats`)."""

from __future__ import annotations

from ioproto_appproto import AckArg, AppProtocol, EngineIOBinary, EventArg

from .formats import GameState, Move, MoveResult, Telemetry

GAME = AppProtocol(
    name="game",
    description="the example game: binary move/state events (moves acknowledged) on /game, "
    "telemetry on /telemetry",
    bindings=[
        EventArg(event="move", nsp="/game", arg=0, format=Move, direction="c2s"),
        AckArg(event="move", nsp="/game", arg=0, format=MoveResult, direction="s2c"),
        EventArg(event="state", nsp="/game", arg=0, format=GameState, direction="s2c"),
        EngineIOBinary(path="/telemetry", message="telemetry", format=Telemetry),
    ],
)
