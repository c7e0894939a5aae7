"""A user's ordinary mistake ends the command with status 2 and one line on stderr that says
what is wrong and what to do: no traceback, no output, never silently ignored (issue 11,
item 3). Each case runs the real command (``python -m ioproto``) in a subprocess."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from clirun import IOPROTO, run_ioproto, run_ioproto_bytes

ROOT = Path(__file__).resolve().parents[2]
CHAT = str(ROOT / "examples" / "chat.pcap")
MISSING = "/nonexistent-ioproto-test/x"


def assert_mistake(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """Status 2, nothing on stdout, one line on stderr holding every ``expected`` text."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ioproto: error: "), lines[0]
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["decode", "-o", MISSING, CHAT], ["-o/--output", "does not exist", "create it"]),
        (["decode", "--sink", f"jsonl:{MISSING}", CHAT], [f"jsonl:{MISSING}", "does not exist"]),
        (["stats", "--chart", f"{MISSING}.html", CHAT], ["chart", "does not exist"]),
        (["dashboard", "--export", f"{MISSING}.html", CHAT], ["report", "does not exist"]),
        (["stats", "--chart", "c.png", CHAT], ["the chart is an HTML page; name it c.html"]),
        (["dashboard", "--export", "r.pdf", CHAT], ["the report is an HTML page; name it r.html"]),
        (
            ["decode", "examples"],
            ["examples is a directory", "e.g. examples/*.pcap (1 file in it looks like a capture)"],
        ),
        (["decode", "--limit", "max_paylod=1", CHAT], ["(did you mean max_payload?)"]),
        (["decode", "--max-payload", "-5", CHAT], ["--max-payload", "'-5' is not a number of"]),
        (["decode", "--max-payload", "0", CHAT], ["--max-payload", "'0': give 1 or more"]),
        (
            ["proxy", "--upstream", "3000", "--spool", "1X"],
            ["--spool", "'1X' is not a number of bytes like 16M, 64K or 1048576"],
        ),
        (["decode", "-D", "revision=", CHAT], ["'revision=' gives revision no value"]),
        (["decode", "--source-option", "port= ", CHAT], ["'port= ' gives port no value"]),
        (
            ["decode", "--no-classify", "clinet", CHAT],
            ["--no-classify 'clinet': no such classifier (did you mean client?)", "valid: all,"],
        ),
        (["monitor", "--limit", "10", CHAT], ["'10' is not NAME=VALUE", "head -n N"]),
        # commands are imported on use: the suggestion is among all of them, not the loaded
        (["decod", CHAT], ["No such command 'decod' (did you mean decode?)"]),
        (["mon", CHAT], ["No such command 'mon' (did you mean monitor?)"]),
        (["decode", "/nonexistent-ioproto-test.pcap"], ["no such file: /nonexistent"]),
        (["decode", "--source", "pcap", MISSING], [f"no such file: {MISSING}"]),
        (
            ["decode", "--source-option", "colour=red", CHAT],
            ["--source-option 'colour'", "pcap", "valid: idle_timeout", "port"],
        ),
        (
            ["decode", "--source-option", "all_http=true", CHAT],
            ["'all_http'", "a decoder's option: -D all_http=VALUE"],
        ),
        (["decode", "-D", "parser=msgpack", CHAT], ["'parser'", "valid:", "socketio_parser"]),
        (["decode", "--decode-option", "nosuch=1", CHAT], ["'nosuch'", "revision"]),
        (["monitor", "--type", "EVNT", CHAT], ["--type 'EVNT'", "valid:", "EVENT", "ping"]),
        (["proxy", "--upstream", "ftp://127.0.0.1:3000"], ["http:// or https://", "3000"]),
        (["proxy", "--upstream", "http://127.0.0.1:99999"], ["bad port", "1 to 65535"]),
        (["proxy", "--upstream", " "], ["--upstream", "give the server to forward to"]),
        (
            ["proxy", "--upstream", "http//127.0.0.1:37005"],
            [
                "--upstream 'http//127.0.0.1:37005' is not an http:// URL (did you mean "
                "http://127.0.0.1:37005?)"
            ],
        ),
        (
            ["proxy", "--upstream", "https:/example.org"],
            [
                "--upstream 'https:/example.org' is not an https:// URL (did you mean "
                "https://example.org?)"
            ],
        ),
        (["proxy", "--upstream", "http://127.0.0.1:0"], ["'http://127.0.0.1:0' has a bad port"]),
        (
            ["proxy", "--listen", "127.0.0.1:37005", "--upstream", "http://localhost:37005/"],
            ["--upstream is this proxy's own --listen address: it would forward to itself"],
        ),
        (
            ["proxy", "--listen", "0.0.0.0:37005", "--upstream", "37005"],
            ["--upstream is this proxy's own --listen address"],
        ),
        (["decode", "cdp:127.0.0.1:99999"], ["'cdp:127.0.0.1:99999' is not cdp:HOST:PORT"]),
        (["decode", "--sink", "text", "--sink", "text", CHAT], ["--sink text is given twice"]),
        (
            ["decode", "-D", "revision=4", "-D", "revision=3", CHAT],
            ["revision is given twice ('4' and '3')"],
        ),
        (
            ["decode", "--port", "3000", "--source-option", "port=47020", CHAT],
            ["--port and --source-option port= both choose the ports"],
        ),
        (
            ["decode", "--sink", "parquet:pq", "-o", "x.txt", CHAT],
            ["-o x.txt: --sink parquet writes its own files, one per input in pq; leave -o out"],
        ),
        (
            ["proxy", "--listen", "nosuchhost.invalid:0", "--upstream", "http://127.0.0.1:9"],
            ["no such host: nosuchhost.invalid;", "--listen HOST:PORT"],
        ),
    ],
    ids=[
        "output",
        "sink-path",
        "chart",
        "dashboard-export",
        "chart-not-html",
        "export-not-html",
        "directory-input",
        "limit-name",
        "max-payload-negative",
        "max-payload-zero",
        "spool-unit",
        "decode-option-empty",
        "source-option-empty",
        "no-classify-name",
        "limit-count",
        "command-misspelt",
        "command-shortened",
        "missing-input",
        "missing-input-named-source",
        "source-option",
        "decode-option-at-the-source",
        "decode-option",
        "decode-option-long",
        "type",
        "upstream-scheme",
        "upstream-port",
        "upstream-empty",
        "upstream-scheme-typo",
        "upstream-scheme-typo-https",
        "upstream-port-zero",
        "upstream-is-listen",
        "upstream-is-listen-wildcard",
        "cdp-address",
        "sink-twice",
        "option-twice",
        "port-twice",
        "output-with-per-input-sink",
        "listen-host",
    ],
)
def test_a_mistake_is_one_line_and_status_2(args: list[str], expected: list[str]) -> None:
    assert_mistake(run_ioproto(*args), *expected)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("max_connections=abc", "give a whole number"),
        ("revision=abc", "give one of 2, 3, 4"),
        ("revision=5", "give one of 2, 3, 4"),
        ("socketio_revision=6", "give one of 4, 5"),
        ("socketio_parser=msgpak", "give one of auto, msgpack, default"),
        ("all_http=maybe", "give true or false"),
        ("force_revision=ture", "give true or false"),
    ],
)
def test_a_bad_decode_option_value_is_one_line(option: str, expected: str) -> None:
    """A value a decoder cannot use is not silently read as its default."""
    name, _, value = option.partition("=")
    assert_mistake(run_ioproto("decode", "-D", option, CHAT), f"option {name}={value!r}", expected)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--sink", "jsonl", "--sink-option", "nosuch=1"], ["nosuch", "valid: flush, raw"]),
        (["--sink", "jsonl", "--sink-option", "jsnol.raw=true"], ["'jsnol'", "sinks:", "jsonl"]),
        (["--sink-option", "jsonl.rwa=true"], ["jsonl.rwa", "jsonl sink", "valid: flush, raw"]),
        (["--sink-option", "jsonl.paht=x"], ["jsonl.paht", "give the file as --sink jsonl:FILE"]),
        (["--sink", "jsonl", "--sink-option", "utc=true"], ["utc", "jsonl sink"]),
        (["--sink", "monitor", "--sink-option", "width=abc"], ["width='abc'", "whole number"]),
        (["--sink", "monitor", "--sink-option", "time=xyz"], ["time='xyz'", "local, utc"]),
        (["--sink", "stats", "--sink-option", "top=abc"], ["top='abc'", "whole number"]),
        (["--sink", "jsonl", "--sink-option", "flush=maybe"], ["flush='maybe'", "true or false"]),
        (["--sink", "parquet", "-o", MISSING, "--sink-option", "raw=maybe"], ["raw='maybe'"]),
        (["--sink", "parquet", "-o", MISSING, "--sink-option", "row_group_rows=0"], ["least 1"]),
        (
            ["--sink", "prometheus", "--sink-option", "top_events=abc"],
            ["top_events='abc'", "whole number"],
        ),
        (
            ["--sink", "dashboard", "--sink-option", "sessions=-1"],
            ["sessions='-1'", "at least 1"],
        ),
        (
            ["--sink", "dashboard", "--sink-option", "interval=0"],
            ["interval='0'", "at least 0.05"],
        ),
    ],
)
def test_a_bad_sink_option_is_one_line(args: list[str], expected: list[str]) -> None:
    assert_mistake(run_ioproto("decode", *args, CHAT), *expected)


