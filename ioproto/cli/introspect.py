"""``ioproto plugins``: what is installed and what each plugin offers."""

from __future__ import annotations

import json

import click

from ioproto.pipeline import layer_of
from ioproto.plugins import describe_plugins

from .state import CliState


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def plugins_command(state: CliState, as_json: bool) -> None:
    """List every plugin: version, hooks, and the sources, decoders, classifiers and sinks
    it registers."""
    described = describe_plugins(state.pm)
    if as_json:
        click.echo(json.dumps(described, indent=2))
        return
    for entry in described:
        version = entry["version"] or "-"
        click.echo(f"{entry['name']} {version} ({entry['module']})")
        click.echo(f"  hooks: {', '.join(entry['hooks']) or '-'}")
        for kind in ("sources", "decoders", "classifiers", "sinks"):
            if entry.get(kind):
                click.echo(f"  {kind}: {', '.join(entry[kind])}")
    components = state.components
    layers: dict[str, list[str]] = {}
    for decoder in (item.component for item in components.decoders.items()):
        layers.setdefault(layer_of(decoder), []).append(decoder.name)
    click.echo("")
    click.echo("layers (--proto): chunk, " + ", ".join(layers))
    for layer, decoders in layers.items():
        if decoders != [layer]:
            click.echo(f"  {layer}: decoded by {', '.join(decoders)}")
