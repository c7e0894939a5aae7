"""``ioproto plugins``: what is installed and what each plugin offers."""

from __future__ import annotations

import click

from ioproto.layers import decoders_by_layer, layer_names
from ioproto.plugins import describe_plugins

from .state import CliState


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def plugins_command(state: CliState, as_json: bool) -> None:
    """List every plugin: version, hooks, and the sources, decoders, classifiers and sinks
    it registers."""
    described = describe_plugins(state.pm, state.components)
    if as_json:
        click.echo(_json(described))
        return
    for entry in described:
        version = entry["version"] or "-"
        click.echo(f"{entry['name']} {version} ({entry['module']})")
        click.echo(f"  hooks: {', '.join(entry['hooks']) or '-'}")
        for kind in ("sources", "decoders", "classifiers", "sinks"):
            if entry.get(kind):
                click.echo(f"  {kind}: {', '.join(entry[kind])}")
        if entry.get("fields"):
            click.echo(f"  fields: {len(entry['fields'])} (see `ioproto fields`)")
    layers = decoders_by_layer(state.components)
    click.echo("")
    click.echo("layers (--proto): " + ", ".join(layer_names(state.components)))
    for layer, decoders in layers.items():
        if decoders != [layer]:
            click.echo(f"  {layer}: decoded by {', '.join(decoders)}")


@click.command("fields")
@click.argument("prefix", required=False, default="")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def fields_command(state: CliState, prefix: str, as_json: bool) -> None:
    """List the fields a --filter expression can use (those starting with PREFIX).

    \b
    Examples:
      ioproto fields
      ioproto fields sio.
      ioproto decode --filter 'sio.event == "chat" and latency.ack_rtt > 50ms' capture.pcap
    """
    listed = [
        (item.component, item.plugin)
        for item in sorted(state.components.fields.entries(), key=lambda i: i.component.name)
        if item.component.name.startswith(prefix)
    ]
    if as_json:
        described = [
            {
                "name": field.name,
                "type": field.type,
                "description": field.description,
                "layer": field.layer,
                "many": field.many,
                "pushdown": field.pushdown,
                "example": field.example,
                "plugin": plugin,
            }
            for field, plugin in listed
        ]
        click.echo(_json(described))
        return
    if not listed:
        from ioproto.suggest import did_you_mean

        names = [item.component.name for item in state.components.fields.entries()]
        raise click.UsageError(
            f"no field starts with {prefix!r}{did_you_mean(prefix, names)}; "
            "`ioproto fields` lists all"
        )
    width = max(len(field.name) for field, _ in listed)
    for field, _ in listed:
        notes = " (pushed down)" if field.pushdown else ""
        click.echo(f"{field.name:<{width}}  {field.type:<8}  {field.description}{notes}")
    click.echo("")
    click.echo("Types: string, integer, number, duration (50ms, 1.5s), size (1kB, 2MiB), bool,")
    click.echo("json (steps into it: sio.args[0].room). docs/filters.md is the reference.")


def _json(value: object) -> str:
    import json  # only for --json: the listings start faster without it

    return json.dumps(value, indent=2)
