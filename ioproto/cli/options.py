"""Options shared by the commands that run a pipeline (``decode``, and plugins' commands)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

import attrs
import click

from ioproto.components import Limits
from ioproto.layers import layer_names
from ioproto.optionvalues import parse_size

from .state import CliState

if TYPE_CHECKING:
    _FloatParamType = click.ParamType[float]
    _IntParamType = click.ParamType[int]
else:  # click < 8.2 has no generic ParamType at run time
    _FloatParamType = click.ParamType
    _IntParamType = click.ParamType

F = TypeVar("F", bound=Callable[..., Any])


class Duration(_FloatParamType):
    """A duration: ``10s``, ``1.5m``, ``250ms``, ``2h`` or plain seconds (``30``)."""

    name = "duration"
    _PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
    _UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int | float):
            return float(value)
        match = self._PATTERN.match(str(value))
        if match is None:
            self.fail(f"{value!r} is not a duration like 10s, 2m or 500ms", param, ctx)
        return float(match.group(1)) * self._UNITS[match.group(2)]


DURATION = Duration()


class ByteCount(_IntParamType):
    """A number of bytes, written as ``--limit`` and the components' size options take it: a
    whole number, optionally with ``K``, ``M`` or ``G`` (powers of 1024: ``16M``, ``64KiB``;
    :func:`~ioproto.optionvalues.parse_size`), at least ``minimum``."""

    name = "bytes"

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            size: int | None = value
        else:
            size = parse_size(str(value))
        if size is None:
            self.fail(f"{value!r} is not a number of bytes like 16M, 64K or 1048576", param, ctx)
        if size < self.minimum:
            self.fail(f"{value!r}: give {self.minimum} or more", param, ctx)
        return size


def named_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The callback of an option naming a file to write (``--chart``, ``--export``,
    ``--har``): an empty name (``--chart "$OUT"`` with ``OUT`` unset) is a mistake, not the
    option left out, which the command would otherwise take it for."""
    if value == "":
        raise click.BadParameter("the path is empty; give a file name", ctx=ctx, param=param)
    return value


#: ``--duration``: for commands that run until Ctrl-C (live sources, the demo).
duration_option = click.option(
    "--duration",
    type=DURATION,
    metavar="DURATION",
    help="Stop by itself after this long, e.g. 30s or 5m (default: Ctrl-C).",
)


def parse_key_values(
    values: Sequence[str], what: str, *, allow_empty: bool = True
) -> dict[str, str]:
    """``["a=1", "b=2"]`` → ``{"a": "1", "b": "2"}``; a bad item is a usage error, and so
    is an empty value (``a=``) unless ``allow_empty`` (the option readers take an empty
    value for an absent one: a forgotten value would silently be the default), and a key
    given twice with two values."""
    parsed: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=what)
        if not allow_empty and not value.strip():
            raise click.BadParameter(
                f"{item!r} gives {key.strip()} no value; give one after '=' "
                "(or leave the option out for its default)",
                param_hint=what,
            )
        key = key.strip()
        if parsed.get(key, value) != value:
            raise click.BadParameter(
                f"{key} is given twice ({parsed[key]!r} and {value!r}); give it once",
                param_hint=what,
            )
        parsed[key] = value
    return parsed


def parse_limits(values: Sequence[str], max_payload: int | None = None) -> Limits:
    """``--limit NAME=VALUE`` items (and ``--max-payload``) as :class:`~ioproto.Limits`.

    ``NAME`` is a field of ``Limits``; ``VALUE`` a whole number, optionally with ``K``,
    ``M`` or ``G`` (powers of 1024). Anything else is a usage error naming the valid names.
    """
    names = [field.name for field in attrs.fields(Limits)]
    settings: dict[str, int] = {}
    if max_payload is not None:
        settings["max_payload"] = max_payload
    for item in values:
        if item.strip().isdigit():
            raise click.BadParameter(
                f"{item!r} is not NAME=VALUE: --limit bounds what decoding keeps (e.g. "
                "max_payload=1M); to see the first N records, pipe the output into head -n N",
                param_hint="--limit",
            )
    for name, text in parse_key_values(values, "--limit").items():
        if name not in names:
            from ioproto.suggest import did_you_mean

            raise click.BadParameter(
                f"unknown limit {name!r}{did_you_mean(name, names)}; known: {', '.join(names)}",
                param_hint="--limit",
            )
        size = parse_size(text)
        if size is None or size < 1:
            raise click.BadParameter(
                f"{name}={text!r}: give a positive whole number, e.g. 64M", param_hint="--limit"
            )
        settings[name] = size
    return Limits(**settings)


