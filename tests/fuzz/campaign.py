"""The fuzzing campaign: mutated real captures, HAR files, lines and proxy streams.

Run ``python tests/fuzz/campaign.py --source pcap --seconds 300`` (``make fuzz`` runs every
source for ``FUZZ_SECONDS``); ``tests/fuzz/test_campaign.py`` runs a short, seeded round of each
in the test suite. Per source, each input is a seed from the corpus with *one* part damaged:

* ``pcap`` / ``pcapng``: the bundled captures (tests/data/*.pcap; pcapng written from them
  with the test writer); one frame is mutated (bytes flipped, inserted, deleted, cut,
  repeated), sometimes the file header instead;
* ``har``: the bundled HAR files (tests/data/har) and a generated one; one entry is mutated
  (a field replaced by an absurd JSON value, or bytes of its text damaged);
* ``lines``: generated lines of Engine.IO/Socket.IO traffic; one line is mutated;
* ``proxy``: a client byte stream of HTTP requests through the proxy's RequestFramer; one
  request is mutated.

Per input the checks are:

* **no exception escapes**: decoding through a Pipeline raises nothing, no plugin fails
  (``plugin_failures``), no decoder reports its own bug (rules ``*.internal``);
* **no silent loss**: the records of the undamaged parts still appear (pcap: every Engine.IO
  record of the connections the mutated frame did not belong to; har: of the other entries;
  lines: of the other lines; proxy: every request before the damaged one is forwarded
  byte for byte);
* **bounded memory**: the process's peak RSS is reported (and bounded by the test).

The report is one JSON object per source: inputs tried, failures (with a reproducer seed),
peak RSS.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _path in (HERE.parent / "pcap", ROOT / "plugins"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from ioproto_pcap.files import FrameReader, open_input  # noqa: E402
from ioproto_proxy.framing import RequestFramer  # noqa: E402
from pcapbuild import http_request, write_pcap, write_pcapng  # noqa: E402

import ioproto  # noqa: E402
import ioproto.jsonform  # noqa: E402
import ioproto.pipeline  # noqa: E402
from ioproto.model import ErrorRecord, Record  # noqa: E402
from ioproto.timestamps import usable  # noqa: E402

SOURCES = ("pcap", "pcapng", "har", "lines", "proxy")
DATA = ROOT / "tests" / "data"
ABSURD = (
    "1e400",
    "-1e400",
    "NaN",
    "1" + "0" * 400,
    "null",
    "true",
    '"x"',
    "[]",
    "{}",
    '"' + "\\u0000" * 20 + '"',
    "-1",
    "0",
    "4294967296",
)


class Failure(Exception):
    """A check that did not hold for one input."""


# -- mutations ---------------------------------------------------------------------------


def mutate(rng: random.Random, data: bytes) -> bytes:
    """``data`` with one random damage: flipped, inserted, deleted, cut or repeated bytes."""
    if not data:
        return bytes([rng.randrange(256)])
    choice = rng.randrange(6)
    at = rng.randrange(len(data))
    if choice == 0:
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            damaged[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(damaged)
    if choice == 1:
        return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[at:]
    if choice == 2:
        return data[:at] + data[at + rng.randint(1, 16) :]
    if choice == 3:
        return data[:at]
    if choice == 4:
        size = rng.randint(1, 64)
        return data[:at] + data[at : at + size] * rng.randint(2, 50) + data[at:]
    interesting = (b"\x00", b"\xff", b"\x1e", b":", b"[", b"{", b'"', b"\\", b"\r\n", b"9" * 30)
    return data[:at] + rng.choice(interesting) + data[at + 1 :]


# -- decoding and checks -------------------------------------------------------------------


def decode(path: Path, proto: str = "socketio") -> list[Record]:
    """Every record of ``path`` through a pipeline with classifiers and no sinks."""
    pm, components = _components()
    pipeline = ioproto.Pipeline.build(proto=proto, plugin_manager=pm, components=components)
    chosen = ioproto.pipeline.resolve_source(components, str(path))
    records: list[Record] = []
    for record in chosen.open(str(path), ioproto.SourceContext()):
        records += pipeline.feed(record)
    records += pipeline.close()
    if pipeline.summary.plugin_failures:
        raise Failure(f"plugin failures: {dict(pipeline.summary.plugin_failures)}")
    for record in records:
        if isinstance(record, ErrorRecord) and (
            record.rule.endswith(".internal") or record.rule == "plugin.crash"
        ):
            raise Failure(f"{record.rule}: {record.reason}")
        if not usable(record.ts):
            raise Failure(f"unusable time {record.ts!r} on {record.layer}/{record.type}")
        ioproto.jsonform.dumps(record)
    return records


_COMPONENTS: list[Any] = []


def _components() -> tuple[Any, Any]:
    """A plugin manager and its components shared by every input (loading them costs more
    than decoding a capture); building a pipeline on it keeps nothing in it."""
    if not _COMPONENTS:
        from ioproto.plugins import collect_components, make_plugin_manager

        pm = make_plugin_manager()
        _COMPONENTS[:] = [(pm, collect_components(pm))]
    return _COMPONENTS[0]  # type: ignore[no-any-return]


def project(record: Record) -> tuple[Any, ...]:
    return (record.connection, record.direction, record.layer, record.type, repr(record.data)[:200])  # type: ignore[attr-defined]


def packets(records: list[Record]) -> list[Record]:
    return [r for r in records if r.layer == "engineio" and not isinstance(r, ErrorRecord)]


def survived(before: list[Record], after: list[Record], keep: Callable[[Record], bool]) -> None:
    """Every Engine.IO packet of ``before`` that ``keep`` selects is in ``after`` too."""
    expected = Counter(project(r) for r in packets(before) if keep(r))
    found = Counter(project(r) for r in packets(after) if keep(r))
    missing = expected - found
    if missing:
        raise Failure(
            f"{sum(missing.values())} records of undamaged parts lost: {list(missing)[:3]}"
        )


# -- pcap and pcapng -------------------------------------------------------------------------


def read_frames(path: Path) -> list[tuple[float, int, bytes]]:
    with open_input(str(path)) as stream:
        return list(FrameReader(stream))


def tcp_connection(frame: bytes) -> str | None:
    """``client:port-server:port`` as the pcap source names it, for an Ethernet/IPv4 frame."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00":
        return None
    ip = frame[14:]
    header = (ip[0] & 0x0F) * 4
    src, dst = ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20]))
    tcp = ip[header:]
    if len(tcp) < 4:
        return None
    sport, dport = int.from_bytes(tcp[0:2], "big"), int.from_bytes(tcp[2:4], "big")
    return f"{src}:{sport}-{dst}:{dport}|{dst}:{dport}-{src}:{sport}"