def test_a_sink_option_for_every_sink_reaches_those_that_take_it(tmp_path: Path) -> None:
    """``width`` is the monitor's: the jsonl sink beside it is not given it (the pipeline
    refuses an option a sink does not take)."""
    out = tmp_path / "records.jsonl"
    result = run_ioproto(
        "decode", "--sink", f"jsonl:{out}", "--sink", "monitor", "--sink-option", "width=60", CHAT
    )
    assert result.returncode == 0, result.stderr
    assert out.read_text().count("\n") > 100
    plain = run_ioproto("decode", "--sink", f"jsonl:{out}", "--sink", "monitor", CHAT)
    assert result.stdout != plain.stdout  # the monitor took it


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--source-option", "parallel=maybe"], "parallel='maybe': give true or false"),
        (["--source-option", "shard=sure", "--jobs", "1"], "shard='sure': give true or false"),
        (["--source-option", "split=nah"], "split='nah': give true or false"),
        (["--source-option", "route_bytes=abc", "--jobs", "1"], "route_bytes='abc'"),
        (["--source-option", "max_connections=-5"], "give a whole number of at least 1"),
        (["--source-option", "idle_timeout=-1"], "give a number of at least 0"),
        (["--source-option", "max_reorder_bytes=0"], "max_reorder_bytes='0'"),
        (["--source-option", "port=abc"], "give ports from 1 to 65535"),
        (["--source-option", "port=3000,x"], "give ports from 1 to 65535"),
        (["--port", "70000"], "'--port': 70000 is not in the range 1<=x<=65535"),
        (
            ["--source", "lines", "--source-option", "revision=9", "tests/data/binary.log.jsonl"],
            "one of 2, 3, 4",
        ),
        (
            ["--source", "lines", "--source-option", "direction=up", "tests/data/binary.log.jsonl"],
            "c2s, s2c",
        ),
        (
            [
                "--source",
                "lines",
                "--source-option",
                "escapes=maybe",
                "tests/data/binary.log.jsonl",
            ],
            "true or false",
        ),
        (["--source-option", "all=maybe", "tests/data/har/chromium-socketio.har"], "true or"),
        (["--source-option", "count=abc", "live:lo"], "count='abc': give a whole number"),
        (["--source-option", "duration=soon", "live:lo"], "duration='soon': give a number"),
        (["--source-option", "buffer=-3", "live:lo"], "buffer='-3': give a whole number"),
        (["--source-option", "max_line=abc", "collect:127.0.0.1:0"], "max_line='abc'"),
        (["--source-option", "duration=x", "collect:127.0.0.1:0"], "duration='x'"),
        (["--source-option", "reorder=x", "cdp:http://127.0.0.1:9"], "reorder='x'"),
        (
            [
                "--source-option",
                "upstream=http://127.0.0.1:9",
                "--source-option",
                "spool=-1",
                "proxy:0",
            ],
            "spool='-1': give a whole number of at least 0",
        ),
        (["--source-option", "upstream=ftp://x", "proxy:0"], "http:// or https://"),
        (["--source-option", "upstream=http:/x:1", "proxy:0"], "(did you mean http://x:1?)"),
        (
            ["--source-option", "upstream=37005", "proxy:localhost:37005"],
            "upstream=37005 is this proxy's own address (proxy:localhost:37005)",
        ),
    ],
)
def test_a_bad_source_option_value_is_one_line(args: list[str], expected: str) -> None:
    """A source option's value that is not one it takes (also when this run would not read
    it, as ``shard`` under ``--jobs 1``) is not silently read as its default or as "no"."""
    if not args[-1].startswith(("tests/", "live:", "collect:", "cdp:", "proxy:")):
        args = [*args, CHAT]
    assert_mistake(run_ioproto("decode", *args), expected)


