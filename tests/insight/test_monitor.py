"""The monitor sink: rendering, the filter shorthands, colours and escaping of hostile wire
text."""

from __future__ import annotations

import io
import re

import pytest
from insighthelp import eio, handshake, run_classifiers, sio, ws_chunk
from ioproto_classify.records import SessionSummary
from ioproto_monitor.filters import glob_pattern, shorthand_expression
from ioproto_monitor.render import Clock, render_line
from ioproto_monitor.sink import MonitorSinkFactory
from ioproto_socketio.records import SocketIOUnansweredAck

from ioproto.components import SinkContext
from ioproto.filters import compile_filter
from ioproto.model import ErrorRecord, Record
from ioproto.plugins import collect_components, make_plugin_manager

FIELDS = collect_components(make_plugin_manager()).field_set()


def shorthand(**options: object) -> object:
    expression = shorthand_expression(**options)  # type: ignore[arg-type]
    assert expression is not None
    return compile_filter(expression, FIELDS)


HOSTILE = "\x1b[2J\x1b]52;c;aGVsbG8=\x07[bold red]boom\u202e\r\x9b31m"
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_FORBIDDEN = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_safe(text: str) -> None:
    """Only SGR colour codes from rich may carry ESC; no other control characters at all."""
    stripped = _SGR.sub("", text)
    assert _FORBIDDEN.search(stripped) is None, repr(stripped)


def line(record: Record) -> str:
    return "".join(text for text, _ in render_line(record, Clock("none")))


def write_all(records: list[Record], *, color: bool = False, **options: object) -> str:
    stream = io.StringIO()
    sink = MonitorSinkFactory().open(
        SinkContext(stream=stream, color=color, options={"time": "none", **options})
    )
    for record in records:
        sink.write(record)
    sink.close()
    return stream.getvalue()


def test_event_and_ack_rendering() -> None:
    event = sio("EVENT", 1.0, "c2s", event="chat", args=["hi", {"n": 1}], id=3, nsp="/admin")
    ack = sio("ACK", 1.0123, "s2c", id=3, answers=event, data=[True], nsp="/admin")
    records = run_classifiers([event, ack], ["transport", "latency"])
    assert line(records[0]) == 's1       → xhr   /admin chat("hi", {"n":1}) #3'
    assert line(records[1]).endswith("/admin ack #3 for chat (12.3 ms)")


def test_connect_disconnect_and_errors() -> None:
    assert line(sio("CONNECT", 1.0, "c2s", nsp="/admin", data={"token": "t"})).endswith(
        'connect /admin {"token":"t"}'
    )
    assert line(sio("DISCONNECT", 1.0, "c2s")).endswith("disconnect /")
    refused = sio("CONNECT_ERROR", 1.0, "s2c", nsp="/admin", data={"message": "nope"})
    assert line(refused).endswith("connect error /admin nope")
    error = ErrorRecord(
        ts=1.0, sid="s1", layer="engineio", rule="engineio.packet.empty", reason="r"
    )
    assert "error [engineio.packet.empty] r" in line(error)
    unanswered = SocketIOUnansweredAck(ts=2.0, sid="s1", direction="c2s", id=1, event="x")
    assert line(unanswered).endswith("no ack #1 for x (input ended)")


def test_control_packets_and_binary() -> None:
    records = run_classifiers(
        [
            handshake(1.0),
            eio("ping", 2.0, "s2c"),
            eio("pong", 2.0021, "c2s"),
            eio("upgrade", 3.0, "c2s", parent=ws_chunk(3.0, "c2s")),
        ]
    )
    text = [line(r) for r in records]
    assert "open sid=s1 upgrades=websocket ping=25000/20000 ms (2.00 ms) Chrome 120" in text[0]
    assert text[2].endswith("pong (2.10 ms)")
    assert text[3].endswith("upgrade (2.00 s after open)")
    binary = sio("EVENT", 1.0, "c2s", event="file", args=[b"\x00\x01" * 20], attachments=1)
    assert "file(<00 01 00 01" in line(binary) and "40 B>)" in line(binary)
    summary = next(r for r in records if isinstance(r, SessionSummary))
    assert "session polling-xhr→websocket, upgraded after 2.00 s" in line(summary)