class CaptureTarget:
    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.seeds = [
            (path.name, read_frames(path), self._decode_seed(path))
            for path in sorted(DATA.glob("*.pcap"))
        ]

    def _decode_seed(self, path: Path) -> list[Record]:
        copy = self.workdir / f"seed-{path.stem}.{self.kind}"
        self._write(copy, read_frames(path))
        return decode(copy, "engineio")

    def _write(self, path: Path, frames: list[tuple[float, int, bytes]]) -> bytes:
        if self.kind == "pcapng":
            return write_pcapng(path, frames)
        return write_pcap(path, frames)

    def one(self, rng: random.Random) -> None:
        _name, frames, before = rng.choice(self.seeds)
        path = self.workdir / f"input.{self.kind}"
        if rng.random() < 0.05:  # the file header (or any byte of the file)
            data = mutate(rng, self._write(path, frames))
            path.write_bytes(data)
            decode(path)
            return
        index = rng.randrange(len(frames))
        ts, linktype, frame = frames[index]
        damaged = list(frames)
        mutated = mutate(rng, frame)
        damaged[index] = (ts, linktype, mutated)
        self._write(path, damaged)
        after = decode(path, "engineio")
        # The damaged frame touches its own connection and, if its addresses or ports were
        # hit, the one it now claims to belong to.
        touched = [tcp_connection(frame), tcp_connection(mutated)]
        if touched[0] is None:
            return
        names = {name for pair in touched if pair for name in pair.split("|")}
        sids = {r.sid for r in before if r.connection in names and r.sid}
        survived(
            before,
            after,
            lambda r: r.connection not in names and (r.sid is None or r.sid not in sids),
        )


