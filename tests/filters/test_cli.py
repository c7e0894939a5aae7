"""``--filter`` on the commands, ``ioproto fields``, and the ``monitor`` shorthands, run as
a user runs them (a subprocess for exact stderr and exit status)."""

from __future__ import annotations

import json
from pathlib import Path

from clirun import run_ioproto

ROOT = Path(__file__).resolve().parents[2]
CHAT = str(ROOT / "examples" / "chat.pcap")


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line]


def test_decode_with_a_filter() -> None:
    done = run_ioproto("decode", "--sink", "jsonl", "--filter", 'sio.event == "typing"', CHAT)
    assert done.returncode == 0, done.stderr
    records = jsonl(done.stdout)
    assert records and all(r["event"] == "typing" for r in records)


def test_several_filters_must_all_hold() -> None:
    done = run_ioproto(
        "decode", "--sink", "jsonl", "-f", 'sio.type == "EVENT"', "-f", 'direction == "c2s"', CHAT
    )
    records = jsonl(done.stdout)
    assert records and {(r["type"], r["direction"]) for r in records} == {("EVENT", "c2s")}


def test_a_mistake_is_one_caret_line_and_exit_2() -> None:
    done = run_ioproto("decode", "--filter", 'sio.event == "chat" and latency.ack_rtt > 5kB', CHAT)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        'ioproto: --filter: sio.event == "chat" and latency.ack_rtt > 5kB',
        " " * 61 + "^ latency.ack_rtt is a duration: use units like 50ms, 1.5s, 2m",
    ]
    assert "Traceback" not in done.stderr


def test_stats_counts_only_what_the_filter_keeps() -> None:
    everything = json.loads(run_ioproto("stats", "--format", "json", CHAT).stdout)
    done = run_ioproto("stats", "--format", "json", "--filter", 'sio.event == "message"', CHAT)
    kept = json.loads(done.stdout)
    assert kept["events"]["total"] == 32 < everything["events"]["total"]
    assert [e["event"] for e in kept["events"]["by_count"]] == ["message"]


def test_monitor_shorthands_and_filter_together() -> None:
    done = run_ioproto(
        "monitor", "--no-color", "--time", "none", "--event", "typ*", "--type", "event",
        "--filter", 'direction == "c2s"', CHAT,
    )  # fmt: skip
    lines = done.stdout.splitlines()
    assert lines and all("typing(" in line and "→" in line for line in lines), done.stdout


def test_port_shorthand_and_port_filters() -> None:
    on = jsonl(run_ioproto("decode", "--sink", "jsonl", "--port", "47020", CHAT).stdout)
    off = jsonl(run_ioproto("decode", "--sink", "jsonl", "--port", "47021", CHAT).stdout)
    assert on and not off
    by_filter = run_ioproto("decode", "--sink", "jsonl", "-f", "tcp.server_port == 47020", CHAT)
    assert jsonl(by_filter.stdout) == on
    first = on[0]["connection"]
    assert isinstance(first, str)
    client_port = first.split("-")[0].rsplit(":", 1)[1]
    mine = jsonl(
        run_ioproto("decode", "--sink", "jsonl", "-f", f"tcp.port == {client_port}", CHAT).stdout
    )
    assert mine and all(r["connection"] == first for r in mine)


def test_fields_command() -> None:
    done = run_ioproto("fields")
    assert done.returncode == 0
    names = [line.split()[0] for line in done.stdout.splitlines() if line and line[0] != " "]
    for name in ["tcp.port", "http.status", "http.method", "ws.opcode", "eio.type", "eio.sid"]:
        assert name in names
    for name in ["eio.transport", "sio.type", "sio.nsp", "sio.event", "sio.ack_id", "sio.args"]:
        assert name in names
    for name in ["client.browser", "latency.ack_rtt", "app.protocol", "layer"]:
        assert name in names
    listed = json.loads(run_ioproto("fields", "--json", "sio.").stdout)
    assert {field["name"] for field in listed} >= {"sio.event", "sio.args"}
    assert all(field["plugin"] == "socketio" for field in listed)
    assert run_ioproto("fields", "nothing.").returncode == 2
    typo = run_ioproto("fields", "sio.evnt")
    assert typo.returncode == 2
    assert "(did you mean sio.event?)" in typo.stderr and "Traceback" not in typo.stderr


def test_python_api_filter() -> None:
    import ioproto as api

    records = list(api.decode(CHAT, filter='sio.event == "welcome" and sio.args[0].online >= 2'))
    assert [r.args[0]["user"] for r in records] == ["bob", "carol"]  # type: ignore[attr-defined]


DOC = ROOT / "docs" / "filters.md"


def test_filters_doc_examples_compile_and_run() -> None:
    import re

    import ioproto_example_game  # the docs' examples include its fields, as when installed

    import ioproto as api
    from ioproto.filters import compile_filter
    from ioproto.plugins import collect_components, make_plugin_manager

    text = DOC.read_text()
    pm = make_plugin_manager()
    pm.register(ioproto_example_game)
    fields = collect_components(pm).field_set()
    examples = [
        line
        for block in re.findall(r"```filter\n(.*?)```", text, re.S)
        for line in block.splitlines()
        if line.strip()
    ]
    assert len(examples) >= 15
    records = list(api.decode(CHAT, classifiers=None, all_layers=True))
    for example in examples:
        match = compile_filter(example, fields)
        [match(record) for record in records]  # never raises
    for field in fields:
        assert f"`{field.name}`" in text, f"docs/filters.md does not list {field.name}"
        compile_filter(field.example or field.name, fields)  # every field's own example


def test_filters_doc_python_snippet_runs(monkeypatch: object) -> None:
    import os
    import re

    snippets = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert snippets
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        for snippet in snippets:
            exec(compile(snippet, str(DOC), "exec"), {})
    finally:
        os.chdir(here)


def command_options() -> dict[str, set[str]]:
    """Every ``ioproto`` command (the plugins' too) and the option names it takes."""
    import click

    from ioproto.cli import build_cli, register_plugin_commands
    from ioproto.cli.state import CliState
    from ioproto.plugins import make_plugin_manager

    pm = make_plugin_manager()
    cli = build_cli()
    register_plugin_commands(pm, cli)
    context = click.Context(cli, obj=CliState(pm))
    options: dict[str, set[str]] = {}
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        assert command is not None
        options[name] = {opt for param in command.get_params(context) for opt in param.opts}
    return options


def test_filters_doc_names_the_commands_that_take_filter_and_port() -> None:
    """docs/filters.md says on which commands ``--filter`` and its ``--port`` shorthand are;
    ``demo --port`` is the demo server's own port, no filter."""
    import re

    text = DOC.read_text()
    on_filter = re.search(r"`--filter` \(`-f`\) is on (.*?), and may be given", text, re.S)
    on_port = re.search(r"^- `--port N` \((.*?)\): `tcp\.server_port", text, re.S | re.M)
    assert on_filter and on_port
    options = command_options()
    with_filter = {name for name, taken in options.items() if "--filter" in taken}
    with_port = {name for name in with_filter if "--port" in options[name]}
    assert set(re.findall(r"`(\w+)`", on_filter.group(1))) == with_filter
    assert set(re.findall(r"`(\w+)`", on_port.group(1))) == with_port