def test_hide_control_and_filter_shorthands() -> None:
    event = sio("EVENT", 1.0, "c2s", event="chat.message", id=1, sid="abcdef")
    other = sio("EVENT", 1.0, "s2c", event="news", nsp="/admin", sid="zzz")
    ack = sio("ACK", 1.1, "s2c", id=1, answers=event, sid="abcdef")
    ping = eio("ping", 1.0, "s2c", sid="abcdef")
    records = [event, other, ack, ping]
    for options, expected in [
        ({"events": ["chat.*"]}, [True, False, True, False]),
        ({"events": ["chat*", "news"]}, [True, True, True, False]),
        ({"events": ["news"]}, [False, True, False, False]),
        ({"namespaces": ["/admin"]}, [False, True, False, False]),
        ({"sids": ["abc"]}, [True, False, True, True]),
        ({"sids": ["abc*"]}, [True, False, True, True]),  # a glob, as --event takes
        ({"sids": ["*def"]}, [True, False, True, True]),
        ({"sids": ["abc?"]}, [False, False, False, False]),  # a glob matches a whole id
        ({"sids": ["z*", "abcdef"]}, [True, True, True, True]),
        ({"types": ["ack"]}, [False, False, True, False]),
        ({"direction": "s2c"}, [False, True, True, True]),
        ({"types": ["EVENT"], "sids": ["zz", "ab"]}, [True, True, False, False]),
    ]:
        match = shorthand(**options)
        assert [match(r) for r in records] == expected, options  # type: ignore[operator]
    assert shorthand_expression() is None
    out = write_all(records, hide_control="true")
    assert out.count("\n") == 3 and "ping" not in out


@pytest.mark.parametrize(
    ("glob", "yes", "no"),
    [
        ("chat*", ["chat", "chat.x", "chat\nline"], ["xchat", "cha"]),
        ("a?c", ["abc", "a.c"], ["ac", "abbc"]),
        ("[ab]x", ["ax", "bx"], ["cx", "[ab]x"]),
        ("[!ab]x", ["cx"], ["ax"]),
        ("a.b+(c)", ["a.b+(c)"], ["aXb+(c)", "a.bb(c)"]),
        ("[", ["["], ["x"]),
    ],
)
def test_glob_patterns_match_like_fnmatch(glob: str, yes: list[str], no: list[str]) -> None:
    from fnmatch import fnmatchcase

    from ioproto.filters.regex import compile_pattern

    matches = compile_pattern(glob_pattern(glob))
    for text in yes:
        assert matches(text) and fnmatchcase(text, glob), text
    for text in no:
        assert not matches(text) and not fnmatchcase(text, glob), text


@pytest.mark.parametrize("color", [False, True])
def test_hostile_wire_text_is_escaped(color: bool) -> None:
    event = sio("EVENT", 1.0, "c2s", event=HOSTILE, args=[HOSTILE, {HOSTILE: HOSTILE}], id=1)
    ack = sio("ACK", 1.1, "s2c", id=1, answers=event, data=[HOSTILE], nsp="/" + HOSTILE)
    refused = sio("CONNECT_ERROR", 1.0, "s2c", data={"message": HOSTILE})
    error = ErrorRecord(ts=1.0, sid=HOSTILE, layer="x", rule=HOSTILE, reason=HOSTILE)
    ping = eio("ping", 1.0, "s2c", data=HOSTILE)
    out = write_all([event, ack, refused, error, ping], color=color)
    assert_safe(out)
    assert "[bold red]boom" in out  # shown literally, never interpreted as rich markup
    assert "\\x1b[2J" in out and "\\u202e" in out and "\\r" in out
    if color:
        assert "\x1b[" in out  # colours are on


def test_color_and_plain_have_the_same_text() -> None:
    record = sio("EVENT", 1.0, "c2s", event="chat", args=["hi"], id=1)
    plain = write_all([record])
    colored = write_all([record], color=True)
    assert _SGR.sub("", colored) == plain


def test_time_modes() -> None:
    assert Clock("utc")(0.25) == "00:00:00.250"
    relative = Clock("relative")
    assert relative(10.0).strip() == "+0.000" and relative(11.5).strip() == "+1.500"
    assert Clock("none")(5.0) == ""


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(deadline=None, max_examples=200)
@given(name=st.text(max_size=30), arg=st.text(max_size=30), color=st.booleans())
def test_any_wire_text_is_safe(name: str, arg: str, color: bool) -> None:
    event = sio("EVENT", 1.0, "c2s", event=name, args=[arg, {arg: [name]}], id=1, nsp="/" + arg)
    ack = sio("ACK", 1.1, "s2c", id=1, answers=event, data=[arg])
    assert_safe(write_all([event, ack], color=color))