# -- HAR -----------------------------------------------------------------------------------


class HarTarget:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.seeds = []
        for path in sorted((DATA / "har").glob("*.har")):
            document = json.loads(path.read_text())
            self.seeds.append((path.name, document, decode(path, "engineio")))

    def one(self, rng: random.Random) -> None:
        _name, document, before = rng.choice(self.seeds)
        entries = document["log"]["entries"]
        index = rng.randrange(len(entries))
        entry = json.loads(json.dumps(entries[index]))
        text = json.dumps(entry)
        if rng.random() < 0.5:
            paths = list(_leaves(entry))
            if paths:
                path = rng.choice(paths)
                target = entry
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = "__ABSURD__"
                text = json.dumps(entry).replace('"__ABSURD__"', rng.choice(ABSURD))
        else:
            text = mutate(rng, text.encode()).decode("utf-8", "replace")
        parts = [json.dumps(e) for e in entries]
        parts[index] = text
        path = self.workdir / "input.har"
        path.write_text('{"log":{"version":"1.2","entries":[' + ",".join(parts) + "]}}")
        after = decode(path, "engineio")
        broken = [r for r in after if isinstance(r, ErrorRecord) and r.rule == "har.file.invalid"]
        # Where the damage breaks the file's JSON, the entries before it are still read.
        damaged = entries[index:] if broken else entries[index : index + 1]
        if not broken or "after its entry" in broken[0].reason:
            lost = {r.connection for r in before if any(_entry_of(r, e) for e in damaged)}
            survived(before, after, lambda r: r.connection not in lost)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            yield from _leaves(item, (*path, index))
    elif path:
        yield path


def _entry_of(record: Record, entry: dict[str, Any]) -> bool:
    """Whether ``record`` may come from ``entry`` (same connection id or server)."""
    connection = str(record.connection or "")
    marker = str(entry.get("connection") or "")
    return (marker and f"har:{marker}-" in connection) or "entry" in connection


# -- lines ----------------------------------------------------------------------------------

LINE_SHAPES = (
    '42["chat",{"text":"hi"}]',
    '421["ask",1,2]',
    '431["ok"]',
    "2",
    "3",
    "40",
    '40/admin,{"token":"x"}',
    '451-["up",{"_placeholder":true,"num":0}]',
    "hex: 04 01 02",
    '4hello\\x1e2\\x1e42["x"]',
    "6",
    "1",
)


class LinesTarget:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir

    def one(self, rng: random.Random) -> None:
        lines = [rng.choice(LINE_SHAPES) for _ in range(rng.randint(3, 30))]
        header = ["#! sid=s1 direction=c2s"]
        index = rng.randrange(len(lines))
        damaged = list(lines)
        damaged[index] = mutate(rng, lines[index].encode()).decode("latin-1")
        path = self.workdir / "input.lines"
        path.write_bytes("\n".join(header + damaged).encode("latin-1") + b"\n")
        after = decode(path, "engineio")
        if damaged[index].lstrip().startswith("#"):
            return  # a comment or a directive now: it may change every later line
        # The same lines without the damaged one: all their records must still be there.
        clean = self.workdir / "clean.lines"
        clean.write_text("\n".join(header + lines[:index] + lines[index + 1 :]) + "\n")
        before = decode(clean, "engineio")

        def key(record: Record) -> tuple[str, str, str]:
            root = list(record.lineage())[-1]
            text = bytes(getattr(root, "data", b"")).decode("latin-1")
            return text, record.type, repr(getattr(record, "data", None))[:200]

        lost = Counter(key(r) for r in packets(before)) - Counter(key(r) for r in packets(after))
        if lost:
            raise Failure(f"records of undamaged lines lost: {list(lost)[:3]}")