SOURCE_VALUE = (["--source-option", "max_connections=-5"], "max_connections='-5'")
DECODE_VALUE = (["-D", "revision=7"], "revision='7': give one of 2, 3, 4")


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        (["decode", "-o", "{out}"], SOURCE_VALUE),
        (["decode", "-o", "{out}"], DECODE_VALUE),
        (["decode", "-o", "{out}"], (["--sink-option", "time=x"], "time='x'")),
        (["decode", "--sink", "jsonl:{out}", "--sink", "stats"], SOURCE_VALUE),
        (
            ["decode", "--sink", "jsonl:{out}", "--sink", "stats"],
            (["--sink-option", "stats.top=x"], "top='x'"),
        ),
        (["decode", "--sink", "parquet:{dir}"], DECODE_VALUE),
        (["decode", "--sink", "parquet:{dir}"], (["--sink-option", "compression=rar"], "'rar'")),
        (["stats", "--chart", "{page}"], SOURCE_VALUE),
        (["stats", "--chart", "{page}"], DECODE_VALUE),
        (["dashboard", "--no-browser"], SOURCE_VALUE),
        (["dashboard", "--no-browser"], (["--sink-option", "interval=0"], "interval='0'")),
    ],
)
def test_a_bad_option_value_costs_nothing(
    tmp_path: Path, args: list[str], bad: tuple[list[str], str]
) -> None:
    """Source, decode and sink option values are checked before any output is opened: a
    file is not emptied, a directory not made, a dashboard not served (and no browser tab
    opened) for a run that ends at once."""
    out, page, folder = tmp_path / "out.txt", tmp_path / "chart.html", tmp_path / "archive"
    out.write_text("earlier results\n")
    page.write_text("<p>earlier chart</p>\n")
    names = {"out": str(out), "page": str(page), "dir": str(folder)}
    given, expected = bad
    result = run_ioproto(*[arg.format(**names) for arg in args], *given, CHAT)
    assert_mistake(result, expected)
    assert out.read_text() == "earlier results\n"
    assert page.read_text() == "<p>earlier chart</p>\n"
    assert not folder.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["proxy", "--listen", "nosuchhost.invalid:0", "--upstream", "http://127.0.0.1:9"],
        ["decode", "--source-option", "upstream=http://x:1", "proxy:nosuchhost.invalid:0"],
    ],
    ids=["proxy-command", "proxy-source"],
)
def test_an_input_that_cannot_be_opened_costs_no_output(tmp_path: Path, args: list[str]) -> None:
    """Found only when the input opens, after the outputs did: still, yesterday's file is
    left as it was, and a file the run made is removed."""
    old, new = tmp_path / "old.jsonl", tmp_path / "new.txt"
    old.write_text("yesterday's records\n")
    result = run_ioproto(*args, "--sink", f"jsonl:{old}", "-o", str(new))
    assert_mistake(result, "nosuchhost.invalid")
    assert old.read_text() == "yesterday's records\n"
    assert not new.exists()


