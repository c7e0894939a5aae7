"""The dice game's binary protocol: the first argument of event ``roll`` on ``/dice``.

A roll is one byte with the number of dice, one with their faces, then one byte per die:

     0       1       2       3  ...
    +-------+-------+-------+-------+
    | count | faces | die 1 | die 2 | ... (count bytes)
    +-------+-------+-------+-------+
"""

from construct import Array, Int8ub, Struct, Terminated, this
from ioproto_appproto import AppProtocol, EventArg

Roll = Struct(
    "count" / Int8ub,
    "faces" / Int8ub,
    "dice" / Array(this.count, Int8ub),
    Terminated,  # refuse trailing bytes
)

DICE = AppProtocol(
    name="dice",
    description="the dice game: binary 'roll' events on /dice",
    bindings=[EventArg(event="roll", nsp="/dice", arg=0, format=Roll)],
)