# -- the proxy's framing ----------------------------------------------------------------------


class ProxyTarget:
    def one(self, rng: random.Random) -> None:
        requests = []
        for number in range(rng.randint(2, 8)):
            if rng.random() < 0.5:
                body = f'42["n",{number}]'.encode()
                requests.append(
                    http_request("POST", f"/socket.io/?EIO=4&transport=polling&n={number}", body)
                )
            else:
                requests.append(
                    http_request("GET", f"/socket.io/?EIO=4&transport=polling&n={number}")
                )
        index = rng.randrange(len(requests))
        damaged = list(requests)
        damaged[index] = mutate(rng, requests[index])
        stream = b"".join(damaged)
        framer = RequestFramer(lambda raw, head: raw + b"\r\n\r\n")
        out = bytearray()
        position = 0
        while position < len(stream):
            size = rng.randint(1, 400)
            out += framer.feed(stream[position : position + size])
            position += size
            while framer.pending:
                framer.pending.popleft()
        intact = b"".join(requests[:index])
        if not bytes(out).startswith(intact):
            raise Failure("requests before the damaged one were not forwarded whole")


# -- the campaign ---------------------------------------------------------------------------


def target(source: str, workdir: Path) -> Any:
    if source in ("pcap", "pcapng"):
        return CaptureTarget(source, workdir)
    if source == "har":
        return HarTarget(workdir)
    if source == "lines":
        return LinesTarget(workdir)
    return ProxyTarget()


def peak_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(
    source: str,
    workdir: Path,
    *,
    seconds: float = 0,
    count: int = 0,
    seed: int = 0,
    progress: int = 0,
) -> dict[str, Any]:
    """Fuzz ``source`` for ``seconds`` or ``count`` inputs; the report (see module doc).

    ``progress``: print the running counts on stderr every that many inputs."""
    fuzzed = target(source, workdir)
    started = time.monotonic()
    tried = 0
    failures: list[dict[str, Any]] = []
    while (count and tried < count) or (seconds and time.monotonic() - started < seconds):
        case = seed * 1_000_000_007 + tried
        try:
            fuzzed.one(random.Random(case))
        except Failure as exc:
            failures.append({"seed": case, "check": str(exc)[:500]})
        except Exception as exc:
            failures.append(
                {
                    "seed": case,
                    "exception": f"{type(exc).__name__}: {exc}"[:500],
                    "where": traceback.format_exc().splitlines()[-3:],
                }
            )
        tried += 1
        if progress and tried % progress == 0:
            print(
                json.dumps({"source": source, "inputs": tried, "failures": len(failures)}),
                file=sys.stderr,
                flush=True,
            )
    return {
        "source": source,
        "inputs": tried,
        "failures": len(failures),
        "first_failures": failures[:10],
        "seconds": round(time.monotonic() - started, 1),
        "peak_rss_mb": round(peak_rss() / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=SOURCES, action="append")
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--count", type=int, default=0, help="inputs per source instead")
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--case", type=int, help="replay one input by its seed")
    arguments = parser.parse_args()
    import tempfile

    from ioproto.memory import return_large_blocks

    return_large_blocks()
    with tempfile.TemporaryDirectory() as folder:
        failed = False
        for source in arguments.source or SOURCES:
            if arguments.case is not None:
                fuzzed = target(source, Path(folder))
                fuzzed.one(random.Random(arguments.case))
                print(f"{source}: case {arguments.case} passed")
                continue
            report = run(
                source,
                Path(folder),
                seconds=0 if arguments.count else arguments.seconds,
                count=arguments.count,
                seed=arguments.seed,
                progress=1000,
            )
            print(json.dumps(report), flush=True)
            failed = failed or bool(report["failures"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()


__all__ = ["SOURCES", "Failure", "run"]