def test_every_bundled_source_and_sink_checks_its_option_values() -> None:
    from ioproto.components import optional
    from ioproto.plugins import collect_components, make_plugin_manager

    components = collect_components(make_plugin_manager())
    for kind, registry in (("Source", components.sources), ("SinkFactory", components.sinks)):
        for item in registry.items():
            if optional(item.component, kind, "options"):
                assert optional(item.component, kind, "check_options") is not None, item.name


@pytest.mark.parametrize(
    ("given", "meant"),
    [("localhost:3000", "http://localhost:3000"), ("3000", "http://127.0.0.1:3000")],
)
def test_an_upstream_without_its_scheme_is_taken(given: str, meant: str) -> None:
    result = run_ioproto(
        "proxy", "--listen", "127.0.0.1:0", "--upstream", given, "--duration", "0.5s"
    )
    assert result.returncode == 0, result.stderr
    assert f"-> {meant}\n" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["decode", "-o", "{capture}"], "-o/--output would overwrite the input"),
        (["decode", "--sink", "jsonl:{capture}"], "--sink jsonl:"),
        (["stats", "--chart", "{capture}"], "stats chart="),
        (["dashboard", "--export", "{capture}"], "dashboard export="),
        (["decode", "--sink", "jsonl:{out}", "--sink", "text:{out}"], "write the same file"),
        (["decode", "-o", "{out}", "--sink", "text", "--sink", "jsonl:{out}"], "the same file"),
    ],
)
def test_an_output_never_overwrites_an_input_or_another_output(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    """Opening the input for writing would empty the capture before it is read."""
    capture = tmp_path / "chat.pcap"
    capture.write_bytes(Path(CHAT).read_bytes())
    names = {"capture": str(capture), "out": str(tmp_path / "out.txt")}
    assert_mistake(run_ioproto(*[arg.format(**names) for arg in args], str(capture)), expected)
    assert capture.read_bytes() == Path(CHAT).read_bytes()
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.parametrize(
    "args",
    [["-o", "{har}"], ["--sink", "jsonl:{har}"], ["--source-option", "record={har}"]],
    ids=["-o", "--sink NAME:PATH", "record="],
)
def test_the_har_a_source_writes_is_no_other_output(tmp_path: Path, args: list[str]) -> None:
    """``browse --har x -o x`` (the cdp source's ``har=``) is refused as two outputs
    writing one file are, before the browser is reached and the file kept; the records
    were written to it, then the HAR replaced them (status 0)."""
    har = tmp_path / "session.har"
    har.write_text("yesterday's\n")
    given = [arg.format(har=har) for arg in args]
    result = run_ioproto("monitor", "--source-option", f"har={har}", *given, "cdp:127.0.0.1:9")
    assert_mistake(result, f"--source-option har={har}", "write the same file")
    assert har.read_text() == "yesterday's\n"
    assert os.listdir(tmp_path) == ["session.har"]


@pytest.mark.parametrize(
    ("har_option", "said"),
    [
        (["--har", "{har}"], "--har {har}"),
        (["--source-option", "har={har}"], "--source-option har={har}"),
    ],
    ids=["--har", "--source-option har="],
)
def test_browse_names_the_har_option_as_it_was_given(
    tmp_path: Path, har_option: list[str], said: str
) -> None:
    """``browse --har x -o x`` said ``--source-option har=x``, an option the user never typed."""
    har = tmp_path / "session.har"
    har.write_text("yesterday's\n")
    given = [arg.format(har=har) for arg in har_option]
    line = assert_mistake(run_ioproto("browse", *given, "-o", str(har), "127.0.0.1:9"))
    expected = f"-o/--output and {said.format(har=har)} write the same file; give each its own"
    assert f"ioproto: error: {expected}" == line
    assert har.read_text() == "yesterday's\n"


@pytest.mark.parametrize(
    "args",
    [["decode", "-o", "", CHAT], ["decode", "--sink", "jsonl:", CHAT], ["stats", "-o", "", CHAT]],
    ids=["-o", "--sink NAME:", "stats -o"],
)
def test_an_empty_output_path_is_said_to_be_empty(args: list[str]) -> None:
    """``-o "$OUT"`` with ``OUT`` unset was 'the folder /work/... takes no new files'."""
    assert_mistake(run_ioproto(*args), "cannot write : the path is empty; give a file name")


@pytest.mark.parametrize(
    "args",
    [
        ["stats", "--chart", "", CHAT],
        ["dashboard", "--no-browser", "--export", "", CHAT],
        ["browse", "--har", "", "127.0.0.1:9"],
    ],
    ids=["stats --chart", "dashboard --export", "browse --har"],
)
def test_an_empty_file_option_is_said_to_be_empty(args: list[str]) -> None:
    """``--chart ''`` was taken for no chart, and ``dashboard --export ''`` served the page
    instead of writing it."""
    option = args[args.index("") - 1]
    assert_mistake(run_ioproto(*args), f"'{option}': the path is empty; give a file name")


def test_a_text_file_that_is_no_capture() -> None:
    """A README given by mistake is not read as 177 lines of bad packets."""
    assert_mistake(run_ioproto("decode", "README.md"), "no capture source can read 'README.md'")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("har", "the har source cannot read stdin ('-'); name the file instead: --source har"),
        ("live", "the live source cannot read stdin ('-'); give it live:… or iface:…"),
    ],
)
def test_a_named_source_that_cannot_read_stdin(tmp_path: Path, source: str, expected: str) -> None:
    """Not "no such file: -": the file is not missing, the source does not read stdin. Said
    before any output is made."""
    archive = tmp_path / "archive"
    assert_mistake(run_ioproto("decode", "--source", source, "-"), expected)
    assert_mistake(
        run_ioproto("decode", "--source", source, "--sink", f"parquet:{archive}", "-"), expected
    )
    assert not archive.exists()


