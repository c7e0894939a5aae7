"""The wire formats of the example game, declared once with construct (parse and build).

A small multiplayer game sends its hot traffic as compact binary Socket.IO arguments on
namespace ``/game``: each client emits ``move(<Move>)`` about 20 times a second and the
server acknowledges each with a ``MoveResult``; the server broadcasts ``state(<GameState>)``.
Clients also report ``Telemetry`` over a raw Engine.IO connection on path ``/telemetry/`` (no
Socket.IO). Everything is big-endian. The figures follow RFC style: bit 0 is the most
significant bit of a byte.
"""

from __future__ import annotations

from construct import (
    Array,
    BitStruct,
    Const,
    Flag,
    Float32b,
    Int8ub,
    Int16ub,
    Int32ub,
    Padding,
    Struct,
    Terminated,
    this,
)

# Move: one client input frame, 16 bytes.
#
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |  version = 1  |J|C|S|F|   0   |           sequence            |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                    x (float32, metres)                        |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                    y (float32, metres)                        |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |  heading (uint16, 1/100 deg)  |  speed (m/s)  |   reserved    |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#
# J, C, S, F: the jump, crouch, sprint and fire keys are held.
Move = Struct(
    "version" / Const(1, Int8ub),
    "keys"
    / BitStruct(
        "jump" / Flag,
        "crouch" / Flag,
        "sprint" / Flag,
        "fire" / Flag,
        Padding(4),
    ),
    "seq" / Int16ub,
    "x" / Float32b,
    "y" / Float32b,
    "heading" / Int16ub,
    "speed" / Int8ub,
    Padding(1),
    Terminated,
)

# MoveResult: the server's acknowledgement of a Move, 8 bytes.
#
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |   sequence (of the Move)      |A|     0       |  health 0-100 |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                      server tick (uint32)                     |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#
# A: the move was accepted.
MoveResult = Struct(
    "seq" / Int16ub,
    "flags" / BitStruct("accepted" / Flag, Padding(7)),
    "health" / Int8ub,
    "tick" / Int32ub,
    Terminated,
)

# Player: one player's entry in a GameState, 11 bytes.
#
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |       player id (uint16)      |      x (float32) ...          :
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# :   ... x       |      y (float32) ...                          :
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# :   ... y       |  health 0-100 |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Player = Struct(
    "id" / Int16ub,
    "x" / Float32b,
    "y" / Float32b,
    "health" / Int8ub,
)

# GameState: the server's world snapshot, 5 + 11 * count bytes.
#
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                      server tick (uint32)                     |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |     count     |  count x Player (11 bytes each) ...           :
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
GameState = Struct(
    "tick" / Int32ub,
    "count" / Int8ub,
    "players" / Array(this.count, Player),
    Terminated,
)

# Telemetry: a client's performance report over raw Engine.IO, 8 bytes.
#
#  0                   1                   2                   3
#  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |      frames per second        |      round trip (ms)          |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
# |                    dropped frames (uint32)                    |
# +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
Telemetry = Struct(
    "fps" / Int16ub,
    "rtt_ms" / Int16ub,
    "dropped" / Int32ub,
    Terminated,
)
