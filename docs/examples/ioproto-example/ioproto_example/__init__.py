"""ioproto plugin: the dice game's ``roll`` event, and the ``tally`` sink."""

import ioproto

from .dice import DICE
from .sink import TallySinkFactory


@ioproto.hookimpl
def register_decoders(register):
    for decoder in DICE.decoders():
        register(decoder)


@ioproto.hookimpl
def register_sinks(register):
    register(TallySinkFactory())