def test_a_named_source_that_reads_stdin_still_does() -> None:
    for source, given in (("pcap", Path(CHAT).read_bytes()), ("lines", b"4hello\n")):
        result = run_ioproto_bytes(
            "decode", "--source", source, "--sink", "jsonl", "-", input=given
        )
        assert result.returncode == 0, (source, result.stderr)
        assert result.stdout, source


def test_good_source_option_values_pass() -> None:
    for option in ("parallel=no", "shard=false", "port=47020", "port=47020,3000", "split=on"):
        result = run_ioproto("decode", "--sink", "jsonl", "--source-option", option, CHAT)
        assert result.returncode == 0, (option, result.stderr)
        assert result.stdout, option


@pytest.mark.parametrize(
    "args",
    [
        ["--sink-option", "text.utc=true"],  # the default sink's (text when piped)
        ["--sink-option", "monitor.width=100"],  # a terminal's default sink
        ["--sink", "text", "--sink", "jsonl", "--sink-option", "utc=true"],  # one of them
        ["--sink-option", "stats.format=json"],  # a sink not in the run: unused
        ["--sink", "jsonl", "--sink-option", "raw=yes"],
    ],
)
def test_good_sink_options_pass(args: list[str]) -> None:
    result = run_ioproto("decode", *args, CHAT)
    assert result.returncode == 0, (args, result.stderr)
    assert result.stdout


def test_good_decode_option_values_pass() -> None:
    for option in ("revision=3", "socketio_revision=4", "socketio_parser=MSGPACK", "all_http=no"):
        result = run_ioproto("decode", "--sink", "jsonl", "-D", option, CHAT)
        assert result.returncode == 0, (option, result.stderr)


def test_the_chart_is_not_silently_skipped(tmp_path: Path) -> None:
    result = run_ioproto("stats", "--chart", str(tmp_path / "no" / "such" / "x.html"), CHAT)
    assert_mistake(result, "cannot write the chart")


#: Every command that listens on an address it is given, with ``{listen}`` where the
#: address goes, and how its message says to choose another.
LISTENERS = {
    "proxy": (["proxy", "--listen", "{listen}", "--upstream", "http://127.0.0.1:9"], "--listen"),
    "collect": (["collect", "--listen", "{listen}", "--duration", "1s"], "--listen"),
    "dashboard": (["dashboard", "--no-browser", "--listen", "{listen}", CHAT], "--listen"),
    "prometheus": (["decode", "--sink", "prometheus:{listen}", CHAT], "--sink prometheus:"),
    # decode has no --listen: the line names the sink option the address was given with
    "dashboard-sink": (
        ["decode", "--sink", "dashboard", "--sink-option", "listen={listen}", CHAT],
        "--sink-option dashboard.listen=HOST:PORT",
    ),
    "prometheus-listen": (
        ["decode", "--sink", "prometheus", "--sink-option", "listen={listen}", CHAT],
        "--sink-option prometheus.listen=HOST:PORT",
    ),
    "prometheus-address": (
        ["decode", "--sink", "prometheus", "--sink-option", "prometheus.address={listen}", CHAT],
        "--sink-option prometheus.address=HOST:PORT",
    ),
}
#: The demo listens on 127.0.0.1 only: it is given a port alone.
PORT_LISTENERS = {
    **LISTENERS,
    "demo": (["demo", "--port", "{port}", "--clients", "0", "--duration", "1s"], "--port N"),
}


def listener(name: str, listen: str) -> list[str]:
    port = listen.rpartition(":")[2]
    return [arg.format(listen=listen, port=port) for arg in PORT_LISTENERS[name][0]]


@pytest.mark.parametrize("name", PORT_LISTENERS)
def test_every_listener_says_its_port_is_in_use(busy_port: int, name: str) -> None:
    line = assert_mistake(run_ioproto(*listener(name, f"127.0.0.1:{busy_port}")))
    how = PORT_LISTENERS[name][1]
    assert f"port {busy_port} on 127.0.0.1 is in use: pick another with {how}" in line, line
    # the listener's own words, not wrapped as a plugin that failed to open
    assert "Error" not in line.removeprefix("ioproto: error: "), line