class _LayerOption(click.Option):
    """``--proto``: its help lists the layers of the installed plugins."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)
        state = ctx.find_object(CliState)
        if record is None or state is None:
            return record
        try:
            layers = layer_names(state.components)
        except Exception:  # a broken plugin must not break --help
            return record
        names, text = record
        return names, text.replace("this layer.", f"this layer: {', '.join(layers)}.", 1)


def input_options(func: F) -> F:
    """INPUT... plus --source, --source-option, --port."""
    return _input_options(func, required=True)


def optional_input_options(func: F) -> F:
    """Like :func:`input_options`, for a command that may take its data from elsewhere
    (``ioproto stats --from DIR``): INPUT may be left out."""
    return _input_options(func, required=False)


def _input_options(func: F, *, required: bool) -> F:
    for decorator in reversed(
        [
            click.argument("inputs", nargs=-1, required=required, metavar="INPUT..."),
            click.option(
                "--source",
                "source",
                metavar="NAME",
                help="Capture source to read INPUT with (default: guessed from each input).",
            ),
            click.option(
                "--source-option",
                "source_options",
                multiple=True,
                metavar="KEY=VALUE",
                help="Option for the capture source (repeatable; docs/cli.md lists them, "
                "an unknown one is an error).",
            ),
            click.option(
                "--port",
                "ports",
                type=click.IntRange(1, 65535),
                multiple=True,
                help="Only TCP connections with this server port (repeatable; pcap, live).",
            ),
        ]
    ):
        func = decorator(func)
    return func


def decode_options(func: F) -> F:
    """--proto, --filter, --decode-option, --strict, --all-layers, --max-payload, --limit,
    --no-classify."""
    for decorator in reversed(
        [
            click.option(
                "--proto",
                cls=_LayerOption,
                default="socketio",
                show_default=True,
                metavar="LAYER",
                help="Decode up to this layer.",
            ),
            click.option(
                "-f",
                "--filter",
                "filters",
                multiple=True,
                metavar="EXPR",
                help='Only records matching EXPR, e.g. \'sio.event == "chat" and '
                "latency.ack_rtt > 50ms' (repeatable: all must hold; `ioproto fields` lists "
                "the fields, docs/filters.md the language).",
            ),
            click.option(
                "-D",
                "--decode-option",
                "decode_options",
                multiple=True,
                metavar="KEY=VALUE",
                help="Option for the decoders (repeatable; docs/cli.md lists them, an "
                "unknown one is an error).",
            ),
            click.option(
                "--strict",
                is_flag=True,
                help="Stop at the first plugin failure instead of recording it.",
            ),
            click.option(
                "--all-layers",
                is_flag=True,
                help="Also emit the records a higher layer decoded further, and the empty "
                "WebSocket control frames the text and monitor views leave out.",
            ),
            click.option(
                "--max-payload",
                type=ByteCount(1),
                metavar="BYTES",
                help="Largest chunk a decoder will look at (default 16M; sizes take K, M, G).",
            ),
            click.option(
                "--limit",
                "limit_settings",
                multiple=True,
                metavar="NAME=VALUE",
                help="Set a decoding limit (repeatable; sizes take K, M, G): max_pending_bytes "
                "(default 32M), max_state_bytes (64M), max_pending, max_sessions, ... "
                "See docs/cli.md.",
            ),
            click.option(
                "--no-classify",
                "no_classify",
                multiple=True,
                metavar="NAME",
                help="Turn off a classifier (repeatable; 'all' turns off every one).",
            ),
        ]
    ):
        func = decorator(func)
    return func


_DEFAULT_SINK = "monitor on a terminal, text otherwise"


@overload
def output_options(func: F) -> F: ...


@overload
def output_options(*, default_sink: str = _DEFAULT_SINK) -> Callable[[F], F]: ...


def output_options(func: F | None = None, *, default_sink: str = _DEFAULT_SINK) -> Any:
    """--sink, --sink-option, --output, --color/--no-color. ``default_sink`` says in the
    help what the command writes to without ``--sink``: ``@output_options`` or
    ``@output_options(default_sink="stats")``."""
    if func is None:
        return functools.partial(output_options, default_sink=default_sink)
    for decorator in reversed(
        [
            click.option(
                "--sink",
                "sinks",
                multiple=True,
                metavar="NAME[:PATH]",
                help="Where records go (repeatable): a sink name, optionally with a file to "
                f"write to. Default: {default_sink}.",
            ),
            click.option(
                "--sink-option",
                "sink_options",
                multiple=True,
                metavar="[SINK.]KEY=VALUE",
                help="Option for the sinks, or for one sink when prefixed with its name "
                "(repeatable).",
            ),
            click.option(
                "-o",
                "--output",
                type=click.Path(dir_okay=False, allow_dash=True),
                default="-",
                help="File the sinks without their own PATH write to (default: stdout).",
            ),
            click.option(
                "--color/--no-color",
                default=None,
                help="Colour the output (default: only on a terminal).",
            ),
        ]
    ):
        func = decorator(func)
    return func


def live_options(stops: str = "Ctrl-C") -> Callable[[F], F]:
    """--every and --duration, for commands that run a live source; ``stops`` says what
    else ends the run (shown in --duration's help)."""

    def decorate(func: F) -> F:
        func = click.option(
            "--duration",
            type=DURATION,
            metavar="DURATION",
            help=f"Stop by itself after this long (default: {stops}).",
        )(func)
        return click.option(
            "--every",
            type=DURATION,
            metavar="DURATION",
            help="Ask sinks that keep totals (stats) for a snapshot this often, e.g. 10s.",
        )(func)

    return decorate
