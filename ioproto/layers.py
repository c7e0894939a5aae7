"""The decoder layers the installed plugins make, read from what they registered.

What ``ioproto plugins``, ``--proto``'s help and its check need: a decoder's ``name``,
``layer`` and ``rides_on``. These functions read them from the registry's entries (a
:class:`~ioproto.lazycomponents.LazyComponent` declares them), so they make no component
and import no decoder module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .components import optional

if TYPE_CHECKING:
    from .plugins import Components


def layer_of(decoder: Any) -> str:
    """The layer a decoder produces: its ``layer`` attribute if it has one, else its name."""
    return str(optional(decoder, "Decoder", "layer") or decoder.name)


def source_layers(components: Components) -> list[str]:
    """The layers that decoders ride on but none produces: what sources deliver.

    Records of these layers come only from sources (the ``tcp`` byte streams of a capture,
    say); ``--proto`` naming one means "no decoding".
    """
    decoders = components.decoders.entries()
    produced = {layer_of(item.component) for item in decoders}
    below = {item.component.rides_on for item in decoders}
    return sorted(below - produced)


def layer_names(components: Components) -> list[str]:
    """Every layer ``--proto`` can name, lowest first: the source layers, then each decoded
    layer after the one it rides on."""
    produced: dict[str, str] = {}
    for item in components.decoders.entries():
        produced.setdefault(layer_of(item.component), item.component.rides_on)

    def depth(layer: str, seen: frozenset[str] = frozenset()) -> int:
        below = produced.get(layer)
        if below is None or layer in seen:
            return 0
        return 1 + depth(below, seen | {layer})

    decoded = sorted(produced, key=lambda layer: (depth(layer), list(produced).index(layer)))
    return [*source_layers(components), *decoded]


def decoders_by_layer(components: Components) -> dict[str, list[str]]:
    """Decoder names by the layer each produces, in registration order."""
    layers: dict[str, list[str]] = {}
    for item in components.decoders.entries():
        layers.setdefault(layer_of(item.component), []).append(item.component.name)
    return layers