@pytest.mark.parametrize("name", LISTENERS)
@pytest.mark.parametrize(
    ("listen", "expected"),
    [
        # 192.0.2.0/24 is for documentation: no machine has it (nothing is sent, only bound).
        ("192.0.2.1:8080", "192.0.2.1 is not an address of this machine: listen on one"),
        ("nosuchhost.invalid:8080", "no such host: nosuchhost.invalid; listen on an address"),
        ("http://127.0.0.1:8080/app", "'http://127.0.0.1:8080/app': give "),
        ("https://127.0.0.1:8080", "a URL is taken only as http://HOST:PORT"),
        ("127.0.0.1:99999", "the port must be 0-65535"),
    ],
)
def test_every_listener_says_what_is_wrong_with_its_address(
    name: str, listen: str, expected: str
) -> None:
    """One line each, no errno text ("[Errno 99]"), the same words for every command."""
    line = assert_mistake(run_ioproto(*listener(name, listen)), expected)
    assert "Errno" not in line and "error while attempting" not in line, line


@pytest.mark.skipif(
    shutil.which("setpriv") is None or os.geteuid() != 0,
    reason="needs root and setpriv to take the right to ports below 1024 away",
)
@pytest.mark.parametrize("name", PORT_LISTENERS)
def test_every_listener_says_a_low_port_needs_root(name: str) -> None:
    drop = ["setpriv", "--inh-caps=-net_bind_service", "--bounding-set=-net_bind_service"]
    result = subprocess.run(
        [*drop, *IOPROTO, *listener(name, "127.0.0.1:80")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert_mistake(result, "port 80 on 127.0.0.1 is below 1024", "pick one from 1024 up")


def test_a_listening_url_is_taken_as_its_host_and_port() -> None:
    """``--listen http://127.0.0.1:PORT``, as the commands print their address, is that
    address (the proxy names its input by it)."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    result = run_ioproto(*listener("proxy", f"http://127.0.0.1:{port}/"), "--duration", "0.5s")
    assert result.returncode == 0, result.stderr
    assert f"proxy listening on http://127.0.0.1:{port} -> " in result.stderr
    assert f"ioproto: proxy:127.0.0.1:{port}: no client sent anything" in result.stderr


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump missing")
@pytest.mark.parametrize(
    "args",
    [
        ["decode", "live:nosuch0"],
        # Sinks that say where they serve say it once the input has opened: not here.
        ["dashboard", "--no-browser", "live:nosuch0"],
        ["decode", "--sink", "prometheus:127.0.0.1:0", "live:nosuch0"],
    ],
    ids=["decode", "dashboard", "prometheus"],
)
def test_an_unknown_interface(args: list[str]) -> None:
    assert_mistake(run_ioproto(*args), "nosuch0", "ip link")


def test_no_tcpdump_says_what_to_install(tmp_path: Path) -> None:
    result = run_ioproto("decode", "--source-option", f"tcpdump={tmp_path / 'none'}", "live:lo")
    assert_mistake(result, "cannot run", "none")


def test_proto_lists_layers_only() -> None:
    line = assert_mistake(
        run_ioproto("decode", "--proto", "sockets", CHAT), "unknown layer 'sockets'"
    )
    valid = line.split("valid: ", 1)[1].split(" (see", 1)[0].split(", ")
    assert {"engineio", "socketio", "chunk"} <= set(valid)
    assert not {"socketio-msgpack", "app-game", "app-game-engineio"} & set(valid), valid


def test_the_app_layer_says_it_needs_a_plugin() -> None:
    result = run_ioproto("decode", "--proto", "app", CHAT)
    if result.returncode == 0:
        pytest.skip("an application-protocol plugin is installed here")
    assert_mistake(result, "unknown layer 'app'", "docs/writing-a-plugin.md")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["decode", "--proto", "sio", CHAT], "unknown layer 'sio' (did you mean socketio?)"),
        (["decode", "--source", "pcpa", CHAT], "unknown source 'pcpa' (did you mean pcap?)"),
        (["decode", "--sink", "jsnol", CHAT], "unknown sink 'jsnol' (did you mean jsonl?)"),
        (["decode", "-D", "revison=4", CHAT], "'revison': no decoder takes it (did you mean"),
        (["decode", "--source-option", "shrad=true", CHAT], "(did you mean shard?)"),
        (["monitor", "--type", "evnt", CHAT], "(did you mean EVENT?)"),
    ],
    ids=["layer", "source", "sink", "decode-option", "source-option", "type"],
)
def test_a_misspelt_name_gets_a_suggestion(args: list[str], expected: str) -> None:
    assert_mistake(run_ioproto(*args), expected, "valid: ")


@attrs.frozen
class OptionKind:
    """How the command and the library name an option of one kind, and where they say the
    other kind's option goes."""

    flag: str  # the command's option
    argument: str  # ioproto.decode's argument
    said: str  # how the library's message names it
    elsewhere: str  # the hint for a name the other kind takes
    by_command: str  # how the command's user gives the other kind's option
    by_library: str  # how a program gives it


DECODER = OptionKind(
    flag="--decode-option",
    argument="options",
    said="decoder option",
    elsewhere="is a source's option",
    by_command="--source-option {}=VALUE",
    by_library="source_options={{'{}': ...}}",
)
SOURCE = OptionKind(
    flag="--source-option",
    argument="source_options",
    said="source option",
    elsewhere="is a decoder's option",
    by_command="-D {}=VALUE",
    by_library="options={{'{}': ...}}",
)


@pytest.mark.parametrize(
    ("kind", "name", "other_kinds"),
    [
        (DECODER, "revison", False),
        (DECODER, "nosuch", False),
        (DECODER, "idle_timeout", True),  # the pcap source's
        (SOURCE, "prot", False),
        (SOURCE, "nosuch", False),
        (SOURCE, "all_http", True),  # the http decoder's
    ],
    ids=lambda value: value.flag if isinstance(value, OptionKind) else str(value),
)
def test_an_option_name_nothing_takes_is_said_alike_by_the_command_and_the_library(
    kind: OptionKind, name: str, other_kinds: bool
) -> None:
    """One check each (ioproto.decodeoptions, ioproto.sourceoptions): the same words after
    each one's own way of naming the option, and of giving the other kind's option."""
    import ioproto

    line = assert_mistake(
        run_ioproto("decode", kind.flag, f"{name}=1", CHAT), f"{kind.flag} {name!r}: "
    )
    with pytest.raises(ioproto.UsageError) as raised:
        next(ioproto.decode(CHAT, **{kind.argument: {name: 1}}))  # a source's: at next()
    by_command = line.split(f"{kind.flag} {name!r}: ", 1)[1].removesuffix(" (docs/cli.md)")
    by_library = str(raised.value).removeprefix(f"{kind.said} {name!r}: ")
    hint = f"; {name} {kind.elsewhere}: "
    assert by_library.split(hint)[0] == by_command.split(hint)[0]
    assert "valid: " in by_library
    if other_kinds:
        assert by_command.endswith(hint + kind.by_command.format(name))
        assert by_library.endswith(hint + kind.by_library.format(name))
    else:
        assert hint not in by_command + by_library


def test_click_usage_errors_are_one_line_too() -> None:
    assert_mistake(run_ioproto("decode"), "Missing argument", "ioproto decode --help")
    assert_mistake(run_ioproto("decode", "--no-such-option", CHAT), "--no-such-option")


def test_a_named_option_that_exists_is_taken(tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    result = run_ioproto(
        "decode", "--source-option", "idle_timeout=60", "-D", "all_http=true",
        "--sink", f"jsonl:{out}", CHAT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and out.read_text().count("\n") > 100


def test_a_demo_tapped_to_a_bad_collector_address_says_which() -> None:
    result = run_ioproto(
        "demo", "--tap", "--port", "0", "--duration", "1s",
        env={"IOPROTO_COLLECTOR": "127.0.0.1:x"},
    )  # fmt: skip
    assert_mistake(result, "$IOPROTO_COLLECTOR: '127.0.0.1:x' is not HOST:PORT")


def test_a_file_name_that_is_not_utf8_is_shown_with_its_bytes_escaped(tmp_path: Path) -> None:
    """A name holding a byte the file system's encoding cannot decode (caf\\xff) reads as
    caf\\xff in every message, not as Python's surrogate escape caf\\udcff."""
    folder = os.fsdecode(bytes(tmp_path) + b"/nodir\xff")
    shown = f"{tmp_path}/nodir\\xff"
    line = assert_mistake(run_ioproto("decode", "-o", f"{folder}/out.txt", CHAT))
    assert f"cannot write {shown}/out.txt: the folder {shown} does not exist" in line, line
    line = assert_mistake(run_ioproto("decode", f"{folder}.pcap"))
    assert line == f"ioproto: error: no such file: {shown}.pcap", line
    empty = bytes(tmp_path) + b"/caf\xff.pcap"
    Path(os.fsdecode(empty)).write_bytes(b"")
    result = run_ioproto("decode", os.fsdecode(empty))
    assert result.returncode == 1, result.stderr
    assert result.stderr == f"ioproto: {tmp_path}/caf\\xff.pcap: the file is empty (0 bytes)\n"


def run_failing(raised: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``ioproto fields`` whose command raises ``raised`` (Python source): a bug of the kind
    the top-level handlers turn into one line."""
    script = (
        "import errno, ioproto.cli.introspect as m\n"
        "from ioproto.errors import UsageError\n"
        "def broken(*args, **kwargs):\n"
        f"    raise {raised}\n"
        "m.fields_command.callback = broken\n"
        "from ioproto.cli import main\n"
        "main(['fields'])\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_an_oserror_of_a_bug_says_how_to_see_where() -> None:
    result = run_failing("OSError(errno.EINVAL, 'Invalid argument')")
    assert result.returncode == 1
    assert result.stderr == ("ioproto: error: Invalid argument (IOPROTO_DEBUG=1 shows where)\n"), (
        result.stderr
    )


def test_the_system_refusing_is_one_line_without_a_hint() -> None:
    result = run_failing("OSError(errno.ENOSPC, 'No space left on device', '/data/out')")
    assert result.returncode == 1
    assert result.stderr == "ioproto: error: No space left on device: /data/out\n"


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        ("OSError(errno.EINVAL, 'Invalid argument')", 1),
        ("OSError(errno.ENOSPC, 'No space left on device')", 1),
        ("UsageError('a bad value')", 2),
    ],
)
def test_ioproto_debug_shows_the_traceback(raised: str, status: int) -> None:
    result = run_failing(raised, {"IOPROTO_DEBUG": "1"})
    assert result.returncode == status
    assert result.stderr.startswith("Traceback (most recent call last):"), result.stderr
    assert "in broken" in result.stderr
    assert "ioproto: error:" not in result.stderr


def test_ioproto_debug_0_is_off() -> None:
    result = run_failing("UsageError('a bad value')", {"IOPROTO_DEBUG": "0"})
    assert result.returncode == 2
    assert result.stderr == "ioproto: error: a bad value\n"


def test_a_sink_that_cannot_open_its_folder_says_so_as_a_mistake(tmp_path: Path) -> None:
    """A sink's ``open`` refusing a setting (ValueError) is the user's mistake in the sink's
    own words, not a plugin that failed to open."""
    (tmp_path / "file").write_text("")
    line = assert_mistake(
        run_ioproto("decode", "--sink", f"parquet:{tmp_path / 'file' / 'out'}", CHAT)
    )
    assert line.startswith("ioproto: error: cannot write into "), line
    assert "failed to open" not in line, line


#: Every option that names a file or folder a run writes, with ``{path}`` where it goes.
OUTPUTS = {
    "output": ["decode", "-o", "{path}", CHAT],
    "sink-path": ["decode", "--sink", "jsonl:{path}", CHAT],
    "stats-output": ["stats", "-o", "{path}", CHAT],
    "chart": ["stats", "--chart", "{path}", CHAT],
    "chart-option": ["decode", "--sink", "stats", "--sink-option", "stats.chart={path}", CHAT],
    "export": ["dashboard", "--export", "{path}", CHAT],
    "parquet": ["decode", "--sink", "parquet:{path}", CHAT, str(ROOT / "tests/data/binary.pcap")],
    "browse-har": ["browse", "--har", "{path}", "127.0.0.1:9"],
    "cdp-record": ["decode", "--source-option", "record={path}", "cdp:127.0.0.1:9"],
}


@pytest.mark.parametrize("command", OUTPUTS.values(), ids=OUTPUTS.keys())
@pytest.mark.parametrize("where", ["proc", "under-a-file"])
def test_an_output_that_cannot_be_written_is_refused_before_decoding(
    tmp_path: Path, command: list[str], where: str
) -> None:
    """A path whose folder exists but takes no files (/proc, where root passes every
    access check) or that lies under a regular file is found by trying, before any input
    is read: one line naming it and what to do, exit 2, nothing left behind; not a sink
    failure with errno text after the whole capture was decoded."""
    (tmp_path / "file").write_text("kept\n")
    path = "/proc/ioproto-x.html" if where == "proc" else str(tmp_path / "file" / "x.html")
    line = assert_mistake(run_ioproto(*[arg.format(path=path) for arg in command]))
    assert path in line, line
    if where == "proc":
        assert "the folder /proc takes no new files; choose another path" in line, line
    else:
        assert f"{tmp_path / 'file'} is a file, not a folder; choose another path" in line, line
    assert "Errno" not in line and "failed" not in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    assert (tmp_path / "file").read_text() == "kept\n"


@pytest.mark.parametrize(
    ("command", "option", "param"),
    [
        ("decode", "--max-payload", "max_payload"),
        ("proxy", "--buffer", "buffer"),
        ("proxy", "--spool", "spool"),
        ("collect", "--max-line", "max_line"),
        ("collect", "--max-buffered", "max_buffered"),
    ],
)
def test_a_bytes_option_takes_a_size_as_limit_does(command: str, option: str, param: str) -> None:
    """``16M`` where a BYTES option is asked for, as ``--limit max_payload=16M`` takes it:
    16 MiB, not an "invalid integer range"."""
    import click

    from ioproto.cli import build_cli, register_plugin_commands
    from ioproto.cli.state import CliState
    from ioproto.plugins import make_plugin_manager

    pm = make_plugin_manager()
    cli = build_cli()
    register_plugin_commands(pm, cli)
    group = click.Context(cli, obj=CliState(pm))
    found = cli.get_command(group, command)
    assert found is not None
    upstream = ["--upstream", "3000"] if command == "proxy" else []
    args = [*upstream, option, "16M", *([CHAT] if command == "decode" else [])]
    with found.make_context(command, args, parent=group) as context:
        assert context.params[param] == 16 * 1024 * 1024


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([], "usage: python examples/compare_latency.py browser.json server.json"),
        (
            [MISSING, CHAT],
            f"compare_latency.py: cannot read {MISSING}: No such file or directory; usage: ",
        ),
        ([CHAT, CHAT], f"compare_latency.py: {CHAT} is not JSON; usage: "),
    ],
    ids=["no-arguments", "missing-file", "not-json"],
)
def test_the_latency_comparison_example_says_its_usage_in_one_line(
    args: list[str], said: str
) -> None:
    """docs/browser.md runs examples/compare_latency.py on two stats JSON files; without
    them it printed an empty line, and a path that is none a traceback."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "compare_latency.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (2, "")
    (line,) = done.stderr.splitlines()
    assert line.startswith(said), line
