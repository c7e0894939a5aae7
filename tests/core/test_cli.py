"""The ``ioproto`` command, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

import ioproto
from ioproto.cli import build_cli
from ioproto.cli.state import CliState
from ioproto.plugins import make_plugin_manager
from ioproto.version import build


def invoke(args: list[str], input: str | bytes | None = None) -> Result:
    pm = make_plugin_manager()
    cli = build_cli()
    pm.hook.register_commands(cli=cli)
    return CliRunner().invoke(cli, args, input=input, obj=CliState(plugin_manager=pm))


def test_version() -> None:
    result = invoke(["--version"])
    assert result.exit_code == 0
    compiled = " (compiled build)" if build() == "compiled" else ""
    assert result.output == f"ioproto, version {ioproto.__version__}{compiled}\n"


def test_help_lists_commands() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    assert "decode" in result.output
    assert "plugins" in result.output


#: What the top-level help calls what each bundled source reads.
SOURCES_IN_HELP = {
    "pcap": "pcap/pcapng files",
    "har": "HAR files",
    "live": "a live interface",
    "proxy": "a monitoring proxy",
    "collect": "in-process taps",
    "cdp": "DevTools Protocol",
    "lines": "raw packet lines",
}


def test_help_says_what_every_bundled_source_reads() -> None:
    from ioproto.plugins import collect_components

    bundled = {path.name for path in (Path(__file__).resolve().parents[2] / "plugins").iterdir()}
    sources = {
        item.component.name
        for item in collect_components(make_plugin_manager()).sources.items()
        if type(item.component).__module__.partition(".")[0] in bundled
    }
    assert sources == set(SOURCES_IN_HELP)
    output = invoke(["--help"]).output
    said = " ".join(output[output.index("ioproto reads") : output.index("Examples:")].split())
    for words in SOURCES_IN_HELP.values():
        assert words in said, words


def test_decode_chunks_from_stdin_as_jsonl() -> None:
    result = invoke(["decode", "--proto", "chunk", "--sink", "jsonl", "-"], input="4hi\n")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output)
    assert obj["layer"] == "chunk"
    assert obj["data"] == {"$bytes": "NGhp"}


def test_unknown_names_list_the_valid_ones() -> None:
    result = invoke(["decode", "--proto", "nope", "-"], input="4hi\n")
    assert result.exit_code == 2
    assert "unknown layer 'nope'" in result.output
    assert "engineio" in result.output
    result = invoke(["decode", "--proto", "chunk", "--sink", "nope", "-"], input="4hi\n")
    assert result.exit_code == 2
    assert "valid: " in result.output and "jsonl" in result.output
    result = invoke(["decode", "--proto", "engineio", "--source", "nope", "-"], input="4hi\n")
    assert result.exit_code == 2
    assert "unknown source 'nope'" in result.output


def test_sink_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = invoke(["decode", "--proto", "chunk", "--sink", f"jsonl:{out}", "-"], input="4a\n4b\n")
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 2


def test_plugins_json_lists_bundled_plugins() -> None:
    result = invoke(["plugins", "--json"])
    assert result.exit_code == 0
    described = {entry["name"]: entry for entry in json.loads(result.output)}
    assert described["lines"]["sources"] == ["lines"]
    assert described["jsonl"]["hooks"] == ["register_sinks"]
    assert described["jsonl"]["version"] == ioproto.__version__


def test_plugins_table() -> None:
    result = invoke(["plugins"])
    assert result.exit_code == 0
    (line,) = [line for line in result.output.splitlines() if line.startswith("layers")]
    assert line == "layers (--proto): tcp, chunk, engineio, socketio"  # each once, lowest first


def test_no_source_claims_input(tmp_path: Path) -> None:
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\x00\x01garbage")
    result = invoke(["decode", "--proto", "chunk", str(binary)])
    assert result.exit_code == 2
    assert "no capture source can read" in result.output


def test_every_option_that_may_be_given_again_says_so() -> None:
    """--help tells which options add up when repeated (-f, --sink, --nsp …); one that says
    nothing reads as if the last one won."""
    import click

    from ioproto.cli import register_plugin_commands

    pm = make_plugin_manager()
    cli = build_cli()
    register_plugin_commands(pm, cli)
    group = click.Context(cli, obj=CliState(pm))
    silent = [
        f"{name} {param.opts[-1]}"
        for name in cli.list_commands(group)
        for param in cli.get_command(group, name).get_params(group)  # type: ignore[union-attr]
        if isinstance(param, click.Option)
        and param.multiple
        and "repeatable" not in (param.help or "")
    ]
    assert silent == []
